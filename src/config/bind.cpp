// Typed binding of the merged tree, and Centrifugo's start-up validation rules.
#include "config/config.hpp"
#include "config/duration.hpp"
#include "config/load.hpp"

#include <boost/json.hpp>

#include <regex>
#include <set>

namespace gyre::config {
namespace json = boost::json;

namespace {

// The tree is complete (defaults merged with checked input), so lookups cannot miss;
// at() still throws if a schema change forgets a key, which a unit test catches.
const json::value& at(const json::object& o, std::string_view path) {
    const json::object* cur = &o;
    for (;;) {
        const auto dot = path.find('.');
        if (dot == std::string_view::npos) {
            return cur->at(path);
        }
        cur = &cur->at(path.substr(0, dot)).as_object();
        path.remove_prefix(dot + 1);
    }
}

std::string str(const json::object& o, std::string_view path) {
    return std::string(at(o, path).as_string());
}

bool flag(const json::object& o, std::string_view path) {
    return at(o, path).as_bool();
}

std::int64_t num(const json::object& o, std::string_view path) {
    return at(o, path).as_int64();
}

duration dur(const json::object& o, std::string_view path) {
    return parse_duration(at(o, path).as_string()).value_or(duration{});
}

std::vector<std::string> list(const json::object& o, std::string_view path) {
    std::vector<std::string> out;
    for (const auto& v : at(o, path).as_array()) {
        out.emplace_back(v.as_string());
    }
    return out;
}

/// `<path>.transforms`: [{"code": N, "to": {...}}]; the target is a disconnect
/// ({"code", "reason"}) or an HTTP answer ({"status_code", "body"}).
std::vector<code_transform> transforms(const json::object& o, std::string_view path) {
    std::vector<code_transform> out;
    const std::string key = std::string(path) + ".transforms";
    const auto& items = at(o, key).as_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string where = key + "[" + std::to_string(i) + "]";
        const auto* item = items[i].if_object();
        const auto* to = item != nullptr ? item->if_contains("to") : nullptr;
        const auto* code = item != nullptr ? item->if_contains("code") : nullptr;
        if (to == nullptr || !to->is_object() || code == nullptr || !code->is_int64()) {
            throw config_error(where +
                               ": must be an object with numeric \"code\" and object \"to\"");
        }
        code_transform t;
        t.code = static_cast<std::uint32_t>(code->as_int64());
        for (const char* k : {"code", "status_code"}) {
            if (const auto* v = to->as_object().if_contains(k); v != nullptr && v->is_int64()) {
                t.to_code = static_cast<std::uint32_t>(v->as_int64());
            }
        }
        for (const char* k : {"reason", "body"}) {
            if (const auto* v = to->as_object().if_contains(k); v != nullptr && v->is_string()) {
                t.to_reason = std::string(v->as_string());
            }
        }
        if (t.to_code == 0) {
            throw config_error(where + ".to: needs a non-zero code (or status_code)");
        }
        out.push_back(std::move(t));
    }
    return out;
}

http_transport_options http_transport(const json::object& t, const std::string& section) {
    const auto& o = at(t, section).as_object();
    http_transport_options out;
    out.enabled = o.contains("enabled") && o.at("enabled").as_bool();
    out.handler_prefix = std::string(o.at("handler_prefix").as_string());
    const auto limit = o.at("max_request_body_size").as_int64();
    out.max_request_body_size = limit > 0 ? static_cast<std::size_t>(limit) : 65536;
    return out;
}

token_options bind_token(const json::object& t) {
    token_options o;
    o.hmac_secret_key = str(t, "hmac_secret_key");
    o.hmac_previous_secret_key = str(t, "hmac_previous_secret_key");
    o.hmac_previous_secret_key_valid_until = num(t, "hmac_previous_secret_key_valid_until");
    o.rsa_public_key = str(t, "rsa_public_key");
    o.ecdsa_public_key = str(t, "ecdsa_public_key");
    o.jwks_public_endpoint = str(t, "jwks_public_endpoint");
    o.audience = str(t, "audience");
    o.audience_regex = str(t, "audience_regex");
    o.issuer = str(t, "issuer");
    o.issuer_regex = str(t, "issuer_regex");
    o.user_id_claim = str(t, "user_id_claim");
    o.insecure_skip_jwks_endpoint_safety_check =
        flag(t, "insecure_skip_jwks_endpoint_safety_check");
    return o;
}

channel_options bind_channel(const json::object& c) {
    channel_options o;
    o.presence = flag(c, "presence");
    o.join_leave = flag(c, "join_leave");
    o.force_push_join_leave = flag(c, "force_push_join_leave");
    o.history_size = num(c, "history_size");
    o.history_ttl = dur(c, "history_ttl");
    o.history_meta_ttl = dur(c, "history_meta_ttl");
    o.force_positioning = flag(c, "force_positioning");
    o.allow_positioning = flag(c, "allow_positioning");
    o.force_recovery = flag(c, "force_recovery");
    o.allow_recovery = flag(c, "allow_recovery");
    o.force_recovery_mode = str(c, "force_recovery_mode");
    o.auto_cache_recover = flag(c, "auto_cache_recover");
    o.allowed_delta_types = list(c, "allowed_delta_types");
    o.delta_publish = flag(c, "delta_publish");
    o.allow_tags_filter = flag(c, "allow_tags_filter");
    o.publication_data_format = str(c, "publication_data_format");
    o.allow_subscribe_for_client = flag(c, "allow_subscribe_for_client");
    o.allow_subscribe_for_anonymous = flag(c, "allow_subscribe_for_anonymous");
    o.allow_publish_for_client = flag(c, "allow_publish_for_client");
    o.allow_publish_for_subscriber = flag(c, "allow_publish_for_subscriber");
    o.allow_publish_for_anonymous = flag(c, "allow_publish_for_anonymous");
    o.allow_presence_for_client = flag(c, "allow_presence_for_client");
    o.allow_presence_for_subscriber = flag(c, "allow_presence_for_subscriber");
    o.allow_presence_for_anonymous = flag(c, "allow_presence_for_anonymous");
    o.allow_history_for_client = flag(c, "allow_history_for_client");
    o.allow_history_for_subscriber = flag(c, "allow_history_for_subscriber");
    o.allow_history_for_anonymous = flag(c, "allow_history_for_anonymous");
    o.allow_user_limited_channels = flag(c, "allow_user_limited_channels");
    o.channel_regex = str(c, "channel_regex");
    o.subscribe_proxy_enabled = flag(c, "subscribe_proxy_enabled");
    o.subscribe_proxy_name = str(c, "subscribe_proxy_name");
    o.publish_proxy_enabled = flag(c, "publish_proxy_enabled");
    o.publish_proxy_name = str(c, "publish_proxy_name");
    o.sub_refresh_proxy_enabled = flag(c, "sub_refresh_proxy_enabled");
    o.sub_refresh_proxy_name = str(c, "sub_refresh_proxy_name");
    return o;
}

[[noreturn]] void invalid(const std::string& what) {
    throw config_error("invalid config: " + what);
}

bool matches(const char* pattern, const std::string& s) {
    return std::regex_match(s, std::regex(pattern));
}

void validate_data_format(const std::string& f, const std::string& path) {
    if (f != "" && f != "json" && f != "json_object" && f != "binary") {
        invalid(path + ": \"" + f + "\" (expected \"\", \"json\", \"json_object\" or \"binary\")");
    }
}

/// channel.publication_data_format applies to every namespace that leaves its own empty
/// (Centrifugo resolves it per channel lookup; the result is the same).
void inherit_data_format(config& c) {
    const auto& global = c.channel.publication_data_format;
    validate_data_format(global, "channel.publication_data_format");
    if (global.empty()) {
        return;
    }
    if (c.channel.without_namespace.publication_data_format.empty()) {
        c.channel.without_namespace.publication_data_format = global;
    }
    for (auto& ns : c.channel.namespaces) {
        if (ns.options.publication_data_format.empty()) {
            ns.options.publication_data_format = global;
        }
    }
}

void validate_channel(const channel_options& o, const std::string& where, duration global_meta) {
    if ((o.history_size == 0) != (o.history_ttl.count() == 0)) {
        invalid(where +
                ": history_size and history_ttl must be set together (both zero or both "
                "positive), got history_size=" +
                std::to_string(o.history_size) + " history_ttl=" + format_duration(o.history_ttl));
    }
    for (const auto& [name, d] : {std::pair{"history_ttl", o.history_ttl},
                                  std::pair{"history_meta_ttl", o.history_meta_ttl}}) {
        if (d.count() % 1'000'000'000 != 0) {
            invalid(where + "." + name + ": must be whole seconds, got " + format_duration(d));
        }
    }
    const duration meta = o.history_meta_ttl.count() > 0 ? o.history_meta_ttl : global_meta;
    if (o.history_ttl > meta) {
        invalid(where + ".history_ttl: " + format_duration(o.history_ttl) +
                " exceeds history_meta_ttl " + format_duration(meta));
    }
    if (o.force_recovery && !o.history_enabled()) {
        invalid(where + ".force_recovery: requires history (history_size and history_ttl)");
    }
    if (o.force_recovery_mode != "" && o.force_recovery_mode != "stream" &&
        o.force_recovery_mode != "cache") {
        invalid(where + ".force_recovery_mode: \"" + o.force_recovery_mode +
                "\" (expected \"stream\" or \"cache\")");
    }
    if (o.auto_cache_recover && !(o.force_recovery && o.force_recovery_mode == "cache")) {
        invalid(where + ".auto_cache_recover: requires force_recovery with force_recovery_mode "
                        "\"cache\"");
    }
    for (const auto& t : o.allowed_delta_types) {
        if (t != "fossil") {
            invalid(where + ".allowed_delta_types: unknown delta type \"" + t +
                    "\" (expected \"fossil\")");
        }
    }
    validate_data_format(o.publication_data_format, where + ".publication_data_format");
    if (!o.channel_regex.empty()) {
        try {
            std::regex re(o.channel_regex);
        } catch (const std::regex_error&) {
            invalid(where + ".channel_regex: \"" + o.channel_regex + "\" is not a valid regexp");
        }
    }
}

void validate_names(const json::array& items, const std::string& where, bool reserve_default) {
    std::set<std::string> seen;
    for (const auto& item : items) {
        const std::string name(item.as_object().at("name").as_string());
        if (!matches("^[-a-zA-Z0-9_.]{2,}$", name)) {
            invalid(where + ": name \"" + name + "\" must match ^[-a-zA-Z0-9_.]{2,}$");
        }
        if (reserve_default && name == "default") {
            invalid(where + ": name \"default\" is reserved");
        }
        if (!seen.insert(name).second) {
            invalid(where + ": name \"" + name + "\" is used twice");
        }
    }
}

void validate_one_of(const std::string& key,
                     const std::string& value,
                     std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
        if (value == a) {
            return;
        }
        list += std::string(list.empty() ? "" : ", ") + "\"" + a + "\"";
    }
    invalid(key + ": \"" + value + "\" (expected one of " + list + ")");
}

