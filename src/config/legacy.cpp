// Maps the flat keys of Centrifugo v2-v5 configs onto the v6 tree (the official converter's map,
// extended with older renames users still carry). Applied to file and environment trees alike.
#include "config/load.hpp"
#include "config/schema.hpp"

#include <boost/json.hpp>

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace gyre::config {
namespace json = boost::json;

namespace {

struct rename {
    std::string_view legacy;
    std::string_view path;
};

// One-to-one renames. Keys handled by rules below (prefix families, bool shorthands) are not here.
constexpr std::array renames{
    rename{"port", "http_server.port"},
    rename{"address", "http_server.address"},
    rename{"internal_port", "http_server.internal_port"},
    rename{"internal_address", "http_server.internal_address"},
    rename{"tls_cert", "http_server.tls.cert_pem"},
    rename{"tls_cert_pem", "http_server.tls.cert_pem"},
    rename{"tls_key", "http_server.tls.key_pem"},
    rename{"tls_key_pem", "http_server.tls.key_pem"},
    rename{"tls_root_ca", "http_server.tls.server_ca_pem"},
    rename{"tls_root_ca_pem", "http_server.tls.server_ca_pem"},
    rename{"tls_client_ca", "http_server.tls.client_ca_pem"},
    rename{"tls_client_ca_pem", "http_server.tls.client_ca_pem"},
    rename{"tls_external", "http_server.tls_external"},
    rename{"tls_autocert_host_whitelist", "http_server.tls_autocert.host_whitelist"},
    rename{"tls_autocert_cache_dir", "http_server.tls_autocert.cache_dir"},
    rename{"tls_autocert_email", "http_server.tls_autocert.email"},
    rename{"tls_autocert_server_name", "http_server.tls_autocert.server_name"},
    rename{"tls_autocert_http", "http_server.tls_autocert.http"},
    rename{"tls_autocert_http_addr", "http_server.tls_autocert.http_addr"},
    rename{"log_level", "log.level"},
    rename{"log_file", "log.file"},
    rename{"name", "node.name"},
    rename{"node_info_metrics_aggregate_interval", "node.info_metrics_aggregate_interval"},
    rename{"redis_use_lists", "engine.redis.history_use_lists"},
    rename{"redis_tls", "engine.redis.tls.enabled"},
    rename{"redis_sentinel_tls", "engine.redis.sentinel_tls.enabled"},
    rename{"redis_url", "engine.redis.address"},
    rename{"redis_cluster_addrs", "engine.redis.cluster_address"},
    rename{"redis_sentinels", "engine.redis.sentinel_address"},
    rename{"redis_master_name", "engine.redis.sentinel_master_name"},
    rename{"global_presence_ttl", "engine.redis.presence_ttl"},
    rename{"presence_ttl", "engine.redis.presence_ttl"},
    rename{"global_redis_presence_user_mapping", "engine.redis.presence_user_mapping"},
    rename{"redis_presence_user_mapping", "engine.redis.presence_user_mapping"},
    rename{"redis_presence_hash_field_ttl", "engine.redis.presence_hash_field_ttl"},
    rename{"secret", "client.token.hmac_secret_key"},
    rename{"separate_subscription_token_config", "client.subscription_token.enabled"},
    rename{"allowed_origins", "client.allowed_origins"},
    rename{"client_anonymous", "client.allow_anonymous_connect_without_token"},
    rename{"allow_anonymous_connect_without_token", "client.allow_anonymous_connect_without_token"},
    rename{"disallow_anonymous_connection_tokens", "client.disallow_anonymous_connection_tokens"},
    rename{"ping_interval", "client.ping_interval"},
    rename{"pong_timeout", "client.pong_timeout"},
    rename{"client_request_max_size", "websocket.message_size_limit"},
    rename{"user_subscribe_to_personal", "client.subscribe_to_user_personal_channel.enabled"},
    rename{"user_personal_channel_namespace",
           "client.subscribe_to_user_personal_channel.personal_channel_namespace"},
    rename{"user_personal_single_connection",
           "client.subscribe_to_user_personal_channel.single_connection"},
    rename{"global_history_meta_ttl", "channel.history_meta_ttl"},
    rename{"history_meta_ttl", "channel.history_meta_ttl"},
    rename{"namespaces", "channel.namespaces"},
    rename{"rpc_namespaces", "rpc.namespaces"},
    rename{"rpc_namespace_boundary", "rpc.namespace_boundary"},
    rename{"rpc_ping", "rpc.ping.enabled"},
    rename{"rpc_ping_method", "rpc.ping.method"},
    rename{"rpc_proxy_name", "rpc.without_namespace.proxy_name"},
    rename{"api_key", "http_api.key"},
    rename{"api_insecure", "http_api.insecure"},
    rename{"api_error_mode", "http_api.error_mode"},
    rename{"api_external", "http_api.external"},
    rename{"api_disable", "http_api.disabled"},
    rename{"api_handler_prefix", "http_api.handler_prefix"},
    rename{"websocket_disable", "websocket.disabled"},
    rename{"shutdown_timeout", "shutdown.timeout"},
    rename{"usage_stats_disable", "usage_stats.disabled"},
    rename{"proxy_connect_timeout", "client.proxy.connect.timeout"},
    rename{"proxy_refresh_timeout", "client.proxy.refresh.timeout"},
    rename{"proxy_subscribe_endpoint", "channel.proxy.subscribe.endpoint"},
    rename{"proxy_subscribe_timeout", "channel.proxy.subscribe.timeout"},
    rename{"proxy_publish_endpoint", "channel.proxy.publish.endpoint"},
    rename{"proxy_publish_timeout", "channel.proxy.publish.timeout"},
    rename{"proxy_sub_refresh_endpoint", "channel.proxy.sub_refresh.endpoint"},
    rename{"proxy_sub_refresh_timeout", "channel.proxy.sub_refresh.timeout"},
    rename{"proxy_subscribe_stream_endpoint", "channel.proxy.subscribe_stream.endpoint"},
    rename{"proxy_subscribe_stream_timeout", "channel.proxy.subscribe_stream.timeout"},
    rename{"proxy_rpc_endpoint", "rpc.proxy.endpoint"},
    rename{"proxy_rpc_timeout", "rpc.proxy.timeout"},
};

// Keys whose presence switches something on, besides being renamed.
constexpr std::array implied_enables{
    rename{"proxy_connect_endpoint", "client.proxy.connect"},
    rename{"proxy_refresh_endpoint", "client.proxy.refresh"},
};

// Legacy channel-option names that changed inside ChannelOptions (top level and namespaces).
constexpr std::array option_renames{
    rename{"proxy_subscribe", "subscribe_proxy_enabled"},
    rename{"proxy_publish", "publish_proxy_enabled"},
    rename{"proxy_sub_refresh", "sub_refresh_proxy_enabled"},
    rename{"proxy_subscribe_stream", "subscribe_stream_proxy_enabled"},
    rename{"proxy_subscribe_stream_bidirectional", "subscribe_stream_proxy_bidirectional"},
    rename{"anonymous", "allow_subscribe_for_anonymous"},
    rename{"position", "force_positioning"},
    rename{"recover", "force_recovery"},
    rename{"history_lifetime", "history_ttl"},
};

// Sections whose legacy form is "<section>: true" plus "<section>_<option>" keys.
constexpr std::array<std::string_view, 21> sections{
    "admin",    "prometheus",    "health",        "debug",
    "swagger",  "uni_websocket", "uni_sse",       "uni_http_stream",
    "uni_grpc", "sse",           "http_stream",   "webtransport",
    "grpc_api", "emulation",     "opentelemetry", "graphite",
    "init",     "websocket",     "tls_autocert",  "http3",
    "tls"};

// Families "<prefix><option>" -> "<section>.<option>".
constexpr std::array families{
    rename{"redis_tls_", "engine.redis.tls."},
    rename{"redis_sentinel_tls_", "engine.redis.sentinel_tls."},
    rename{"redis_", "engine.redis."},
    rename{"nats_", "broker.nats."},
    rename{"token_", "client.token."},
    rename{"subscription_token_", "client.subscription_token."},
    rename{"client_connect_code_to_unidirectional_disconnect", "client."},
    rename{"client_", "client."},
    rename{"channel_", "channel."},
};

bool has_path(const json::object& root, std::string_view path) {
    const json::object* cur = &root;
    std::size_t start = 0;
    while (true) {
        const auto dot = path.find('.', start);
        const auto key =
            path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
        const auto* v = cur->if_contains(key);
        if (v == nullptr) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        if (!v->is_object()) {
            return false;
        }
        cur = &v->get_object();
        start = dot + 1;
    }
}

bool schema_has(std::string_view path) {
    return has_path(default_tree(), path);
}

void set_path(json::object& root, std::string_view path, json::value value) {
    json::object* cur = &root;
    std::size_t start = 0;
    while (true) {
        const auto dot = path.find('.', start);
        const auto key =
            path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
        if (dot == std::string_view::npos) {
            (*cur)[key] = std::move(value);
            return;
        }
        auto& next = (*cur)[key];
        if (!next.is_object()) {
            next = json::object{};
        }
        cur = &next.get_object();
        start = dot + 1;
    }
}

/// `history_lifetime` was a number of seconds; its successor `history_ttl` is a duration.
json::value lifetime_seconds(const json::value& v) {
    if (v.is_int64() || v.is_uint64()) {
        return json::value(std::to_string(v.to_number<std::int64_t>()) + "s");
    }
    if (v.is_string()) {
        const std::string_view s = v.get_string();
        if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) {
            return json::value(std::string(s) + "s");
        }
    }
    return v; // "300s" and the like: already a duration; a wrong type is reported by the merge
}

void rename_channel_options(json::object& options) {
    for (const auto& r : option_renames) {
        if (const auto* v = options.if_contains(r.legacy); v != nullptr) {
            // copy first: inserting may rehash and move *v
            json::value moved = r.legacy == "history_lifetime" ? lifetime_seconds(*v) : *v;
            if (!options.contains(r.path)) {
                options[r.path] = std::move(moved);
            }
            options.erase(r.legacy);
        }
    }
}

/// Target path for a legacy top-level key, or empty when the key is not legacy.
std::string legacy_target(std::string_view key, const json::value& value) {
    for (const auto& r : renames) {
        if (r.legacy == key) {
            return std::string(r.path);
        }
    }
    for (const auto& s : sections) {
        if (key == s && !value.is_object()) {
            if (s == "tls_autocert" || s == "http3" || s == "tls") {
                return "http_server." + std::string(s) + ".enabled";
            }
            return std::string(s) + ".enabled";
        }
        if (key.size() > s.size() + 1 && key.starts_with(s) && key[s.size()] == '_') {
            const auto rest = key.substr(s.size() + 1);
            std::string base = (s == "tls_autocert" || s == "http3" || s == "tls")
                                   ? "http_server." + std::string(s) + "."
                                   : std::string(s) + ".";
            if (schema_has(base + std::string(rest))) {
                return base + std::string(rest);
            }
        }
    }
    for (const auto& f : families) {
        if (key.starts_with(f.legacy)) {
            const auto rest = key.substr(f.legacy.size());
            std::string target = std::string(f.path) + std::string(rest);
            if (f.legacy == "client_connect_code_to_unidirectional_disconnect") {
                target = std::string(f.path) + std::string(key.substr(7));
            }
            if (schema_has(target)) {
                return target;
            }
        }
    }
    const auto& opts = channel_options_schema();
    if (opts.contains(key)) {
        return "channel.without_namespace." + std::string(key);
    }
    for (const auto& r : option_renames) {
        if (r.legacy == key) {
            return "channel.without_namespace." + std::string(r.path);
        }
    }
    return {};
}

void copy_shared_proxy_options(json::object& tree, const json::object& legacy) {
    // v5 proxy_* options applied to every proxy; v6 has them per proxy object.
    constexpr std::array shared{rename{"proxy_http_headers", "http_headers"},
                                rename{"proxy_grpc_metadata", "grpc_metadata"},
                                rename{"proxy_binary_encoding", "binary_encoding"},
                                rename{"proxy_include_connection_meta", "include_connection_meta"},
                                rename{"proxy_static_http_headers", "http.static_headers"}};
    constexpr std::array proxies{"client.proxy.connect",
                                 "client.proxy.refresh",
                                 "channel.proxy.subscribe",
                                 "channel.proxy.publish",
                                 "channel.proxy.sub_refresh",
                                 "channel.proxy.subscribe_stream",
                                 "rpc.proxy"};
    for (const auto& s : shared) {
        if (const auto* v = legacy.if_contains(s.legacy); v != nullptr) {
            for (const char* p : proxies) {
                const std::string path = std::string(p) + "." + std::string(s.path);
                if (!has_path(tree, path)) {
                    set_path(tree, path, *v);
                }
            }
        }
    }
}

} // namespace

