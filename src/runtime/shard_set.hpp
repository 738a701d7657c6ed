// File: runtime/shard_set.hpp
// Owns the shards (default: one per CPU core) and their threads.
// Usage: shard_set set(n); set.start(); ... set.settle(...); set.stop(); set.join();
#pragma once

#include "runtime/shard.hpp"

#include <chrono>
#include <memory>
#include <vector>

namespace gyre::runtime {

class shard_set {
public:
    /// count 0 means std::thread::hardware_concurrency().
    explicit shard_set(std::size_t count);

    std::size_t size() const noexcept { return shards_.size(); }

    shard& at(std::size_t i) noexcept { return *shards_[i]; }

    void start();
    /// Lets every shard run what was already queued on it (`rounds` times, so work queued by
    /// that work runs too), waiting until `deadline` at most. Shutdown calls it before stop():
    /// a handler abandoned by stop() is destroyed later, after the objects it points to.
    void settle(int rounds, std::chrono::steady_clock::time_point deadline);
    void stop();
    void join();

private:
    std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace gyre::runtime
