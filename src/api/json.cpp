#include "api/json.hpp"

#include "protocol/client/detail/json_reader.hpp"
#include "protocol/client/json_codec.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <type_traits>

namespace gyre::api::json {

namespace {

using protocol::client::codec_error;
using protocol::client::detail::json_reader;
using protocol::client::detail::ok;
namespace pcj = protocol::client::json;

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Go's encoding/json matches object keys to field names case-insensitively.
bool key_is(std::string_view key, std::string_view name) noexcept {
    if (key.size() != name.size()) {
        return false;
    }
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (lower(key[i]) != name[i]) {
            return false;
        }
    }
    return true;
}

// ---- decoding -----------------------------------------------------------------------------
// Each reader leaves a field at its zero value for `null`, as Go does.

/// Returned by a member reader for a key it does not know: the value is skipped.
constexpr std::nullopt_t skip = std::nullopt;
using member_result = std::optional<codec_error>;

/// Calls `on_field(key)` for every member of an object (see detail::read_members).
template <class Fn>
codec_error read_object(json_reader& r, Fn&& on_field) {
    if (!r.consume('{')) {
        return codec_error::wrong_type;
    }
    return protocol::client::detail::read_members(r, std::forward<Fn>(on_field));
}

/// An object that may be `null` (then `on_field` is never called).
template <class Fn>
codec_error read_nullable_object(json_reader& r, Fn&& on_field) {
    if (r.consume_null()) {
        return ok;
    }
    return read_object(r, std::forward<Fn>(on_field));
}

codec_error read(json_reader& r, std::string& out) {
    return r.consume_null() ? ok : r.read_string(out);
}

codec_error read(json_reader& r, bool& out) {
    return r.consume_null() ? ok : r.read_bool(out);
}

codec_error read(json_reader& r, std::uint64_t& out) {
    return r.consume_null() ? ok : r.read_uint64(out);
}

codec_error read(json_reader& r, std::int64_t& out) {
    return r.consume_null() ? ok : r.read_int64(out);
}

codec_error read(json_reader& r, std::uint32_t& out) {
    std::uint64_t v = 0;
    if (auto ec = read(r, v); ec != ok) {
        return ec;
    }
    if (v > std::numeric_limits<std::uint32_t>::max()) {
        return codec_error::out_of_range;
    }
    out = static_cast<std::uint32_t>(v);
    return ok;
}

codec_error read(json_reader& r, std::int32_t& out) {
    std::int64_t v = 0;
    if (auto ec = read(r, v); ec != ok) {
        return ec;
    }
    if (v > std::numeric_limits<std::int32_t>::max() ||
        v < std::numeric_limits<std::int32_t>::min()) {
        return codec_error::out_of_range;
    }
    out = static_cast<std::int32_t>(v);
    return ok;
}

/// A raw JSON value, byte-exact (`null` included, as Centrifugo's Raw keeps it).
codec_error read_raw(json_reader& r, std::string& out) {
    r.skip_ws();
    const auto start = r.pos();
    if (auto ec = r.skip_value(); ec != ok) {
        return ec;
    }
    out.assign(r.text().substr(start, r.pos() - start));
    return ok;
}

codec_error read(json_reader& r, std::vector<std::string>& out) {
    if (r.consume_null()) {
        return ok;
    }
    if (!r.consume('[')) {
        return codec_error::wrong_type;
    }
    if (r.consume(']')) {
        return ok;
    }
    for (;;) {
        std::string item;
        if (auto ec = read(r, item); ec != ok) {
            return ec;
        }
        out.push_back(std::move(item));
        if (r.consume(',')) {
            continue;
        }
        return r.consume(']') ? ok : codec_error::invalid_json;
    }
}

codec_error read(json_reader& r, std::map<std::string, std::string>& out) {
    return read_nullable_object(r, [&](std::string_view key) -> member_result {
        std::string value;
        auto ec = read(r, value);
        if (ec == ok) {
            out[std::string(key)] = std::move(value);
        }
        return ec;
    });
}

codec_error read(json_reader& r, std::optional<protocol::client::stream_position>& out) {
    if (r.consume_null()) {
        return ok;
    }
    out.emplace();
    return read_object(r, [&](std::string_view key) -> member_result {
        if (key_is(key, "offset")) {
            return read(r, out->offset);
        }
        if (key_is(key, "epoch")) {
            return read(r, out->epoch);
        }
        return skip;
    });
}

/// `{"value": bool}` (api.proto's BoolValue); `null` leaves the option unset.
codec_error read(json_reader& r, std::optional<bool>& out) {
    if (r.consume_null()) {
        return ok;
    }
    out = false;
    return read_object(r, [&](std::string_view key) -> member_result {
        if (key_is(key, "value")) {
            bool v = false;
            auto ec = read(r, v);
            out = v;
            return ec;
        }
        return skip;
    });
}

/// A request field: its JSON name and where it goes. `raw` fields keep the value's bytes.
template <class T>
struct field {
    std::string_view name;
    T* target;
    bool raw = false;
};

template <class T>
field<T> f(std::string_view name, T& target) {
    return {name, &target};
}

field<std::string> raw(std::string_view name, std::string& target) {
    return {name, &target, true};
}

/// Reads the member `key` into the first of `fields` with that name; skips unknown keys.
template <class... T>
member_result read_field(json_reader& r, std::string_view key, field<T>... fields) {
    member_result out = skip;
    const auto try_one = [&](auto& fd) {
        if (out || !key_is(key, fd.name)) {
            return;
        }
        if constexpr (std::is_same_v<std::remove_pointer_t<decltype(fd.target)>, std::string>) {
            out = fd.raw ? read_raw(r, *fd.target) : read(r, *fd.target);
        } else {
            out = read(r, *fd.target);
        }
    };
    (try_one(fields), ...);
    return out;
}

/// Reads an object whose members are all plain `fields`.
template <class... T>
codec_error read_fields(json_reader& r, field<T>... fields) {
    return read_object(r, [&](std::string_view key) { return read_field(r, key, fields...); });
}

member_result read_publication_field(json_reader& r, std::string_view key, publication_fields& p) {
    return read_field(r,
                      key,
                      raw("data", p.data),
                      f("b64data", p.b64data),
                      f("skip_history", p.skip_history),
                      f("tags", p.tags),
                      f("idempotency_key", p.idempotency_key),
                      f("delta", p.delta),
                      f("version", p.version),
                      f("version_epoch", p.version_epoch));
}

codec_error read_body(json_reader& r, publish_request& q) {
    return read_object(r, [&](std::string_view key) {
        auto out = read_field(r, key, f("channel", q.channel));
        return out ? out : read_publication_field(r, key, q.pub);
    });
}

codec_error read_body(json_reader& r, broadcast_request& q) {
    return read_object(r, [&](std::string_view key) {
        auto out = read_field(r, key, f("channels", q.channels));
        return out ? out : read_publication_field(r, key, q.pub);
    });
}

codec_error read_body(json_reader& r, subscribe_request& q) {
    return read_object(r, [&](std::string_view key) -> member_result {
        if (key_is(key, "override")) {
            auto& o = q.override_options;
            return read_nullable_object(r, [&](std::string_view k) {
                return read_field(r,
                                  k,
                                  f("presence", o.presence),
                                  f("join_leave", o.join_leave),
                                  f("force_recovery", o.force_recovery),
                                  f("force_positioning", o.force_positioning),
                                  f("force_push_join_leave", o.force_push_join_leave));
            });
        }
        return read_field(r,
                          key,
                          f("channel", q.channel),
                          f("user", q.user),
                          f("expire_at", q.expire_at),
                          raw("info", q.info),
                          f("b64info", q.b64info),
                          f("client", q.client),
                          raw("data", q.data),
                          f("b64data", q.b64data),
                          f("recover_since", q.recover_since),
                          f("session", q.session));
    });
}

codec_error read_body(json_reader& r, unsubscribe_request& q) {
    return read_fields(r,
                       f("channel", q.channel),
                       f("user", q.user),
                       f("client", q.client),
                       f("session", q.session));
}

codec_error read_body(json_reader& r, disconnect_request& q) {
    return read_object(r, [&](std::string_view key) -> member_result {
        if (key_is(key, "disconnect")) {
            if (r.consume_null()) {
                return ok;
            }
            q.disconnect.emplace(0, std::string{});
            return read_fields(
                r, f("code", q.disconnect->first), f("reason", q.disconnect->second));
        }
        return read_field(r,
                          key,
                          f("user", q.user),
                          f("client", q.client),
                          f("whitelist", q.whitelist),
                          f("session", q.session));
    });
}

codec_error read_body(json_reader& r, refresh_request& q) {
    return read_fields(r,
                       f("user", q.user),
                       f("client", q.client),
                       f("expired", q.expired),
                       f("expire_at", q.expire_at),
                       raw("info", q.info),
                       f("session", q.session));
}

codec_error read_body(json_reader& r, channel_request& q) {
    return read_fields(r, f("channel", q.channel));
}

codec_error read_body(json_reader& r, history_request& q) {
    return read_fields(r,
                       f("channel", q.channel),
                       f("limit", q.limit),
                       f("since", q.since),
                       f("reverse", q.reverse));
}

codec_error read_body(json_reader& r, channels_request& q) {
    return read_fields(r, f("pattern", q.pattern));
}

codec_error read_body(json_reader& r, info_request& /*q*/) {
    return read_object(r, [](std::string_view) { return skip; });
}

codec_error read_body(json_reader& r, rpc_request& q) {
    return read_fields(r, f("method", q.method), raw("params", q.params));
}

codec_error read_request(json_reader& r, method m, request& out);

/// Batch commands are checked in this order, as Centrifugo's executor does: the first method
/// key present (and not null) decides.
constexpr std::array<method, 13> batch_order{
    method::publish,
    method::broadcast,
    method::subscribe,
    method::unsubscribe,
    method::disconnect,
    method::history,
    method::history_remove,
    method::presence,
    method::presence_stats,
    method::info,
    method::rpc,
    method::refresh,
    method::channels,
};

codec_error read_batch_command(json_reader& r, std::variant<request, error>& out) {
    if (r.consume_null()) {
        out = errors::bad_request;
        return ok;
    }
    std::array<std::optional<request>, batch_order.size()> found;
    auto ec = read_object(r, [&](std::string_view key) -> member_result {
        for (std::size_t i = 0; i < batch_order.size(); ++i) {
            if (key_is(key, method_name(batch_order[i]))) {
                if (r.consume_null()) {
                    return ok;
                }
                request q;
                if (auto e = read_request(r, batch_order[i], q); e != ok) {
                    return e;
                }
                found[i] = std::move(q);
                return ok;
            }
        }
        return skip;
    });
    if (ec != ok) {
        return ec;
    }
    out = errors::not_found;
    for (auto& f : found) {
        if (f) {
            out = std::move(*f);
            break;
        }
    }
    return ok;
}

codec_error read_body(json_reader& r, batch_request& q) {
    return read_object(r, [&](std::string_view key) -> member_result {
        if (key_is(key, "parallel")) {
            return read(r, q.parallel);
        }
        if (key_is(key, "commands")) {
            if (r.consume_null()) {
                return ok;
            }
            if (!r.consume('[')) {
                return codec_error::wrong_type;
            }
            if (r.consume(']')) {
                return ok;
            }
            for (;;) {
                std::variant<request, error> cmd;
                if (auto ec = read_batch_command(r, cmd); ec != ok) {
                    return ec;
                }
                q.commands.push_back(std::move(cmd));
                if (r.consume(',')) {
                    continue;
                }
                return r.consume(']') ? ok : codec_error::invalid_json;
            }
        }
        return skip;
    });
}

template <class T>
codec_error read_into(json_reader& r, request& out) {
    T body{};
    if (r.consume_null()) { // Go leaves the struct empty
        out.body = std::move(body);
        return ok;
    }
    auto ec = read_body(r, body);
    out.body = std::move(body);
    return ec;
}

codec_error read_request(json_reader& r, method m, request& out) {
    out.kind = m;
    switch (m) {
    case method::publish:
        return read_into<publish_request>(r, out);
    case method::broadcast:
        return read_into<broadcast_request>(r, out);
    case method::subscribe:
        return read_into<subscribe_request>(r, out);
    case method::unsubscribe:
        return read_into<unsubscribe_request>(r, out);
    case method::disconnect:
        return read_into<disconnect_request>(r, out);
    case method::refresh:
        return read_into<refresh_request>(r, out);
    case method::presence:
    case method::presence_stats:
    case method::history_remove:
        return read_into<channel_request>(r, out);
    case method::history:
        return read_into<history_request>(r, out);
    case method::channels:
        return read_into<channels_request>(r, out);
    case method::info:
        return read_into<info_request>(r, out);
    case method::rpc:
        return read_into<rpc_request>(r, out);
    case method::batch: {
        auto batch = std::make_shared<batch_request>();
        codec_error ec = ok;
        if (!r.consume_null()) {
            ec = read_body(r, *batch);
        }
        out.body = std::move(batch);
        return ec;
    }
    }
    return codec_error::invalid_json;
}

// ---- legacy command stream ----------------------------------------------------------------

/// The legacy enum's names (Centrifugo's Command_MethodType), including methods Gyre does not
/// serve (they decode, then answer 104).
std::optional<std::uint32_t> legacy_method_number(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, std::uint32_t>, 39> names{{
        {"publish", 0},
        {"broadcast", 1},
        {"unsubscribe", 2},
        {"disconnect", 3},
        {"presence", 4},
        {"presence_stats", 5},
        {"history", 6},
        {"history_remove", 7},
        {"channels", 8},
        {"info", 9},
        {"rpc", 10},
        {"subscribe", 11},
        {"refresh", 12},
        {"connections", 14},
        {"update_user_status", 15},
        {"get_user_status", 16},
        {"delete_user_status", 17},
        {"block_user", 18},
        {"unblock_user", 19},
        {"revoke_token", 20},
        {"invalidate_user_tokens", 21},
        {"device_register", 22},
        {"device_update", 23},
        {"device_remove", 24},
        {"device_list", 25},
        {"device_topic_list", 26},
        {"device_topic_update", 27},
        {"user_topic_list", 28},
        {"user_topic_update", 29},
        {"send_push_notification", 30},
        {"update_push_status", 31},
        {"cancel_push", 32},
        {"map_publish", 33},
        {"map_remove", 34},
        {"map_read_state", 35},
        {"map_read_stream", 36},
        {"map_stats", 37},
        {"map_clear", 38},
        {"shared_poll_publish", 39},
    }};
    for (const auto& [n, v] : names) {
        if (key_is(name, n)) { // case-insensitive, as Centrifugo upper-cases the name
            return v;
        }
    }
    return std::nullopt;
}

/// The legacy `method` value: a known name (any case) or an integer. Anything else fails the
/// whole body, as it fails Go's decoder.
codec_error read_legacy_method(json_reader& r, std::int64_t& out) {
    if (r.peek() == '"') {
        std::string name;
        if (auto ec = r.read_string(name); ec != ok) {
            return ec;
        }
        const auto n = legacy_method_number(name);
        if (!n) {
            return codec_error::wrong_type;
        }
        out = *n;
        return ok;
    }
    return read(r, out);
}

} // namespace

