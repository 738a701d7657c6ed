// File: protocol/client/detail/schema.hpp
// One table per message type: protobuf field number, JSON key, member, and flags. The JSON and
// Protobuf codecs walk these tables (compile-time tuples, fully inlined), so a field's number
// and name are written down exactly once. Internal to protocol/; not part of the public API.
#pragma once

#include "protocol/client/messages.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace gyre::protocol::client::detail {

namespace flags {
inline constexpr std::uint8_t none = 0;
/// std::string holding a raw payload: JSON value embedded verbatim; protobuf `bytes`.
inline constexpr std::uint8_t raw = 1;
/// int64 encoded as protobuf sint64 (zigzag).
inline constexpr std::uint8_t zigzag = 2;
/// Emitted in JSON even when zero/empty (§2.6).
inline constexpr std::uint8_t always = 4;
} // namespace flags

template <class T, class M>
struct field {
    using owner_type = T;
    using member_type = M;

    std::uint32_t number = 0;
    std::string_view name;
    M T::*member = nullptr;
    std::uint8_t flags = 0;
};

template <class T, class M>
constexpr field<T, M>
fld(std::uint32_t number, std::string_view name, M T::*member, std::uint8_t f = flags::none) {
    return field<T, M>{number, name, member, f};
}

/// schema<T>::fields is a std::tuple of field<T, M>, in field-number order (the JSON emission
/// order of Centrifuge's generated encoder).
template <class T>
struct schema;

template <class T>
concept described = requires {
    schema<T>::fields;
};

template <class T>
struct is_vector : std::false_type {};

template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};

template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_string_map : std::false_type {};

template <class T>
struct is_string_map<std::map<std::string, T>> : std::true_type {};

using flags::always;
using flags::raw;
using flags::zigzag;

// clang-format off
template <> struct schema<client_info> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "user", &client_info::user, always),
        fld(2, "client", &client_info::client, always),
        fld(3, "conn_info", &client_info::conn_info, raw),
        fld(4, "chan_info", &client_info::chan_info, raw));
};

template <> struct schema<stream_position> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "offset", &stream_position::offset),
        fld(2, "epoch", &stream_position::epoch));
};

template <> struct schema<publication> {
    static constexpr auto fields = std::make_tuple(
        fld(4, "data", &publication::data, raw),
        fld(5, "info", &publication::info),
        fld(6, "offset", &publication::offset),
        fld(7, "tags", &publication::tags),
        fld(8, "delta", &publication::delta),
        fld(9, "time", &publication::time),
        fld(10, "channel", &publication::channel),
        fld(11, "key", &publication::key),
        fld(12, "removed", &publication::removed),
        fld(13, "score", &publication::score, zigzag),
        fld(14, "epoch", &publication::epoch),
        fld(16, "version", &publication::version));
};

template <> struct schema<filter_node> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "op", &filter_node::op),
        fld(2, "key", &filter_node::key),
        fld(3, "cmp", &filter_node::cmp),
        fld(4, "val", &filter_node::val),
        fld(5, "vals", &filter_node::vals),
        fld(6, "nodes", &filter_node::nodes));
};

template <> struct schema<dictionary> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "id", &dictionary::id),
        fld(2, "data", &dictionary::data, raw),
        fld(3, "data_b64", &dictionary::data_b64));
};

template <> struct schema<keyed_item> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "key", &keyed_item::key),
        fld(2, "version", &keyed_item::version));
};

template <> struct schema<track_batch> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "signature", &track_batch::signature),
        fld(2, "items", &track_batch::items));
};

// Requests ------------------------------------------------------------------------------------

template <> struct schema<subscribe_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "channel", &subscribe_request::channel),
        fld(2, "token", &subscribe_request::token),
        fld(3, "recover", &subscribe_request::recover),
        fld(6, "epoch", &subscribe_request::epoch),
        fld(7, "offset", &subscribe_request::offset),
        fld(8, "data", &subscribe_request::data, raw),
        fld(9, "positioned", &subscribe_request::positioned),
        fld(10, "recoverable", &subscribe_request::recoverable),
        fld(11, "join_leave", &subscribe_request::join_leave),
        fld(12, "delta", &subscribe_request::delta),
        fld(13, "tf", &subscribe_request::tf),
        fld(14, "flag", &subscribe_request::flag),
        fld(15, "type", &subscribe_request::type),
        fld(16, "phase", &subscribe_request::phase),
        fld(17, "cursor", &subscribe_request::cursor),
        fld(18, "limit", &subscribe_request::limit),
        fld(19, "asc", &subscribe_request::asc));
};

