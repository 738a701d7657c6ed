#include "node/control.hpp"

#include <boost/json.hpp>

namespace gyre::node {
namespace json = boost::json;

namespace {

void put_optional(json::object& o, const char* key, const std::optional<bool>& v) {
    if (v) {
        o[key] = *v;
    }
}

std::optional<bool> get_optional(const json::object& o, const char* key) {
    if (const auto* v = o.if_contains(key); v != nullptr && v->is_bool()) {
        return v->as_bool();
    }
    return std::nullopt;
}

std::string get_string(const json::object& o, const char* key) {
    if (const auto* v = o.if_contains(key); v != nullptr && v->is_string()) {
        return std::string(v->as_string());
    }
    return {};
}

std::int64_t get_int(const json::object& o, const char* key) {
    if (const auto* v = o.if_contains(key); v != nullptr && v->is_int64()) {
        return v->as_int64();
    }
    if (const auto* v = o.if_contains(key); v != nullptr && v->is_uint64()) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    return 0;
}

} // namespace

std::string encode_user_command(const user_command& cmd) {
    json::object o;
    o["user"] = cmd.user;
    o["client"] = cmd.client;
    o["session"] = cmd.session;
    json::array wl;
    for (const auto& c : cmd.whitelist) {
        wl.emplace_back(c);
    }
    o["whitelist"] = std::move(wl);
    json::object a;
    std::visit(
        [&a](const auto& act) {
            using T = std::decay_t<decltype(act)>;
            if constexpr (std::is_same_v<T, subscribe_action>) {
                a["type"] = "subscribe";
                a["channel"] = act.channel;
                a["chan_info"] = act.chan_info; // raw bytes travel as a JSON string
                a["data"] = act.data;
                a["expire_at"] = act.expire_at;
                json::object ov;
                put_optional(ov, "presence", act.override_options.presence);
                put_optional(ov, "join_leave", act.override_options.join_leave);
                put_optional(
                    ov, "force_push_join_leave", act.override_options.force_push_join_leave);
                put_optional(ov, "force_recovery", act.override_options.force_recovery);
                put_optional(ov, "force_positioning", act.override_options.force_positioning);
                a["override"] = std::move(ov);
                if (act.recover_since) {
                    a["since"] = json::object{{"offset", act.recover_since->offset},
                                              {"epoch", act.recover_since->epoch}};
                }
            } else if constexpr (std::is_same_v<T, unsubscribe_action>) {
                a["type"] = "unsubscribe";
                a["channel"] = act.channel;
            } else if constexpr (std::is_same_v<T, disconnect_action>) {
                a["type"] = "disconnect";
                a["code"] = act.code;
                a["reason"] = act.reason;
            } else {
                a["type"] = "refresh";
                a["expired"] = act.expired;
                a["expire_at"] = act.expire_at;
                a["info"] = act.info;
            }
        },
        cmd.action);
    o["action"] = std::move(a);
    return json::serialize(o);
}

std::optional<user_command> decode_user_command(std::string_view text) {
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    const auto& o = v.as_object();
    const auto* a = o.if_contains("action");
    if (a == nullptr || !a->is_object()) {
        return std::nullopt;
    }
    const auto& act = a->as_object();
    user_command cmd;
    cmd.user = get_string(o, "user");
    cmd.client = get_string(o, "client");
    cmd.session = get_string(o, "session");
    if (const auto* wl = o.if_contains("whitelist"); wl != nullptr && wl->is_array()) {
        for (const auto& c : wl->as_array()) {
            if (c.is_string()) {
                cmd.whitelist.emplace_back(c.as_string());
            }
        }
    }
    const std::string type = get_string(act, "type");
    if (type == "subscribe") {
        subscribe_action s;
        s.channel = get_string(act, "channel");
        s.chan_info = get_string(act, "chan_info");
        s.data = get_string(act, "data");
        s.expire_at = get_int(act, "expire_at");
        if (const auto* ov = act.if_contains("override"); ov != nullptr && ov->is_object()) {
            const auto& oo = ov->as_object();
            s.override_options.presence = get_optional(oo, "presence");
            s.override_options.join_leave = get_optional(oo, "join_leave");
            s.override_options.force_push_join_leave = get_optional(oo, "force_push_join_leave");
            s.override_options.force_recovery = get_optional(oo, "force_recovery");
            s.override_options.force_positioning = get_optional(oo, "force_positioning");
        }
        if (const auto* since = act.if_contains("since"); since != nullptr && since->is_object()) {
            s.recover_since = protocol::client::stream_position{
                static_cast<std::uint64_t>(get_int(since->as_object(), "offset")),
                get_string(since->as_object(), "epoch")};
        }
        cmd.action = std::move(s);
    } else if (type == "unsubscribe") {
        cmd.action = unsubscribe_action{get_string(act, "channel")};
    } else if (type == "disconnect") {
        cmd.action = disconnect_action{static_cast<std::uint32_t>(get_int(act, "code")),
                                       get_string(act, "reason")};
    } else if (type == "refresh") {
        refresh_action r;
        if (const auto* e = act.if_contains("expired"); e != nullptr && e->is_bool()) {
            r.expired = e->as_bool();
        }
        r.expire_at = get_int(act, "expire_at");
        r.info = get_string(act, "info");
        cmd.action = std::move(r);
    } else {
        return std::nullopt;
    }
    return cmd;
}

std::string encode_peer_info(const peer_info& info) {
    return json::serialize(json::object{{"uid", info.uid},
                                        {"name", info.name},
                                        {"version", info.version},
                                        {"num_clients", info.stats.num_clients},
                                        {"num_users", info.stats.num_users},
                                        {"num_channels", info.stats.num_channels},
                                        {"num_subs", info.stats.num_subs},
                                        {"uptime", info.uptime},
                                        {"cpu", info.cpu_percent},
                                        {"rss", info.rss_bytes}});
}

std::optional<peer_info> decode_peer_info(std::string_view text) {
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    const auto& o = v.as_object();
    peer_info p;
    p.uid = get_string(o, "uid");
    if (p.uid.empty()) {
        return std::nullopt;
    }
    p.name = get_string(o, "name");
    p.version = get_string(o, "version");
    const auto u32 = [&o](const char* key) {
        return static_cast<std::uint32_t>(get_int(o, key));
    };
    p.stats.num_clients = u32("num_clients");
    p.stats.num_users = u32("num_users");
    p.stats.num_channels = u32("num_channels");
    p.stats.num_subs = u32("num_subs");
    p.uptime = u32("uptime");
    p.rss_bytes = static_cast<std::uint64_t>(get_int(o, "rss"));
    if (const auto* cpu = o.if_contains("cpu"); cpu && cpu->is_number()) {
        p.cpu_percent = cpu->to_number<double>();
    }
    return p;
}

std::string encode_channel_counts(const channel_counts& counts) {
    json::object o;
    for (const auto& [channel, n] : counts) {
        o[channel] = n;
    }
    return json::serialize(o);
}

std::optional<channel_counts> decode_channel_counts(std::string_view text) {
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    channel_counts out;
    for (const auto& [channel, n] : v.as_object()) {
        if (n.is_uint64() || n.is_int64()) {
            out.emplace(std::string(channel),
                        static_cast<std::uint32_t>(n.to_number<std::uint64_t>()));
        }
    }
    return out;
}

} // namespace gyre::node
