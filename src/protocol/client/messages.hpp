// File: protocol/client/messages.hpp
// Plain value types for the Centrifugal client protocol v2 (docs: shared spec protocol.md §2):
// Command requests (client -> server), Reply results and errors, Push bodies and nested types.
// json_codec.hpp and protobuf_codec.hpp map them to bytes and back; nothing here does I/O.
// Payload fields (raw_bytes) hold the original bytes, never a re-serialised value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gyre::protocol::client {

/// Application payload (`data`, `info`, `conn_info`, `chan_info`, rpc data, ...). On JSON
/// connections it is the exact JSON text of the value as the client sent it (or as it will be
/// embedded verbatim); on Protobuf connections it is the content of the `bytes` field. Empty
/// means absent (JSON `null` decodes to empty too).
using raw_bytes = std::string;

// ---------------------------------------------------------------------------------------------
// Nested types (§2.5)
// ---------------------------------------------------------------------------------------------

struct client_info {
    std::string user{};    ///< always emitted in JSON, even when empty
    std::string client{};  ///< always emitted in JSON, even when empty
    raw_bytes conn_info{}; ///< omitted when empty
    raw_bytes chan_info{}; ///< omitted when empty

    bool operator==(const client_info&) const = default;
};

struct stream_position {
    std::uint64_t offset = 0;
    std::string epoch{};

    bool operator==(const stream_position&) const = default;
};

struct publication {
    raw_bytes data{};
    std::optional<client_info> info{}; ///< publisher (client-side publishes)
    std::uint64_t offset = 0;
    std::map<std::string, std::string> tags{};
    bool delta = false;    ///< `data` is a fossil delta against the previous publication
    std::int64_t time = 0; ///< Unix ms, 0 = absent
    std::string channel{}; ///< wildcard subscriptions only
    // v0.19 map / shared-poll subscriptions (emitted when non-zero; Gyre does not produce them yet)
    std::string key{};
    bool removed = false;
    std::int64_t score = 0; ///< sint64 (zigzag) in Protobuf
    std::string epoch{};
    std::uint64_t version = 0;
    // prev_data (field 15) is server-internal: never decoded into, never emitted.

    bool operator==(const publication&) const = default;
};

/// Tags filter (SubscribeRequest.tf, v0.17). A leaf has op "" and key/cmp/val(s); and/or/not
/// nodes have children. Depth is bounded by the decoders.
struct filter_node {
    std::string op{};
    std::string key{};
    std::string cmp{};
    std::string val{};
    std::vector<std::string> vals{};
    std::vector<filter_node> nodes{};

    bool operator==(const filter_node&) const = default;
};

/// Compression dictionary (v0.21, ConnectResult.dict). Never produced unless negotiated.
struct dictionary {
    std::string id{};
    raw_bytes data{};       ///< Protobuf connections (DEFLATE-compressed content)
    std::string data_b64{}; ///< JSON connections

    bool operator==(const dictionary&) const = default;
};

struct keyed_item {
    std::string key{};
    std::uint64_t version = 0;

    bool operator==(const keyed_item&) const = default;
};

struct track_batch {
    std::string signature{};
    std::vector<keyed_item> items{};