template <> struct schema<connect_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "token", &connect_request::token),
        fld(2, "data", &connect_request::data, raw),
        fld(3, "subs", &connect_request::subs),
        fld(4, "name", &connect_request::name),
        fld(5, "version", &connect_request::version),
        fld(6, "headers", &connect_request::headers),
        fld(7, "flag", &connect_request::flag),
        fld(8, "dict", &connect_request::dict),
        fld(9, "profile", &connect_request::profile));
};

template <> struct schema<unsubscribe_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "channel", &unsubscribe_request::channel));
};

template <> struct schema<publish_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "channel", &publish_request::channel),
        fld(2, "data", &publish_request::data, raw),
        fld(3, "type", &publish_request::type),
        fld(4, "key", &publish_request::key),
        fld(5, "removed", &publish_request::removed));
};

template <> struct schema<presence_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "channel", &presence_request::channel));
};

template <> struct schema<presence_stats_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "channel", &presence_stats_request::channel));
};

template <> struct schema<history_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "channel", &history_request::channel),
        fld(7, "limit", &history_request::limit),
        fld(8, "since", &history_request::since),
        fld(9, "reverse", &history_request::reverse));
};

template <> struct schema<ping_request> {
    static constexpr auto fields = std::tuple<>{};
};

template <> struct schema<send_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "data", &send_request::data, raw));
};

template <> struct schema<rpc_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "data", &rpc_request::data, raw),
        fld(2, "method", &rpc_request::method));
};

template <> struct schema<refresh_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "token", &refresh_request::token));
};

template <> struct schema<sub_refresh_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "channel", &sub_refresh_request::channel),
        fld(2, "token", &sub_refresh_request::token),
        fld(3, "type", &sub_refresh_request::type),
        fld(4, "track", &sub_refresh_request::track),
        fld(5, "untrack", &sub_refresh_request::untrack));
};

template <> struct schema<emulation_request> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "node", &emulation_request::node),
        fld(2, "session", &emulation_request::session),
        fld(3, "data", &emulation_request::data));
};

// Results -------------------------------------------------------------------------------------

template <> struct schema<error> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "code", &error::code),
        fld(2, "message", &error::message),
        fld(3, "temporary", &error::temporary));
};

template <> struct schema<subscribe_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "expires", &subscribe_result::expires),
        fld(2, "ttl", &subscribe_result::ttl),
        fld(3, "recoverable", &subscribe_result::recoverable),
        fld(6, "epoch", &subscribe_result::epoch),
        fld(7, "publications", &subscribe_result::publications),
        fld(8, "recovered", &subscribe_result::recovered),
        fld(9, "offset", &subscribe_result::offset),
        fld(10, "positioned", &subscribe_result::positioned),
        fld(11, "data", &subscribe_result::data, raw),
        fld(12, "was_recovering", &subscribe_result::was_recovering),
        fld(13, "delta", &subscribe_result::delta),
        fld(14, "id", &subscribe_result::id),
        fld(15, "type", &subscribe_result::type),
        fld(16, "phase", &subscribe_result::phase),
        fld(17, "cursor", &subscribe_result::cursor),
        fld(18, "state", &subscribe_result::state),
        fld(19, "publish_debounce", &subscribe_result::publish_debounce));
};

template <> struct schema<connect_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "client", &connect_result::client),
        fld(2, "version", &connect_result::version),
        fld(3, "expires", &connect_result::expires),
        fld(4, "ttl", &connect_result::ttl),
        fld(5, "data", &connect_result::data, raw),
        fld(6, "subs", &connect_result::subs),
        fld(7, "ping", &connect_result::ping),
        fld(8, "pong", &connect_result::pong),
        fld(9, "session", &connect_result::session),
        fld(10, "node", &connect_result::node),
        fld(11, "time", &connect_result::time),
        fld(12, "flag", &connect_result::flag),
        fld(13, "dict", &connect_result::dict));
};

