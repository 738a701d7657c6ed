// File: server/http_server.hpp
// The HTTP/1.1 server core: one SO_REUSEPORT acceptor per shard and listener, keep-alive,
// header/body limits (431/413/400 on violations), routing to handlers, graceful shutdown.
// Usage: http_server s(shards, limits, {listener{...}}); s.start(); ... s.shutdown(deadline);
#pragma once

#include "runtime/shard_set.hpp"
#include "server/router.hpp"
#include "server/upgrade.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gyre::server {

struct listener {
    std::string address;    ///< "" = all interfaces
    std::uint16_t port = 0; ///< 0 = pick a free port (see bound_port)
    std::shared_ptr<const router> routes;
    std::shared_ptr<const upgrade_routes> upgrades = std::make_shared<upgrade_routes>();
};

struct limits {
    std::size_t max_header_bytes = 16384;
    std::size_t max_body_bytes = 10485760;
    std::chrono::seconds idle_timeout{60};
    bool access_log = false;     ///< gyre.access_log: one structured line per request
    bool count_requests = false; ///< prometheus.instrument_http_handlers
};

class http_server {
public:
    http_server(runtime::shard_set& shards, limits lim, std::vector<listener> listeners);
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;
    ~http_server();

    /// Binds every listener on every shard. Throws std::runtime_error naming the address on
    /// failure (port in use, bad address). Call before shards start running.
    void start();

    /// The port listener `i` is bound to (useful when it was configured as 0).
    std::uint16_t bound_port(std::size_t i) const noexcept { return bound_ports_.at(i); }

    /// Stops accepting, closes idle keep-alive connections, lets in-flight requests finish, and
    /// waits until none remain or `deadline` passes. Blocking; call from a non-shard thread.
    void shutdown(std::chrono::steady_clock::time_point deadline);

    std::size_t active_connections() const noexcept { return active_.load(); }

    struct state; ///< per-shard bookkeeping, defined in http_server.cpp

private:
    runtime::shard_set& shards_;
    limits limits_;
    std::vector<listener> listeners_;
    std::vector<std::uint16_t> bound_ports_;
    std::vector<std::unique_ptr<state>> states_;
    std::atomic<std::size_t> active_{0};
};

} // namespace gyre::server