std::optional<request> decode_request(method m, std::string_view body) {
    json_reader r(body);
    request out;
    if (read_request(r, m, out) != ok || !r.at_end()) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::vector<legacy_command>> decode_legacy(std::string_view body) {
    json_reader r(body);
    std::vector<legacy_command> out;
    while (!r.at_end()) {
        legacy_command cmd;
        std::int64_t number = 0; // absent: 0, publish
        std::string_view params;
        bool has_params = false;
        const auto ec = read_object(r, [&](std::string_view key) -> member_result {
            if (key_is(key, "id")) {
                return read(r, cmd.id);
            }
            if (key_is(key, "method")) {
                return read_legacy_method(r, number);
            }
            if (key_is(key, "params")) {
                r.skip_ws();
                const auto start = r.pos();
                if (auto e = r.skip_value(); e != ok) {
                    return e;
                }
                params = r.text().substr(start, r.pos() - start);
                has_params = params != "null";
                return ok;
            }
            return skip;
        });
        if (ec != ok) {
            return std::nullopt;
        }
        if (number < 0 || number > static_cast<std::int64_t>(method::refresh)) {
            cmd.what = errors::not_found;
        } else if (const auto m = static_cast<method>(number); m == method::info) {
            cmd.what = request{method::info, info_request{}}; // info ignores its params
        } else if (!has_params) {
            cmd.what = errors::bad_request; // Go cannot decode empty params
        } else if (auto q = decode_request(m, params); q) {
            cmd.what = std::move(*q);
        } else {
            cmd.what = errors::bad_request;
        }
        out.push_back(std::move(cmd));
    }
    return out;
}

// ---- encoding -----------------------------------------------------------------------------

namespace {

void append_uint(std::string& out, std::uint64_t v) {
    std::array<char, 24> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    (void)ec;
    out.append(buf.data(), end);
}

void append_key(std::string& out, bool& first, std::string_view key) {
    if (!first) {
        out.push_back(',');
    }
    first = false;
    out.push_back('"');
    out.append(key);
    out.append("\":");
}

void append_string(std::string& out, std::string_view s) {
    (void)pcj::append_string(out, s);
}

/// A raw payload must be JSON to be embedded; false otherwise.
bool append_raw(std::string& out, std::string_view raw) {
    if (!pcj::is_valid_json(raw)) {
        return false;
    }
    // Centrifugo's writer drops raw newlines; inside valid JSON they are only whitespace.
    for (char c : raw) {
        if (c != '\n') {
            out.push_back(c);
        }
    }
    return true;
}

bool append_client_info(std::string& out, const protocol::client::client_info& info) {
    out.append("{\"user\":");
    append_string(out, info.user);
    out.append(",\"client\":");
    append_string(out, info.client);
    bool ok_raw = true;
    if (!info.conn_info.empty()) {
        out.append(",\"conn_info\":");
        ok_raw = append_raw(out, info.conn_info) && ok_raw;
    }
    if (!info.chan_info.empty()) {
        out.append(",\"chan_info\":");
        ok_raw = append_raw(out, info.chan_info) && ok_raw;
    }
    out.push_back('}');
    return ok_raw;
}

void append_tags(std::string& out, const std::map<std::string, std::string>& tags) {
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : tags) {
        if (!first) {
            out.push_back(',');
        }
        first = false;
        append_string(out, k);
        out.push_back(':');
        append_string(out, v);
    }
    out.push_back('}');
}

bool append_result(std::string& out, const reply& r);

/// `{"error":{...}}` or `{"<wrapper>":{result}}`.
bool append_wrapped(std::string& out, std::string_view wrapper, const reply& r) {
    if (r.err) {
        out.append("{\"error\":");
        append_error(out, *r.err);
        out.push_back('}');
        return true;
    }
    out.append("{\"");
    out.append(wrapper);
    out.append("\":");
    const bool good = append_result(out, r);
    out.push_back('}');
    return good;
}

struct result_writer {
    std::string& out;

    bool operator()(const empty_result&) const {
        out.append("{}");
        return true;
    }

    bool operator()(const publish_result& p) const {
        out.push_back('{');
        bool first = true;
        if (p.offset != 0) {
            append_key(out, first, "offset");
            append_uint(out, p.offset);
        }
        if (!p.epoch.empty()) {
            append_key(out, first, "epoch");
            append_string(out, p.epoch);
        }
        out.push_back('}');
        return true;
    }

    bool operator()(const broadcast_result& b) const {
        out.push_back('{');
        bool good = true;
        if (!b.responses.empty()) {
            out.append("\"responses\":[");
            for (std::size_t i = 0; i < b.responses.size(); ++i) {
                if (i > 0) {
                    out.push_back(',');
                }
                good = append_wrapped(out, "result", b.responses[i]) && good;
            }
            out.push_back(']');
        }
        out.push_back('}');
        return good;
    }

    bool operator()(const presence_result& p) const {
        out.append("{\"presence\":{");
        bool good = true;
        bool first = true;
        for (const auto& [client, info] : p.presence) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            append_string(out, client);
            out.push_back(':');
            good = append_client_info(out, info) && good;
        }
        out.append("}}");
        return good;
    }

    bool operator()(const presence_stats_result& s) const {
        out.append("{\"num_clients\":");
        append_uint(out, s.num_clients);
        out.append(",\"num_users\":");
        append_uint(out, s.num_users);
        out.push_back('}');
        return true;
    }

    bool operator()(const history_result& h) const {
        out.append("{\"publications\":[");
        bool good = true;
        for (std::size_t i = 0; i < h.publications.size(); ++i) {
            const auto& pub = h.publications[i];
            if (i > 0) {
                out.push_back(',');
            }
            out.push_back('{');
            bool first = true;
            if (!pub.data.empty()) {
                append_key(out, first, "data");
                good = append_raw(out, pub.data) && good;
            }
            if (pub.info) {
                append_key(out, first, "info");
                good = append_client_info(out, *pub.info) && good;
            }
            if (pub.offset != 0) {
                append_key(out, first, "offset");
                append_uint(out, pub.offset);
            }
            if (!pub.tags.empty()) {
                append_key(out, first, "tags");
                append_tags(out, pub.tags);
            }
            out.push_back('}');
        }
        out.append("],\"epoch\":");
        append_string(out, h.epoch);
        out.append(",\"offset\":");
        append_uint(out, h.offset);
        out.push_back('}');
        return good;
    }

    bool operator()(const channels_result& c) const {
        out.append("{\"channels\":{");
        bool first = true;
        for (const auto& [channel, n] : c.channels) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            append_string(out, channel);
            out.append(":{\"num_clients\":");
            append_uint(out, n);
            out.push_back('}');
        }
        out.append("}}");
        return true;
    }

    bool operator()(const info_result& info) const {
        out.push_back('{');
        if (!info.nodes.empty()) {
            out.append("\"nodes\":[");
            for (std::size_t i = 0; i < info.nodes.size(); ++i) {
                const auto& n = info.nodes[i];
                if (i > 0) {
                    out.push_back(',');
                }
                out.append("{\"uid\":");
                append_string(out, n.uid);
                out.append(",\"name\":");
                append_string(out, n.name);
                out.append(",\"version\":");
                append_string(out, n.version);
                out.append(",\"num_clients\":");
                append_uint(out, n.num_clients);
                out.append(",\"num_users\":");
                append_uint(out, n.num_users);
                out.append(",\"num_channels\":");
                append_uint(out, n.num_channels);
                if (n.uptime != 0) {
                    out.append(",\"uptime\":");
                    append_uint(out, n.uptime);
                }
                out.append(",\"num_subs\":");
                append_uint(out, n.num_subs);
                if (n.rss_bytes != 0) { // absent from nodes that do not report it
                    char cpu[32];
                    std::snprintf(cpu, sizeof cpu, "%.2f", n.cpu_percent);
                    out.append(",\"process\":{\"cpu\":").append(cpu).append(",\"rss\":");
                    append_uint(out, n.rss_bytes);
                    out.push_back('}');
                }
                out.push_back('}');
            }
            out.push_back(']');
        }
        out.push_back('}');
        return true;
    }

    bool operator()(const rpc_result& r) const {
        out.push_back('{');
        bool good = true;
        if (!r.data.empty()) {
            out.append("\"data\":");
            good = append_raw(out, r.data);
        }
        out.push_back('}');
        return good;
    }

    bool operator()(const batch_result& b) const {
        out.push_back('{');
        bool good = true;
        if (!b.replies.empty()) {
            out.append("\"replies\":[");
            for (std::size_t i = 0; i < b.replies.size(); ++i) {
                if (i > 0) {
                    out.push_back(',');
                }
                const auto& rep = b.replies[i];
                good = append_wrapped(out, method_name(rep.kind), rep) && good;
            }
            out.push_back(']');
        }
        out.push_back('}');
        return good;
    }
};

bool append_result(std::string& out, const reply& r) {
    return std::visit(result_writer{out}, r.result);
}

} // namespace

void append_error(std::string& out, const error& e) {
    out.append("{\"code\":");
    append_uint(out, e.code);
    out.append(",\"message\":");
    append_string(out, e.message);
    out.push_back('}');
}

bool append_reply(std::string& out, const reply& r) {
    const auto size = out.size();
    bool good = true;
    if (!r.err && r.kind == method::batch) {
        good = append_result(out, r); // a batch reply is not wrapped in "result"
    } else {
        good = append_wrapped(out, "result", r);
    }
    if (!good) {
        out.resize(size);
    }
    return good;
}

bool append_legacy_reply(std::string& out, std::uint32_t id, const reply& r) {
    const auto size = out.size();
    out.push_back('{');
    if (id != 0) {
        out.append("\"id\":");
        append_uint(out, id);
        out.push_back(',');
    }
    bool good = true;
    if (r.err) {
        out.append("\"error\":");
        append_error(out, *r.err);
    } else {
        out.append("\"result\":");
        good = append_result(out, r);
    }
    out.push_back('}');
    if (!good) {
        out.resize(size);
    }
    return good;
}

} // namespace gyre::api::json