template <> struct schema<unsubscribe_result> {
    static constexpr auto fields = std::tuple<>{};
};

template <> struct schema<publish_result> {
    static constexpr auto fields = std::tuple<>{};
};

template <> struct schema<presence_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "presence", &presence_result::presence, always));
};

template <> struct schema<presence_stats_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "num_clients", &presence_stats_result::num_clients, always),
        fld(2, "num_users", &presence_stats_result::num_users, always));
};

template <> struct schema<history_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "publications", &history_result::publications, always),
        fld(2, "epoch", &history_result::epoch, always),
        fld(3, "offset", &history_result::offset, always));
};

template <> struct schema<ping_result> {
    static constexpr auto fields = std::tuple<>{};
};

template <> struct schema<rpc_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "data", &rpc_result::data, raw));
};

template <> struct schema<refresh_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "client", &refresh_result::client),
        fld(2, "version", &refresh_result::version),
        fld(3, "expires", &refresh_result::expires),
        fld(4, "ttl", &refresh_result::ttl));
};

template <> struct schema<sub_refresh_result> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "expires", &sub_refresh_result::expires),
        fld(2, "ttl", &sub_refresh_result::ttl),
        fld(3, "items", &sub_refresh_result::items));
};

// Push bodies ---------------------------------------------------------------------------------

template <> struct schema<join_push> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "info", &join_push::info));
};

template <> struct schema<leave_push> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "info", &leave_push::info));
};

template <> struct schema<unsubscribe_push> {
    static constexpr auto fields = std::make_tuple(
        fld(2, "code", &unsubscribe_push::code),
        fld(3, "reason", &unsubscribe_push::reason));
};

template <> struct schema<message_push> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "data", &message_push::data, raw));
};

template <> struct schema<subscribe_push> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "recoverable", &subscribe_push::recoverable),
        fld(4, "epoch", &subscribe_push::epoch),
        fld(5, "offset", &subscribe_push::offset),
        fld(6, "positioned", &subscribe_push::positioned),
        fld(7, "data", &subscribe_push::data, raw));
};

template <> struct schema<connect_push> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "client", &connect_push::client),
        fld(2, "version", &connect_push::version),
        fld(3, "data", &connect_push::data, raw),
        fld(4, "subs", &connect_push::subs),
        fld(5, "expires", &connect_push::expires),
        fld(6, "ttl", &connect_push::ttl),
        fld(7, "ping", &connect_push::ping),
        fld(8, "pong", &connect_push::pong),
        fld(9, "session", &connect_push::session),
        fld(10, "node", &connect_push::node),
        fld(11, "time", &connect_push::time));
};

template <> struct schema<disconnect_push> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "code", &disconnect_push::code),
        fld(2, "reason", &disconnect_push::reason),
        fld(3, "reconnect", &disconnect_push::reconnect));
};

template <> struct schema<refresh_push> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "expires", &refresh_push::expires),
        fld(2, "ttl", &refresh_push::ttl));
};

// clang-format on

// Envelopes -----------------------------------------------------------------------------------
// Command, Reply and Push hold one alternative of a variant; the protobuf field number and JSON
// key of alternative i (i >= 1) come from these tables.

