// File: transport/registry.hpp
// Every live client connection, per shard: drives the periodic session tick (pings, pong
// timeouts, stale connects, expiry) from one timer per shard instead of one per connection, and
// closes everyone with 3001 on shutdown.
#pragma once

#include "model/disconnect.hpp"
#include "runtime/shard_set.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

namespace gyre::transport {

/// What the registry needs from a connection (implemented by each transport).
class connection {
public:
    virtual void tick(std::chrono::steady_clock::time_point now) = 0;
    virtual void shutdown(model::disconnect d) = 0;

protected:
    connection() = default;
    connection(const connection&) = default;
    connection& operator=(const connection&) = default;
    ~connection() = default;
};

class registry {
public:
    /// `housekeeping(shard, now)` (optional) runs on each shard about once a second, from the
    /// same timer (node maintenance: expired history streams).
    using housekeeping_fn = std::function<void(std::size_t, std::chrono::steady_clock::time_point)>;

    explicit registry(runtime::shard_set& shards,
                      std::chrono::milliseconds tick = std::chrono::milliseconds(200),
                      housekeeping_fn housekeeping = nullptr);
    ~registry();

    /// Starts the per-shard tick timers. Call once, before the shards run.
    void start();

    /// Shard-local bookkeeping, called by connections on their own shard.
    void add(std::size_t shard, connection* c);
    void remove(std::size_t shard, connection* c);

    /// Any thread: sends `d` to every connection, then waits until all are gone or `deadline`.
    void close_all(model::disconnect d, std::chrono::steady_clock::time_point deadline);

    std::size_t size() const noexcept { return count_.load(); }

    struct shard_state; ///< per-shard timer and connection set (defined in registry.cpp)

private:
    runtime::shard_set& shards_;
    std::chrono::milliseconds tick_;
    housekeeping_fn housekeeping_;
    std::vector<std::unique_ptr<shard_state>> states_;
    std::atomic<std::size_t> count_{0};
};

} // namespace gyre::transport
