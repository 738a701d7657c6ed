// File: api/messages.hpp
// Server API requests and results as plain values, independent of the wire (JSON over HTTP
// today; gRPC and async consumers can decode into the same types). Field names follow
// Centrifugo's api.proto. Raw payloads (`data`, `info`) are the caller's original bytes.
#pragma once

#include "api/errors.hpp"
#include "model/channel_override.hpp"
#include "protocol/client/messages.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gyre::api {

/// The methods served, in the numbering of the legacy `/api` format (its `method` enum).
enum class method : std::uint8_t {
    publish = 0,
    broadcast = 1,
    unsubscribe = 2,
    disconnect = 3,
    presence = 4,
    presence_stats = 5,
    history = 6,
    history_remove = 7,
    channels = 8,
    info = 9,
    rpc = 10,
    subscribe = 11,
    refresh = 12,
    batch = 13, ///< not in the legacy enum (13 is unused there): only `/api/batch`
};

/// The method's name in URLs and batch commands ("presence_stats"), or nullopt.
std::optional<method> method_from_name(std::string_view name) noexcept;
std::string_view method_name(method m) noexcept;

using raw_bytes = std::string;

/// Payload fields shared by publish and broadcast.
struct publication_fields {
    raw_bytes data;
    std::string b64data;
    bool skip_history = false;
    std::map<std::string, std::string> tags;
    std::string idempotency_key;
    bool delta = false;
    std::uint64_t version = 0;
    std::string version_epoch;
};

struct publish_request {
    std::string channel;
    publication_fields pub;
};

struct broadcast_request {
    std::vector<std::string> channels;
    publication_fields pub;
};

struct subscribe_request {
    std::string channel;
    std::string user;
    std::int64_t expire_at = 0;
    raw_bytes info;
    std::string b64info;
    std::string client;
    raw_bytes data;
    std::string b64data;
    std::optional<protocol::client::stream_position> recover_since;
    model::channel_override override_options;
    std::string session;
};

struct unsubscribe_request {
    std::string channel;
    std::string user;
    std::string client;
    std::string session;
};

struct disconnect_request {
    std::string user;
    std::optional<std::pair<std::uint32_t, std::string>> disconnect; ///< code, reason
    std::string client;
    std::vector<std::string> whitelist;
    std::string session;
};

struct refresh_request {
    std::string user;
    std::string client;
    bool expired = false;
    std::int64_t expire_at = 0;
    raw_bytes info;
    std::string session;
};

struct channel_request { ///< presence, presence_stats, history_remove
    std::string channel;
};

struct history_request {
    std::string channel;
    std::int32_t limit = 0;
    std::optional<protocol::client::stream_position> since;
    bool reverse = false;
};

struct channels_request {
    std::string pattern;
};

struct info_request {};

struct rpc_request {
    std::string method;
    raw_bytes params;
};

struct batch_request;

/// One decoded request. `presence`, `presence_stats` and `history_remove` share a shape; the
/// method tells them apart.
struct request {
    method kind = method::publish;
    std::variant<publish_request,
                 broadcast_request,
                 subscribe_request,
                 unsubscribe_request,
                 disconnect_request,
                 refresh_request,
                 channel_request,
                 history_request,
                 channels_request,
                 info_request,
                 rpc_request,
                 std::shared_ptr<batch_request>>
        body;
};

struct batch_request {
    /// A command with no method Centrifugo knows is kept as an error (104 not found, 107 for
    /// `null`) so that its reply keeps its place.
    std::vector<std::variant<request, error>> commands;
    bool parallel = false;
};

// ---- results ------------------------------------------------------------------------------

struct publish_result {
    std::uint64_t offset = 0;
    std::string epoch;
};

struct reply;

struct broadcast_result {
    std::vector<reply> responses; ///< one per channel, in order
};

struct empty_result {}; ///< subscribe, unsubscribe, disconnect, refresh, history_remove

struct presence_result {
    std::map<std::string, protocol::client::client_info> presence;
};

struct presence_stats_result {
    std::uint32_t num_clients = 0;
    std::uint32_t num_users = 0;
};

struct history_result {
    std::vector<protocol::client::publication> publications;
    std::string epoch;
    std::uint64_t offset = 0;
};

struct channels_result {
    std::map<std::string, std::uint32_t> channels; ///< channel -> num_clients
};

struct node_info {
    std::string uid;
    std::string name;
    std::string version;
    std::uint32_t num_clients = 0;
    std::uint32_t num_users = 0;
    std::uint32_t num_channels = 0;
    std::uint32_t uptime = 0;
    std::uint32_t num_subs = 0;
    double cpu_percent = 0;      ///< `process.cpu`
    std::uint64_t rss_bytes = 0; ///< `process.rss`
};

struct info_result {
    std::vector<node_info> nodes;
};

struct rpc_result {
    raw_bytes data;
};

struct batch_result {
    std::vector<reply> replies;
};

/// The outcome of one request: an error, or the method's result.
struct reply {
    method kind = method::publish;
    std::optional<error> err;
    std::variant<empty_result,
                 publish_result,
                 broadcast_result,
                 presence_result,
                 presence_stats_result,
                 history_result,
                 channels_result,
                 info_result,
                 rpc_result,
                 batch_result>
        result;
};

} // namespace gyre::api
