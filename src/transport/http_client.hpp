// File: transport/http_client.hpp
// A small outgoing HTTP(S) GET client for control-plane fetches (JWKS keys). Requests run on
// one background thread, never on a shard; the callback is invoked on that thread.
#pragma once

#include "core/unique_function.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace gyre::transport {

struct http_get_result {
    bool ok = false;
    unsigned status = 0;
    std::string body;
    std::string error; ///< set when !ok
};

class http_client {
public:
    explicit http_client(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    ~http_client();

    /// Fetches `url` (http:// or https://, certificates verified against the system store).
    void get(std::string url, unique_function<void(http_get_result)> done);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace gyre::transport
