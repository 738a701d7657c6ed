// File: server/http_types.hpp
// Plain request/response values that route handlers see. They keep Beast out of every handler
// translation unit: only http_server.cpp speaks Beast.
#pragma once

#include "core/unique_function.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gyre::server {

struct http_request {
    std::string method;
    std::string target; ///< path plus query, as received
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string remote_address;
    std::size_t shard = 0; ///< the shard serving the connection (handlers run on it)
    bool http11 = true;    ///< HTTP/1.1 (else 1.0)

    /// The first header named `name` (case-insensitive), or empty.
    std::string_view header(std::string_view name) const noexcept;
    /// The first query parameter `name`, percent-decoded, or empty.
    std::string query_param(std::string_view name) const;
};

struct http_response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// Set by streaming endpoints: instead of answering, the server hands the connection's
    /// socket descriptor over (the handler's transport owns it from then on).
    unique_function<void(int fd)> takeover;

    static http_response json(unsigned status, std::string body) {
        return {status, "application/json", std::move(body), {}, {}};
    }

    static http_response text(unsigned status, std::string body) {
        return {status, "text/plain; charset=utf-8", std::move(body), {}, {}};
    }
};

/// Completes a request. Must be called exactly once, from any thread.
using responder = unique_function<void(http_response)>;

} // namespace gyre::server