void validate(const config& c, const json::object& t) {
    validate_one_of(
        "log.level", c.log.level, {"none", "trace", "debug", "info", "warn", "error", "fatal"});
    validate_one_of("engine.type", c.engine.type, {"memory", "redis"});
    validate_one_of(
        "broker.type", str(t, "broker.type"), {"memory", "redis", "nats", "redisnats", "postgres"});
    validate_one_of("presence_manager.type", str(t, "presence_manager.type"), {"memory", "redis"});
    validate_one_of("http_api.error_mode", c.http_api.error_mode, {"", "transport"});
    validate_one_of("grpc_api.error_mode", str(t, "grpc_api.error_mode"), {"", "transport"});
    if (num(t, "http_server.port") > 65535) {
        invalid("http_server.port: " + std::to_string(num(t, "http_server.port")) +
                " (expected a port number 0-65535)");
    }
    if (!c.http_server.internal_port.empty()) {
        const auto& p = c.http_server.internal_port;
        if (!matches("^[0-9]{1,5}$", p) || std::stoi(p) > 65535) {
            invalid("http_server.internal_port: \"" + p + "\" (expected a port number)");
        }
    }
    if (flag(t, "http_server.h2c_external") &&
        (c.http_server.internal_port.empty() ||
         c.http_server.internal_port == std::to_string(c.http_server.port))) {
        invalid("http_server.h2c_external: requires a distinct http_server.internal_port");
    }
    if (c.client.ping_interval.count() > 0 && c.client.pong_timeout.count() > 0 &&
        c.client.ping_interval <= c.client.pong_timeout) {
        invalid("client.ping_interval (" + format_duration(c.client.ping_interval) +
                ") must be greater than client.pong_timeout (" +
                format_duration(c.client.pong_timeout) + ")");
    }
    for (const auto* claim :
         {&c.client.token.user_id_claim, &c.client.subscription_token.user_id_claim}) {
        if (!claim->empty() && !matches("^[a-zA-Z_]+$", *claim)) {
            invalid("client.token.user_id_claim: \"" + *claim + "\" must match ^[a-zA-Z_]+$");
        }
    }
    if (c.websocket.message_size_limit == 0) {
        invalid("websocket.message_size_limit: must be positive");
    }
    if (c.http_server.max_request_body_size == 0 || c.http_server.max_request_header_size == 0) {
        invalid("http_server.max_request_body_size / max_request_header_size: must be positive");
    }
    validate_names(at(t, "channel.namespaces").as_array(), "channel.namespaces", false);
    validate_names(at(t, "rpc.namespaces").as_array(), "rpc.namespaces", false);
    validate_names(at(t, "proxies").as_array(), "proxies", true);
    validate_channel(
        c.channel.without_namespace, "channel.without_namespace", c.channel.history_meta_ttl);
    for (const auto& ns : c.channel.namespaces) {
        validate_channel(
            ns.options, "channel.namespaces[" + ns.name + "]", c.channel.history_meta_ttl);
    }
    const auto& personal = at(t, "client.subscribe_to_user_personal_channel").as_object();
    if (personal.at("enabled").as_bool() && personal.at("single_connection").as_bool()) {
        const std::string ns(personal.at("personal_channel_namespace").as_string());
        const channel_options* opts =
            ns.empty() ? &c.channel.without_namespace : c.find_namespace(ns);
        if (opts == nullptr) {
            invalid("client.subscribe_to_user_personal_channel.personal_channel_namespace: "
                    "namespace \"" +
                    ns + "\" does not exist");
        }
        if (!opts->presence) {
            invalid(
                "client.subscribe_to_user_personal_channel.single_connection: requires presence "
                "in the personal channel namespace");
        }
    }
}

