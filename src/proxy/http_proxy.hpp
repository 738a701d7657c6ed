// File: proxy/http_proxy.hpp
// The HTTP flavour of the proxies: a POST of the request as JSON to the endpoint, the answer
// `{"result": …}`, `{"error": …}` or `{"disconnect": …}`. Each shard keeps its own pool of
// keep-alive connections to the backend and runs the exchange on its own loop (Beast, async),
// so a slow backend never blocks a shard and no lock is shared between shards.
#pragma once

#include "proxy/proxy.hpp"
#include "runtime/shard_set.hpp"

#include <memory>
#include <string>

namespace gyre::proxy {

/// A client for `o.endpoint` (http://…; https is refused at start-up with a message).
std::unique_ptr<client> make_http_client(runtime::shard_set& shards, const options& o);

/// The JSON body sent for `req` (exposed for tests).
std::string encode_http_request(const client_context& ctx, const request& req, bool binary);

/// Reads a backend's JSON answer to a request of kind `req` (exposed for tests).
response decode_http_response(const request& req, std::string_view body, bool binary);

} // namespace gyre::proxy
