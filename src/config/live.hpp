// File: config/live.hpp
// The running configuration, swappable at run time (SIGHUP) without blocking readers: shards
// load() a snapshot; the reloading thread store()s a new one. reloaded() decides what a reload
// may change: token verification settings and channel/namespace options, as Centrifugo does.
#pragma once

#include "config/config.hpp"

#include <atomic>
#include <memory>

namespace gyre::config {

class live_config {
public:
    explicit live_config(std::shared_ptr<const config> initial)
        : current_(std::move(initial)) {}

    std::shared_ptr<const config> load() const noexcept { return current_.load(); }

    void store(std::shared_ptr<const config> next) noexcept { current_.store(std::move(next)); }

private:
    std::atomic<std::shared_ptr<const config>> current_;
};

/// The running config with the reloadable parts taken from `fresh`; everything else
/// (listeners, engine, ...) keeps its running value until restart.
config reloaded(const config& running, const config& fresh);

} // namespace gyre::config
