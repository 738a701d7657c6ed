// File: session/context.hpp
// What every session on a node shares: the node, and the current settings (config snapshot plus
// token verifiers built from it). Each shard keeps its own pointer to the settings, refreshed by
// update() on reload, so reading them costs no atomic and no lock on the hot path.
#pragma once

#include "auth/token_verifier.hpp"
#include "config/config.hpp"
#include "node/node.hpp"
#include "session/proxies.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gyre::session {

class session;

struct settings {
    std::shared_ptr<const config::config> cfg;
    auth::token_verifier connection_tokens;
    std::optional<auth::token_verifier> subscription_tokens; ///< client.subscription_token.enabled

    /// Builds verifiers from `cfg`; throws config::config_error on bad keys. `keys` caches
    /// JWKS keys across reloads (may be null).
    static std::shared_ptr<const settings> make(std::shared_ptr<const config::config> cfg,
                                                std::shared_ptr<auth::jwks_cache> keys = nullptr);

    const auth::token_verifier& subscription_verifier() const noexcept {
        return subscription_tokens ? *subscription_tokens : connection_tokens;
    }
};

/// Fetches a URL off the shards (JWKS); `done` gets the body, or nullopt on any failure.
using fetch_fn =
    std::function<void(std::string url, unique_function<void(std::optional<std::string>)> done)>;

class context {
public:
    context(node::node& n,
            std::shared_ptr<const settings> initial,
            std::string node_name,
            fetch_fn fetch = nullptr);

    /// Fetches JWKS documents; without a fetcher every JWKS key is unavailable.
    const fetch_fn& fetch() const noexcept { return fetch_; }

    node::node& node() noexcept { return node_; }

    /// The backend proxies (set once before the shards start; null: none configured).
    const proxies* backend() const noexcept { return proxies_; }

    void set_backend(const proxies* p) noexcept { proxies_ = p; }

    const std::string& node_name() const noexcept { return node_name_; }

    /// Shard-local read of the current settings.
    const std::shared_ptr<const settings>& current(std::size_t shard) const noexcept {
        return per_shard_[shard];
    }

    /// Any thread: publishes new settings to every shard (each swaps on its own thread).
    void update(std::shared_ptr<const settings> next);

    /// Shard-local: sessions with output queued during this loop turn. The first one queued
    /// posts a single task that flushes them all (Valkey's clients_pending_write), instead of
    /// one posted task per session per turn. Returns true when the caller must post it.
    bool queue_flush(std::size_t shard, std::shared_ptr<session> s);

    /// Shard-local: writes out every session queued by queue_flush().
    void flush_queued(std::size_t shard);

private:
    node::node& node_;
    const proxies* proxies_ = nullptr;
    std::string node_name_;
    fetch_fn fetch_;
    std::vector<std::shared_ptr<const settings>> per_shard_;
    std::vector<std::vector<std::shared_ptr<session>>> flush_queues_; // per shard
};

} // namespace gyre::session
