// File: proxy/proxy.hpp
// Event hooks to the application backend (Centrifugo's proxies): the session asks the backend
// whether a client may connect, subscribe, publish, refresh, sub_refresh or call an RPC, and the
// answer may change what happens (the user, the data, the expiry). One request/response model
// for both protocols: HTTP (JSON bodies, http_proxy.cpp) and gRPC (Centrifugo's proxy.proto,
// grpc_proxy.cpp). Calls are asynchronous and never block a shard: `done` runs on the shard
// that asked.
#pragma once

#include "core/unique_function.hpp"
#include "model/channel_override.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gyre::proxy {

/// What every request carries about the connection.
struct client_context {
    std::string client;
    std::string transport;           ///< "websocket", "http_stream", "sse", "uni_sse", ...
    std::string protocol;            ///< "json" or "protobuf"
    std::string encoding;            ///< "json" or "binary" (binary_encoding proxies)
    std::string user;                ///< not sent with connect
    std::optional<std::string> meta; ///< raw JSON object, with include_connection_meta
    /// Headers (HTTP) / metadata (gRPC) to forward: already filtered by the proxy's
    /// `http_headers` list, names lower-case.
    std::vector<std::pair<std::string, std::string>> headers;
};

// Payload fields (`data`, `info`) hold raw JSON text; with binary_encoding they hold the bytes
// and travel base64-encoded (`b64data`).

struct connect_request {
    std::string name;    ///< client SDK name
    std::string version; ///< client SDK version
    std::string data;    ///< the client's connect data (empty: none)
    std::vector<std::string> channels;
};

struct refresh_request {};

struct subscribe_request {
    std::string channel;
    std::string token;
    std::string data;
};

struct publish_request {
    std::string channel;
    std::string data;
};

struct sub_refresh_request {
    std::string channel;
};

struct rpc_request {
    std::string method;
    std::string data;
};

using request = std::variant<connect_request,
                             refresh_request,
                             subscribe_request,
                             publish_request,
                             sub_refresh_request,
                             rpc_request>;

/// Channel option overrides a backend may set for a subscription (SubscribeOptionOverride).
using option_override = model::channel_override;

/// A server-side subscription with its options (SubscribeOptions of a connect result).
using subscribe_options = model::server_subscription;

struct connect_result {
    std::string user;
    std::int64_t expire_at = 0;
    std::string info;
    std::string data;
    std::vector<std::string> channels;
    std::map<std::string, subscribe_options> subs;
    std::string meta; ///< raw JSON object, kept server-side
};

struct refresh_result {
    bool expired = false;
    std::int64_t expire_at = 0;
    std::string info;
    std::string meta;
};

struct subscribe_result {
    std::int64_t expire_at = 0;
    std::string info;
    std::string data;
    option_override override_options;
};

struct publish_result {
    std::optional<std::string> data; ///< replaces the client's data when set
    bool skip_history = false;
};

struct sub_refresh_result {
    bool expired = false;
    std::int64_t expire_at = 0;
    std::string info;
};

struct rpc_result {
    std::string data;
};

using result = std::variant<connect_result,
                            refresh_result,
                            subscribe_result,
                            publish_result,
                            sub_refresh_result,
                            rpc_result>;

/// A client error the backend returns (codes 400-1999 are the application's).
struct error {
    std::uint32_t code = 0;
    std::string message;
    bool temporary = false;
};

/// A disconnect the backend asks for (4000-4999 are the application's).
struct disconnect {
    std::uint32_t code = 0;
    std::string reason;
};

/// The call failed: backend unreachable, timed out, answered garbage or a non-200 status
/// without a transform. The client gets Centrifugo's internal error (100) or disconnect.
struct failure {
    std::string what;
};

using response = std::variant<failure, error, disconnect, result>;

/// One proxy object of the configuration (client.proxy.connect, channel.proxy.publish,
/// rpc.proxy, proxies[] items, or the flat v5 keys).
struct options {
    std::string name;     ///< "default" or the proxies[] name
    std::string endpoint; ///< http(s)://… or grpc://host:port
    std::chrono::milliseconds timeout{1000};
    std::vector<std::string> http_headers; ///< lower-case names to forward
    bool binary_encoding = false;
    bool include_connection_meta = false;
    std::vector<std::pair<std::string, std::string>> static_headers; ///< http.static_headers

    /// http.status_to_code_transforms: a non-200 status becomes an error or a disconnect.
    struct status_transform {
        unsigned status = 0;
        std::optional<error> to_error;
        std::optional<disconnect> to_disconnect;
    };

    std::vector<status_transform> status_transforms;
    // gRPC
    std::string grpc_credentials_key;
    std::string grpc_credentials_value;
    bool grpc_compression = false;
    std::vector<std::pair<std::string, std::string>> grpc_static_metadata;

    bool is_grpc() const noexcept { return endpoint.starts_with("grpc://"); }
};

/// One configured proxy (an endpoint and how to talk to it).
class client {
public:
    explicit client(options o);

    client(const client&) = delete;
    client& operator=(const client&) = delete;
    virtual ~client() = default;

    /// Any shard: sends `req`; `done` runs on `shard` exactly once. Counted in Centrifugo's
    /// proxy metrics (duration, errors, in flight) by protocol, type and proxy name.
    void call(std::size_t shard,
              const client_context& ctx,
              request req,
              unique_function<void(response)> done);

    /// Header names (lower-case) this proxy forwards from the client's HTTP request.
    const std::vector<std::string>& forwarded_headers() const noexcept {
        return options_.http_headers;
    }

    /// The proxy sends and expects base64 payloads (binary_encoding).
    bool binary_encoding() const noexcept { return options_.binary_encoding; }

    /// The proxy wants the connection's meta in non-connect requests.
    bool include_connection_meta() const noexcept { return options_.include_connection_meta; }

protected:
    /// The protocol's exchange (HTTP or gRPC), with the same contract as call().
    virtual void send(std::size_t shard,
                      const client_context& ctx,
                      request req,
                      unique_function<void(response)> done) = 0;

    options options_;

private:
    struct call_metrics; ///< this proxy's metric children, by request type
    std::shared_ptr<call_metrics> metrics_;
};

} // namespace gyre::proxy
