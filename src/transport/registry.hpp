// File: transport/registry.hpp
// Every live client connection, per shard: runs each connection's tick (pings, pong timeouts,
// stale connects, expiry) when that connection says it next needs one, from one timer per
// shard and a deadline heap, so idle connections cost nothing between their pings. Closes
// everyone with 3001 on shutdown.
#pragma once

#include "model/disconnect.hpp"
#include "runtime/shard_set.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace gyre::transport {

/// What the registry needs from a connection (implemented by each transport).
class connection {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// Does what is due at `now`; returns when it next needs to run (time_point::max(): never
    /// again, e.g. closed).
    virtual time_point tick(time_point now) = 0;
    virtual void shutdown(model::disconnect d) = 0;

protected:
    connection() = default;
    connection(const connection&) = default;
    connection& operator=(const connection&) = default;
    ~connection() = default;

public:
    /// The registry's own bookkeeping (its table slot for this connection), so that finding
    /// a connection on each tick is an array access. Transports leave it alone.
    static constexpr std::uint32_t no_index = static_cast<std::uint32_t>(-1);
    std::uint32_t registry_slot = no_index;
};

class poller;

class registry {
public:
    /// `housekeeping(shard, now)` (optional) runs on each shard about once a second, from the
    /// same timer (node maintenance: expired history streams).
    using housekeeping_fn = std::function<void(std::size_t, std::chrono::steady_clock::time_point)>;

    /// `resolution`: how often each shard's timer looks for due connections.
    explicit registry(runtime::shard_set& shards,
                      std::chrono::milliseconds resolution = std::chrono::milliseconds(100),
                      housekeeping_fn housekeeping = nullptr);
    ~registry();

    /// Starts the per-shard timers. Call once, before the shards run.
    void start();

    /// Shard-local bookkeeping, called by connections on their own shard. A new connection
    /// gets its first tick right away.
    void add(std::size_t shard, connection* c);
    void remove(std::size_t shard, connection* c);

    /// Shard-local: ticks `c` no later than `when` (earlier than its current deadline).
    void wake(std::size_t shard, connection* c, connection::time_point when);

    /// Any thread: sends `d` to every connection, then waits until all are gone or `deadline`.
    void close_all(model::disconnect d, std::chrono::steady_clock::time_point deadline);

    std::size_t size() const noexcept { return count_.load(); }

    /// The shard's epoll set for connection sockets (see poller.hpp).
    poller& io(std::size_t shard) noexcept;

    struct shard_state; ///< per-shard timer, connections and deadlines (in registry.cpp)

private:
    runtime::shard_set& shards_;
    std::chrono::milliseconds resolution_;
    housekeeping_fn housekeeping_;
    std::vector<std::unique_ptr<shard_state>> states_;
    std::atomic<std::size_t> count_{0};
};

} // namespace gyre::transport