    bool operator==(const track_batch&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Requests (§2.3). Field comments give notes only where the name does not say it all.
// ---------------------------------------------------------------------------------------------

struct subscribe_request {
    std::string channel{};
    std::string token{};
    bool recover = false;
    std::string epoch{};
    std::uint64_t offset = 0;
    raw_bytes data{};
    bool positioned = false;
    bool recoverable = false;
    bool join_leave = false;
    std::string delta{}; ///< "" or "fossil"; anything else is a bad request (the session decides)
    std::optional<filter_node> tf{};
    std::int64_t flag = 0; ///< bit 1 channel compaction, bit 2 reject unrecovered
    std::int32_t type = 0; ///< 0 stream; 1..4 map / shared poll (v0.19)
    std::int32_t phase = 0;
    std::string cursor{};
    std::int32_t limit = 0;
    bool asc = false;

    bool operator==(const subscribe_request&) const = default;
};

struct connect_request {
    std::string token{};
    raw_bytes data{};
    std::map<std::string, subscribe_request> subs{}; ///< server-side subs to recover
    std::string name{};
    std::string version{};
    std::map<std::string, std::string> headers{};
    std::int64_t flag = 0;
    std::string dict{};
    std::string profile{};

    bool operator==(const connect_request&) const = default;
};

struct unsubscribe_request {
    std::string channel{};

    bool operator==(const unsubscribe_request&) const = default;
};

struct publish_request {
    std::string channel{};
    raw_bytes data{};
    std::int32_t type = 0; ///< 1 = map publish (v0.19)
    std::string key{};
    bool removed = false;

    bool operator==(const publish_request&) const = default;
};

struct presence_request {
    std::string channel{};

    bool operator==(const presence_request&) const = default;
};

struct presence_stats_request {
    std::string channel{};

    bool operator==(const presence_stats_request&) const = default;
};

struct history_request {
    std::string channel{};
    std::int32_t limit = 0;                 ///< 0 = none, < 0 = no limit (capped by config)
    std::optional<stream_position> since{}; ///< presence matters: absent = stream start/end
    bool reverse = false;

    bool operator==(const history_request&) const = default;
};

/// Deprecated `ping` command (field 11): decoded only so it can be rejected with 3501.
struct ping_request {
    bool operator==(const ping_request&) const = default;
};

struct send_request {
    raw_bytes data{};

    bool operator==(const send_request&) const = default;
};

struct rpc_request {
    raw_bytes data{};
    std::string method{};

    bool operator==(const rpc_request&) const = default;
};

struct refresh_request {
    std::string token{};

    bool operator==(const refresh_request&) const = default;
};

struct sub_refresh_request {
    std::string channel{};
    std::string token{};
    std::int32_t type = 0; ///< 0 refresh, 1 track, 2 untrack (v0.19)
    std::vector<track_batch> track{};
    std::vector<std::string> untrack{};

    bool operator==(const sub_refresh_request&) const = default;
};

/// Which request a command carries; the enumerator's value is the index of its alternative in
/// command::request_type.
enum class method : std::uint8_t {
    none, ///< no request field: a pong when id == 0, otherwise a bad request
    connect,
    subscribe,
    unsubscribe,
    publish,
    presence,
    presence_stats,
    history,
    ping, ///< deprecated: always answered with disconnect 3501 (spec §2.1 rule 4, §10.1)
    send,
    rpc,
    refresh,
    sub_refresh,
};

/// One decoded Command. The decoders keep exactly one request, chosen as Centrifuge dispatches
/// (§2.1): if id == 0 and no `send` is present the command is a pong and the request is
/// dropped (method::none); otherwise the first present of connect, subscribe, unsubscribe,
/// publish, presence, presence_stats, history, rpc, send, refresh, sub_refresh; otherwise ping
/// if that is all there is; otherwise none.
struct command {
    using request_type = std::variant<std::monostate,
                                      connect_request,
                                      subscribe_request,
                                      unsubscribe_request,
                                      publish_request,
                                      presence_request,
                                      presence_stats_request,
                                      history_request,
                                      ping_request,
                                      send_request,
                                      rpc_request,
                                      refresh_request,
                                      sub_refresh_request>;

    std::uint32_t id = 0;
    request_type request{};

    method kind() const noexcept { return static_cast<method>(request.index()); }

    /// Empty command with id 0 (normally `{}` or the byte 0x00): the answer to a server ping.
    bool is_pong() const noexcept { return id == 0 && kind() == method::none; }

    bool operator==(const command&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Results (§2.3)
// ---------------------------------------------------------------------------------------------

/// Reply.error. Library codes and messages are in codes.hpp (namespace `errors`).
struct error {
    std::uint32_t code = 0;
    std::string message{};
    bool temporary = false;

    bool operator==(const error&) const = default;
};

struct subscribe_result {
    bool expires = false;
    std::uint32_t ttl = 0;
    bool recoverable = false;
    std::string epoch{};
    std::vector<publication> publications{};
    bool recovered = false;
    std::uint64_t offset = 0;
    bool positioned = false;
    raw_bytes data{};
    bool was_recovering = false;
    bool delta = false;
    std::int64_t id = 0; ///< channel compaction (PRO only); 0 = absent
    // v0.19 map subscriptions
    std::int32_t type = 0;
    std::int32_t phase = 0;
    std::string cursor{};
    std::vector<publication> state{};
    std::uint32_t publish_debounce = 0; ///< ms

    bool operator==(const subscribe_result&) const = default;
};

struct connect_result {
    std::string client{};
    std::string version{};
    bool expires = false;
    std::uint32_t ttl = 0;
    raw_bytes data{};
    std::map<std::string, subscribe_result> subs{}; ///< server-side subscriptions
    std::uint32_t ping = 0;                         ///< seconds; 0 = no pings
    bool pong = false;
    std::string session{}; ///< emulation / unidirectional only
    std::string node{};    ///< emulation only
    std::int64_t time = 0;
    std::int64_t flag = 0;
    std::optional<dictionary> dict{};

    bool operator==(const connect_result&) const = default;
};

struct unsubscribe_result {
    bool operator==(const unsubscribe_result&) const = default;
};

struct publish_result {
    bool operator==(const publish_result&) const = default;
};

struct presence_result {
    std::map<std::string, client_info> presence{}; ///< client id -> info; always emitted in JSON

    bool operator==(const presence_result&) const = default;
};

struct presence_stats_result {
    std::uint32_t num_clients = 0; ///< always emitted in JSON
    std::uint32_t num_users = 0;   ///< always emitted in JSON

    bool operator==(const presence_stats_result&) const = default;
};

struct history_result {
    std::vector<publication> publications{}; ///< always emitted in JSON (`[]` when empty)
    std::string epoch{};                     ///< always emitted in JSON
    std::uint64_t offset = 0;                ///< always emitted in JSON

    bool operator==(const history_result&) const = default;
};

/// Never sent by Gyre (the ping command is rejected); present for completeness of Reply.
struct ping_result {
    bool operator==(const ping_result&) const = default;
};

struct rpc_result {
    raw_bytes data{};

    bool operator==(const rpc_result&) const = default;
};

struct refresh_result {
    std::string client{};
    std::string version{};
    bool expires = false;
    std::uint32_t ttl = 0;

    bool operator==(const refresh_result&) const = default;
};

struct sub_refresh_result {
    bool expires = false;
    std::uint32_t ttl = 0;
    std::vector<publication> items{}; ///< v0.19 shared poll

    bool operator==(const sub_refresh_result&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Pushes (§2.4)
// ---------------------------------------------------------------------------------------------

struct join_push {
    client_info info{};

    bool operator==(const join_push&) const = default;
};

struct leave_push {
    client_info info{};

    bool operator==(const leave_push&) const = default;
};

struct unsubscribe_push {
    std::uint32_t code = 0; ///< unsubscribe_code in codes.hpp
    std::string reason{};

    bool operator==(const unsubscribe_push&) const = default;
};

struct message_push {
    raw_bytes data{};

    bool operator==(const message_push&) const = default;
};

/// Server-side subscription established after connect.
struct subscribe_push {
    bool recoverable = false;
    std::string epoch{};
    std::uint64_t offset = 0;
    bool positioned = false;
    raw_bytes data{};

    bool operator==(const subscribe_push&) const = default;
};

/// Unidirectional transports only. Field numbers differ from connect_result (§2.5).
struct connect_push {
    std::string client{};
    std::string version{};
    raw_bytes data{};
    std::map<std::string, subscribe_result> subs{};
    bool expires = false;
    std::uint32_t ttl = 0;
    std::uint32_t ping = 0;
    bool pong = false;
    std::string session{};
    std::string node{};
    std::int64_t time = 0;

    bool operator==(const connect_push&) const = default;
};

struct disconnect_push {
    std::uint32_t code = 0; ///< disconnect_code in codes.hpp
    std::string reason{};
    bool reconnect = false; ///< legacy; current servers leave it false

    bool operator==(const disconnect_push&) const = default;
};

struct refresh_push {
    bool expires = false;
    std::uint32_t ttl = 0;

    bool operator==(const refresh_push&) const = default;
};

/// Which body a push carries; the value is the index of its alternative in push::body_type.
enum class push_kind : std::uint8_t {
    none, ///< empty Push: the unidirectional ping `{}`
    pub,
    join,
    leave,
    unsubscribe,
    message,
    subscribe,
    connect,
    disconnect,
    refresh,
};

struct push {
    using body_type = std::variant<std::monostate,
                                   publication,
                                   join_push,
                                   leave_push,
                                   unsubscribe_push,
                                   message_push,
                                   subscribe_push,
                                   connect_push,
                                   disconnect_push,
                                   refresh_push>;

    std::int64_t id = 0;   ///< numeric channel id (channel compaction, PRO); 0 = absent
    std::string channel{}; ///< empty for message / connect / disconnect / refresh
    body_type body{};

    push_kind kind() const noexcept { return static_cast<push_kind>(body.index()); }

    bool operator==(const push&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Reply (§2.2)
// ---------------------------------------------------------------------------------------------

/// What a reply carries, in Reply field order; the value is the index in reply::body_type.
enum class reply_kind : std::uint8_t {
    none, ///< empty Reply `{}` / 0x00: a server ping
    error,
    push,
    connect,
    subscribe,
    unsubscribe,
    publish,
    presence,
    presence_stats,
    history,
    ping,
    rpc,
    refresh,
    sub_refresh,
};

/// Three shapes (§2.2): a command reply (id > 0 with an error or the matching result; the
/// result is always encoded, even when empty), a push (id 0, push set), a ping (nothing set).
struct reply {
    using body_type = std::variant<std::monostate,
                                   error,
                                   push,
                                   connect_result,
                                   subscribe_result,
                                   unsubscribe_result,
                                   publish_result,
                                   presence_result,
                                   presence_stats_result,
                                   history_result,
                                   ping_result,
                                   rpc_result,
                                   refresh_result,
                                   sub_refresh_result>;

    std::uint32_t id = 0;
    body_type body{};

    reply_kind kind() const noexcept { return static_cast<reply_kind>(body.index()); }

    bool operator==(const reply&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Emulation (§1.6)
// ---------------------------------------------------------------------------------------------

/// Body of a POST to /emulation. `data` is the command frame to decode with the connection's
/// codec: for JSON the *unescaped content* of the JSON string (newline-joined commands), for
/// Protobuf the bytes field (varint-delimited commands).
struct emulation_request {
    std::string node{};
    std::string session{};
    std::string data{};

    bool operator==(const emulation_request&) const = default;
};

/// How a push is wrapped: inside a Reply (`{"push":{...}}`, Reply.push = 4) on bidirectional
/// transports, or as a bare Push object/message on unidirectional ones.
enum class push_form : std::uint8_t { bidirectional, unidirectional };

} // namespace gyre::protocol::client