void rename_legacy_channel_options(json::object& options) {
    rename_channel_options(options);
}

std::vector<std::pair<std::string, std::string>> legacy_renames() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : renames) {
        out.emplace_back(r.legacy, r.path);
    }
    return out;
}

void apply_legacy_keys(json::object& file_tree, std::vector<std::string>& warnings) {
    // v6 keys first, so that "nested wins" sees them whatever the order in the file.
    json::object out;
    std::vector<std::pair<std::string, json::value>> flat;
    for (const auto& kv : file_tree) {
        const auto* def = default_tree().if_contains(kv.key());
        if (def != nullptr && kv.value().is_object() == def->is_object()) {
            out[kv.key()] = kv.value();
        } else {
            flat.emplace_back(std::string(kv.key()), kv.value());
        }
    }
    json::object legacy;
    std::string mapped;
    for (const auto& [key, value] : flat) {
        std::string target;
        std::string enable_path;
        if (key == "engine" && value.is_string()) {
            target = "engine.type";
        } else if ((key == "broker" || key == "presence_manager") && value.is_string()) {
            target = key + ".type";
            enable_path = key + ".enabled";
        } else if (key == "proxy_connect_endpoint" || key == "proxy_refresh_endpoint") {
            for (const auto& r : implied_enables) {
                if (r.legacy == key) {
                    target = std::string(r.path) + ".endpoint";
                    enable_path = std::string(r.path) + ".enabled";
                }
            }
        } else if (key == "proxy_http_headers" || key == "proxy_grpc_metadata" ||
                   key == "proxy_binary_encoding" || key == "proxy_include_connection_meta" ||
                   key == "proxy_static_http_headers") {
            legacy[key] = value;
            mapped += (mapped.empty() ? "" : ", ") + key;
            continue;
        } else {
            target = legacy_target(key, value);
        }
        if (key == "proxy_rpc_endpoint") {
            enable_path = "rpc.without_namespace.proxy_enabled";
        }
        if (target.empty()) {
            out[key] = value; // not legacy either: reported as unknown by merge_checked
            continue;
        }
        if (has_path(out, target)) {
            warnings.push_back("legacy key " + key + " ignored: " + target + " is also set");
            continue;
        }
        set_path(out, target, key == "history_lifetime" ? lifetime_seconds(value) : value);
        if (!enable_path.empty() && !has_path(out, enable_path)) {
            set_path(out, enable_path, true);
        }
        mapped += (mapped.empty() ? "" : ", ") + key + " -> " + target;
    }
    file_tree = std::move(out);
    copy_shared_proxy_options(file_tree, legacy);

    // Legacy option names inside channel options, wherever they are.
    if (auto* ch = file_tree.if_contains("channel"); ch != nullptr && ch->is_object()) {
        if (auto* wn = ch->get_object().if_contains("without_namespace");
            wn != nullptr && wn->is_object()) {
            rename_channel_options(wn->get_object());
        }
        if (auto* ns = ch->get_object().if_contains("namespaces");
            ns != nullptr && ns->is_array()) {
            for (auto& item : ns->get_array()) {
                if (item.is_object()) {
                    rename_channel_options(item.get_object());
                }
            }
        }
    }
    // `channels` entries are renamed by the merge, whatever layer (file, environment) they come
    // from.
    if (!mapped.empty()) {
        warnings.push_back("legacy configuration keys mapped to the v6 layout: " + mapped);
    }
}

} // namespace gyre::config