/// The namespace item (or without_namespace) a channel name falls in, as the session resolves it.
const json::object* base_options(const json::object& ch, std::string_view channel) {
    const std::string prefix(ch.at("private_prefix").as_string());
    if (!prefix.empty() && channel.starts_with(prefix)) {
        channel.remove_prefix(prefix.size());
    }
    const std::string boundary(ch.at("namespace_boundary").as_string());
    const auto pos = boundary.empty() ? std::string_view::npos : channel.find(boundary);
    if (pos == std::string_view::npos) {
        return &ch.at("without_namespace").as_object();
    }
    for (const auto& item : ch.at("namespaces").as_array()) {
        if (item.as_object().at("name").as_string() == channel.substr(0, pos)) {
            return &item.as_object();
        }
    }
    return nullptr;
}

/// `channels`: each entry's options laid over those of the namespace it falls in.
void bind_exact_channels(config& c, const json::object& t) {
    const auto* named = t.if_contains("channels");
    if (named == nullptr) {
        return;
    }
    const auto& ch = at(t, "channel").as_object();
    for (const auto& kv : named->as_object()) {
        const std::string name(kv.key());
        const json::object* base = base_options(ch, name);
        if (base == nullptr) {
            invalid("channels." + name + ": the channel's namespace does not exist");
        }
        json::object merged = *base;
        for (const auto& opt : kv.value().as_object()) {
            merged[opt.key()] = opt.value();
        }
        c.channel.exact[name] = bind_channel(merged);
        validate_channel(c.channel.exact[name], "channels." + name, c.channel.history_meta_ttl);
    }
}

} // namespace