inline constexpr std::array<std::uint32_t, 13> command_field_numbers = {
    0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
inline constexpr std::array<std::string_view, 13> command_field_names = {"",
                                                                         "connect",
                                                                         "subscribe",
                                                                         "unsubscribe",
                                                                         "publish",
                                                                         "presence",
                                                                         "presence_stats",
                                                                         "history",
                                                                         "ping",
                                                                         "send",
                                                                         "rpc",
                                                                         "refresh",
                                                                         "sub_refresh"};

inline constexpr std::array<std::uint32_t, 14> reply_field_numbers = {
    0, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
inline constexpr std::array<std::string_view, 14> reply_field_names = {"",
                                                                       "error",
                                                                       "push",
                                                                       "connect",
                                                                       "subscribe",
                                                                       "unsubscribe",
                                                                       "publish",
                                                                       "presence",
                                                                       "presence_stats",
                                                                       "history",
                                                                       "ping",
                                                                       "rpc",
                                                                       "refresh",
                                                                       "sub_refresh"};

inline constexpr std::array<std::uint32_t, 10> push_field_numbers = {
    0, 4, 5, 6, 7, 8, 9, 10, 11, 12};
inline constexpr std::array<std::string_view, 10> push_field_names = {"",
                                                                      "pub",
                                                                      "join",
                                                                      "leave",
                                                                      "unsubscribe",
                                                                      "message",
                                                                      "subscribe",
                                                                      "connect",
                                                                      "disconnect",
                                                                      "refresh"};

static_assert(command_field_numbers.size() == std::variant_size_v<command::request_type>);
static_assert(command_field_names.size() == std::variant_size_v<command::request_type>);
static_assert(reply_field_numbers.size() == std::variant_size_v<reply::body_type>);
static_assert(reply_field_names.size() == std::variant_size_v<reply::body_type>);
static_assert(push_field_numbers.size() == std::variant_size_v<push::body_type>);
static_assert(push_field_names.size() == std::variant_size_v<push::body_type>);

/// Decoding staging areas: every request/result field that may be present, so the codecs can
/// apply Centrifuge's selection rules after reading the whole message.
struct command_fields {
    std::uint32_t id = 0;
    std::optional<connect_request> connect;
    std::optional<subscribe_request> subscribe;
    std::optional<unsubscribe_request> unsubscribe;
    std::optional<publish_request> publish;
    std::optional<presence_request> presence;
    std::optional<presence_stats_request> presence_stats;
    std::optional<history_request> history;
    std::optional<ping_request> ping;
    std::optional<send_request> send;
    std::optional<rpc_request> rpc;
    std::optional<refresh_request> refresh;
    std::optional<sub_refresh_request> sub_refresh;
};

struct push_fields {
    std::int64_t id = 0;
    std::string channel;
    std::optional<publication> pub;
    std::optional<join_push> join;
    std::optional<leave_push> leave;
    std::optional<unsubscribe_push> unsubscribe;
    std::optional<message_push> message;
    std::optional<subscribe_push> subscribe;
    std::optional<connect_push> connect;
    std::optional<disconnect_push> disconnect;
    std::optional<refresh_push> refresh;
};

struct reply_fields {
    std::uint32_t id = 0;
    std::optional<error> err;
    std::optional<push_fields> push;
    std::optional<connect_result> connect;
    std::optional<subscribe_result> subscribe;
    std::optional<unsubscribe_result> unsubscribe;
    std::optional<publish_result> publish;
    std::optional<presence_result> presence;
    std::optional<presence_stats_result> presence_stats;
    std::optional<history_result> history;
    std::optional<ping_result> ping;
    std::optional<rpc_result> rpc;
    std::optional<refresh_result> refresh;
    std::optional<sub_refresh_result> sub_refresh;
};

// clang-format off
template <> struct schema<command_fields> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "id", &command_fields::id),
        fld(4, "connect", &command_fields::connect),
        fld(5, "subscribe", &command_fields::subscribe),
        fld(6, "unsubscribe", &command_fields::unsubscribe),
        fld(7, "publish", &command_fields::publish),
        fld(8, "presence", &command_fields::presence),
        fld(9, "presence_stats", &command_fields::presence_stats),
        fld(10, "history", &command_fields::history),
        fld(11, "ping", &command_fields::ping),
        fld(12, "send", &command_fields::send),
        fld(13, "rpc", &command_fields::rpc),
        fld(14, "refresh", &command_fields::refresh),
        fld(15, "sub_refresh", &command_fields::sub_refresh));
};

template <> struct schema<push_fields> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "id", &push_fields::id),
        fld(2, "channel", &push_fields::channel),
        fld(4, "pub", &push_fields::pub),
        fld(5, "join", &push_fields::join),
        fld(6, "leave", &push_fields::leave),
        fld(7, "unsubscribe", &push_fields::unsubscribe),
        fld(8, "message", &push_fields::message),
        fld(9, "subscribe", &push_fields::subscribe),
        fld(10, "connect", &push_fields::connect),
        fld(11, "disconnect", &push_fields::disconnect),
        fld(12, "refresh", &push_fields::refresh));
};

