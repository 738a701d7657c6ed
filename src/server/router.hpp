// File: server/router.hpp
// Maps request paths to handlers. Built once at start-up (later issues add their endpoints),
// then shared read-only by every shard. Exact paths win over prefixes; the longest prefix wins.
#pragma once

#include "server/http_types.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gyre::server {

/// Asynchronous handler: runs on the connection's shard and must call `done` once.
using handler = std::function<void(const http_request&, responder done)>;

class router {
public:
    struct route {
        std::string path;
        bool is_prefix = false;
        handler fn;
        std::size_t max_body_bytes = 0; ///< 0: the server's limit
    };

    /// `max_body_bytes` (0: the server's limit) caps this route's request bodies (413).
    void add(std::string path, handler h, std::size_t max_body_bytes = 0);
    void add_prefix(std::string prefix, handler h);
    /// Convenience for handlers that answer at once.
    void add_sync(std::string path, std::function<http_response(const http_request&)> h);

    /// The handler for `path`, or nullptr (the server answers 404).
    const handler* find(std::string_view path) const noexcept;
    const route* find_route(std::string_view path) const noexcept;

    /// Names of the endpoint groups served, for the start-up log line.
    void describe(std::string group) { groups_.push_back(std::move(group)); }

    const std::vector<std::string>& groups() const noexcept { return groups_; }

private:
    std::vector<route> routes_;
    std::vector<std::string> groups_;
};

} // namespace gyre::server