const channel_options* config::find_exact_channel(std::string_view name) const noexcept {
    if (channel.exact.empty()) {
        return nullptr;
    }
    const auto it = channel.exact.find(name);
    return it == channel.exact.end() ? nullptr : &it->second;
}

const channel_options* config::find_namespace(std::string_view name) const noexcept {
    for (const auto& ns : channel.namespaces) {
        if (ns.name == name) {
            return &ns.options;
        }
    }
    return nullptr;
}

config bind_and_validate(const json::object& t) {
    config c;
    c.http_server.address = str(t, "http_server.address");
    c.http_server.port = static_cast<std::uint16_t>(num(t, "http_server.port") & 0xFFFF);
    c.http_server.internal_address = str(t, "http_server.internal_address");
    c.http_server.internal_port = str(t, "http_server.internal_port");
    c.http_server.max_request_header_size =
        static_cast<std::size_t>(num(t, "http_server.max_request_header_size"));
    c.http_server.max_request_body_size =
        static_cast<std::size_t>(num(t, "http_server.max_request_body_size"));
    c.log.level = str(t, "log.level");
    c.log.file = str(t, "log.file");

    const auto& cl = at(t, "client").as_object();
    c.client.allowed_origins = list(cl, "allowed_origins");
    c.client.token = bind_token(cl.at("token").as_object());
    c.client.subscription_token_enabled = flag(cl, "subscription_token.enabled");
    c.client.subscription_token = bind_token(cl.at("subscription_token").as_object());
    c.client.allow_anonymous_connect_without_token =
        flag(cl, "allow_anonymous_connect_without_token");
    c.client.disallow_anonymous_connection_tokens =
        flag(cl, "disallow_anonymous_connection_tokens");
    c.client.ping_interval = dur(cl, "ping_interval");
    c.client.pong_timeout = dur(cl, "pong_timeout");
    c.client.expired_close_delay = dur(cl, "expired_close_delay");
    c.client.expired_sub_close_delay = dur(cl, "expired_sub_close_delay");
    c.client.channel_position_check_delay = dur(cl, "channel_position_check_delay");
    c.client.channel_position_max_time_lag = dur(cl, "channel_position_max_time_lag");
    c.client.stale_close_delay = dur(cl, "stale_close_delay");
    c.client.personal_channel.enabled = flag(cl, "subscribe_to_user_personal_channel.enabled");
    c.client.personal_channel.personal_channel_namespace =
        str(cl, "subscribe_to_user_personal_channel.personal_channel_namespace");
    c.client.personal_channel.single_connection =
        flag(cl, "subscribe_to_user_personal_channel.single_connection");
    c.client.connect_code_to_unidirectional_disconnect =
        flag(cl, "connect_code_to_unidirectional_disconnect.enabled");
    c.client.unidirectional_code_transforms =
        transforms(t, "client.connect_code_to_unidirectional_disconnect");
    c.client.channel_limit = num(cl, "channel_limit");
    c.client.queue_max_size = num(cl, "queue_max_size");
    c.client.max_messages_in_frame = num(cl, "max_messages_in_frame");
    c.client.presence_update_interval = dur(cl, "presence_update_interval");
    c.client.connection_limit = num(cl, "connection_limit");
    c.client.user_connection_limit = num(cl, "user_connection_limit");
    c.client.connect_include_server_time = flag(cl, "connect_include_server_time");
    c.client.history_max_publication_limit = num(cl, "history_max_publication_limit");
    c.client.recovery_max_publication_limit = num(cl, "recovery_max_publication_limit");
    c.client.insecure_skip_token_signature_verify =
        flag(cl, "insecure_skip_token_signature_verify");
    c.client.user_id_http_header = str(cl, "user_id_http_header");
    c.client.insecure = flag(cl, "insecure");

    const auto& ch = at(t, "channel").as_object();
    c.channel.without_namespace = bind_channel(ch.at("without_namespace").as_object());
    for (const auto& item : ch.at("namespaces").as_array()) {
        const auto& o = item.as_object();
        c.channel.namespaces.push_back({std::string(o.at("name").as_string()), bind_channel(o)});
    }
    c.channel.history_meta_ttl = dur(ch, "history_meta_ttl");
    c.channel.publication_data_format = str(ch, "publication_data_format");
    inherit_data_format(c);
    c.channel.max_length = num(ch, "max_length");
    c.channel.private_prefix = str(ch, "private_prefix");
    c.channel.namespace_boundary = str(ch, "namespace_boundary");
    c.channel.user_boundary = str(ch, "user_boundary");
    c.channel.user_separator = str(ch, "user_separator");

    c.http_api.disabled = flag(t, "http_api.disabled");
    c.http_api.handler_prefix = str(t, "http_api.handler_prefix");
    c.http_api.key = str(t, "http_api.key");
    c.http_api.error_mode = str(t, "http_api.error_mode");
    c.http_api.external = flag(t, "http_api.external");
    c.http_api.insecure = flag(t, "http_api.insecure");

    c.engine.type = str(t, "engine.type");
    c.engine.redis_address = list(t, "engine.redis.address");
    c.engine.redis_prefix = str(t, "engine.redis.prefix");
    c.engine.redis_presence_ttl = dur(t, "engine.redis.presence_ttl");
    c.broker.enabled = flag(t, "broker.enabled");
    c.broker.type = str(t, "broker.type");
    c.broker.nats_url = str(t, "broker.nats.url");
    c.broker.nats_prefix = str(t, "broker.nats.prefix");
    c.broker.nats_dial_timeout = dur(t, "broker.nats.dial_timeout");
    c.broker.nats_write_timeout = dur(t, "broker.nats.write_timeout");

    c.admin.enabled = flag(t, "admin.enabled");
    c.admin.handler_prefix = str(t, "admin.handler_prefix");
    c.admin.password = str(t, "admin.password");
    c.admin.secret = str(t, "admin.secret");
    c.admin.insecure = flag(t, "admin.insecure");
    c.admin.external = flag(t, "admin.external");
    c.admin.web_path = str(t, "admin.web_path");

    c.websocket.disabled = flag(t, "websocket.disabled");
    c.websocket.handler_prefix = str(t, "websocket.handler_prefix");
    c.websocket.message_size_limit = num(t, "websocket.message_size_limit");
    c.websocket.read_buffer_size = num(t, "websocket.read_buffer_size");
    c.websocket.write_buffer_size = num(t, "websocket.write_buffer_size");
    c.websocket.write_timeout = dur(t, "websocket.write_timeout");

    c.sse = http_transport(t, "sse");
    c.http_stream = http_transport(t, "http_stream");
    c.emulation = http_transport(t, "emulation");
    c.emulation.enabled = c.sse.enabled || c.http_stream.enabled;
    c.uni_sse = http_transport(t, "uni_sse");
    c.uni_http_stream = http_transport(t, "uni_http_stream");
    c.uni_sse_code_to_http = flag(t, "uni_sse.connect_code_to_http_response.enabled");
    c.uni_sse_code_transforms = transforms(t, "uni_sse.connect_code_to_http_response");
    c.uni_http_stream_code_to_http =
        flag(t, "uni_http_stream.connect_code_to_http_response.enabled");
    c.uni_http_stream_code_transforms =
        transforms(t, "uni_http_stream.connect_code_to_http_response");
    c.uni_websocket.enabled = flag(t, "uni_websocket.enabled");
    c.uni_websocket.handler_prefix = str(t, "uni_websocket.handler_prefix");
    c.uni_websocket.message_size_limit = num(t, "uni_websocket.message_size_limit");
    c.uni_websocket.join_push_messages = flag(t, "uni_websocket.join_push_messages");
    c.uni_websocket.disable_closing_handshake = flag(t, "uni_websocket.disable_closing_handshake");
    c.uni_websocket.disable_disconnect_push = flag(t, "uni_websocket.disable_disconnect_push");
    c.uni_websocket.write_timeout = dur(t, "uni_websocket.write_timeout");

    c.health = {flag(t, "health.enabled"), str(t, "health.handler_prefix")};
    c.prometheus = {flag(t, "prometheus.enabled"), str(t, "prometheus.handler_prefix")};
    c.init = {flag(t, "init.enabled"), str(t, "init.handler_prefix")};
    c.debug = {flag(t, "debug.enabled"), str(t, "debug.handler_prefix")};
    c.access_log = flag(t, "gyre.access_log");

    c.node_name = str(t, "node.name");
    c.pid_file = str(t, "pid_file");
    c.shutdown_timeout = dur(t, "shutdown.timeout");
    c.shards = num(t, "gyre.shards");
    c.tree = t;

    validate(c, t);
    bind_exact_channels(c, t);
    return c;
}

} // namespace gyre::config