template <> struct schema<reply_fields> {
    static constexpr auto fields = std::make_tuple(
        fld(1, "id", &reply_fields::id),
        fld(2, "error", &reply_fields::err),
        fld(4, "push", &reply_fields::push),
        fld(5, "connect", &reply_fields::connect),
        fld(6, "subscribe", &reply_fields::subscribe),
        fld(7, "unsubscribe", &reply_fields::unsubscribe),
        fld(8, "publish", &reply_fields::publish),
        fld(9, "presence", &reply_fields::presence),
        fld(10, "presence_stats", &reply_fields::presence_stats),
        fld(11, "history", &reply_fields::history),
        fld(12, "ping", &reply_fields::ping),
        fld(13, "rpc", &reply_fields::rpc),
        fld(14, "refresh", &reply_fields::refresh),
        fld(15, "sub_refresh", &reply_fields::sub_refresh));
};

// clang-format on

/// Centrifuge's dispatch rule (§2.1): pong if id == 0 and no send; else the first present
/// request in the order connect .. history, rpc, send, refresh, sub_refresh; else ping; else
/// none.
inline command select_command(command_fields&& f) {
    command c;
    c.id = f.id;
    if (f.id == 0 && !f.send) {
        return c;
    }
    if (f.connect) {
        c.request = std::move(*f.connect);
    } else if (f.subscribe) {
        c.request = std::move(*f.subscribe);
    } else if (f.unsubscribe) {
        c.request = std::move(*f.unsubscribe);
    } else if (f.publish) {
        c.request = std::move(*f.publish);
    } else if (f.presence) {
        c.request = std::move(*f.presence);
    } else if (f.presence_stats) {
        c.request = std::move(*f.presence_stats);
    } else if (f.history) {
        c.request = std::move(*f.history);
    } else if (f.rpc) {
        c.request = std::move(*f.rpc);
    } else if (f.send) {
        c.request = std::move(*f.send);
    } else if (f.refresh) {
        c.request = std::move(*f.refresh);
    } else if (f.sub_refresh) {
        c.request = std::move(*f.sub_refresh);
    } else if (f.ping) {
        c.request = ping_request{};
    }
    return c;
}

/// First present body in field order (a well-formed push has exactly one).
inline push select_push(push_fields&& f) {
    push p;
    p.id = f.id;
    p.channel = std::move(f.channel);
    if (f.pub) {
        p.body = std::move(*f.pub);
    } else if (f.join) {
        p.body = std::move(*f.join);
    } else if (f.leave) {
        p.body = std::move(*f.leave);
    } else if (f.unsubscribe) {
        p.body = std::move(*f.unsubscribe);
    } else if (f.message) {
        p.body = std::move(*f.message);
    } else if (f.subscribe) {
        p.body = std::move(*f.subscribe);
    } else if (f.connect) {
        p.body = std::move(*f.connect);
    } else if (f.disconnect) {
        p.body = std::move(*f.disconnect);
    } else if (f.refresh) {
        p.body = *f.refresh;
    }
    return p;
}

/// First present body in field order (a well-formed reply has at most one).
inline reply select_reply(reply_fields&& f) {
    reply r;
    r.id = f.id;
    if (f.err) {
        r.body = std::move(*f.err);
    } else if (f.push) {
        r.body = select_push(std::move(*f.push));
    } else if (f.connect) {
        r.body = std::move(*f.connect);
    } else if (f.subscribe) {
        r.body = std::move(*f.subscribe);
    } else if (f.unsubscribe) {
        r.body = *f.unsubscribe;
    } else if (f.publish) {
        r.body = *f.publish;
    } else if (f.presence) {
        r.body = std::move(*f.presence);
    } else if (f.presence_stats) {
        r.body = *f.presence_stats;
    } else if (f.history) {
        r.body = std::move(*f.history);
    } else if (f.ping) {
        r.body = *f.ping;
    } else if (f.rpc) {
        r.body = std::move(*f.rpc);
    } else if (f.refresh) {
        r.body = std::move(*f.refresh);
    } else if (f.sub_refresh) {
        r.body = std::move(*f.sub_refresh);
    }
    return r;
}

} // namespace gyre::protocol::client::detail
