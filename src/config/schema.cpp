#include "config/schema.hpp"

#include "config/duration.hpp"

#include <boost/json.hpp>

#include <set>
#include <string>

namespace gyre::config {
namespace json = boost::json;

namespace {

json::object tls() {
    return {{"enabled", false},
            {"cert_pem", ""},
            {"key_pem", ""},
            {"server_ca_pem", ""},
            {"client_ca_pem", ""},
            {"insecure_skip_verify", false},
            {"server_name", ""}};
}

json::object redis(bool with_presence, bool with_lists) {
    json::object o{{"address", json::array{"redis://127.0.0.1:6379"}},
                   {"prefix", "centrifugo"},
                   {"connect_timeout", "1s"},
                   {"io_timeout", "4s"},
                   {"db", 0},
                   {"user", ""},
                   {"password", ""},
                   {"client_name", ""},
                   {"force_resp2", false},
                   {"cluster_address", json::array{}},
                   {"tls", tls()},
                   {"sentinel_address", json::array{}},
                   {"sentinel_user", ""},
                   {"sentinel_password", ""},
                   {"sentinel_master_name", ""},
                   {"sentinel_client_name", ""},
                   {"sentinel_tls", tls()},
                   {"replica_client", json::object{{"enabled", false}}}};
    if (with_lists) {
        o["history_use_lists"] = false;
    }
    if (with_presence) {
        o["presence_ttl"] = "60s";
        o["presence_hash_field_ttl"] = false;
        o["presence_user_mapping"] = false;
    }
    return o;
}

json::object token(bool with_enabled) {
    json::object o{{"hmac_secret_key", ""},
                   {"hmac_previous_secret_key", ""},
                   {"hmac_previous_secret_key_valid_until", 0},
                   {"rsa_public_key", ""},
                   {"ecdsa_public_key", ""},
                   {"jwks_public_endpoint", ""},
                   {"audience", ""},
                   {"audience_regex", ""},
                   {"issuer", ""},
                   {"issuer_regex", ""},
                   {"user_id_claim", ""},
                   {"insecure_skip_jwks_endpoint_safety_check", false}};
    if (with_enabled) {
        o["enabled"] = false;
    }
    return o;
}

json::object proxy() {
    return {{"endpoint", ""},
            {"timeout", "1s"},
            {"http_headers", json::array{}},
            {"emulated_headers", json::array{}},
            {"grpc_metadata", json::array{}},
            {"binary_encoding", false},
            {"include_connection_meta", false},
            {"http",
             json::object{{"tls", tls()},
                          {"static_headers", json::object{}},
                          {"status_to_code_transforms", json::array{}}}},
            {"grpc",
             json::object{{"tls", tls()},
                          {"credentials_key", ""},
                          {"credentials_value", ""},
                          {"compression", false},
                          {"static_metadata", json::object{}}}}};
}

json::object enabled_proxy() {
    json::object o = proxy();
    o["enabled"] = false;
    return o;
}

json::object channel_options() {
    json::object o;
    for (const char* flag : {"presence",
                             "join_leave",
                             "force_push_join_leave",
                             "force_positioning",
                             "allow_positioning",
                             "force_recovery",
                             "allow_recovery",
                             "auto_cache_recover",
                             "delta_publish",
                             "allow_tags_filter",
                             "allow_subscribe_for_client",
                             "allow_subscribe_for_anonymous",
                             "allow_publish_for_client",
                             "allow_publish_for_subscriber",
                             "allow_publish_for_anonymous",
                             "allow_presence_for_client",
                             "allow_presence_for_subscriber",
                             "allow_presence_for_anonymous",
                             "allow_history_for_client",
                             "allow_history_for_subscriber",
                             "allow_history_for_anonymous",
                             "allow_user_limited_channels",
                             "subscribe_proxy_enabled",
                             "publish_proxy_enabled",
                             "sub_refresh_proxy_enabled",
                             "subscribe_stream_proxy_enabled",
                             "subscribe_stream_proxy_bidirectional"}) {
        o[flag] = false;
    }
    o["history_size"] = 0;
    o["history_ttl"] = "0s";
    o["history_meta_ttl"] = "0s";
    o["force_recovery_mode"] = "";
    o["allowed_delta_types"] = json::array{};
    o["publication_data_format"] = "";
    o["channel_regex"] = "";
    o["subscribe_proxy_name"] = "default";
    o["publish_proxy_name"] = "default";
    o["sub_refresh_proxy_name"] = "default";
    o["subscribe_stream_proxy_name"] = "default";
    o["subscription_type"] = "";
    // Centrifugo v6.9 map and shared-poll subscriptions: accepted (free-form) so that they are
    // reported as having no effect rather than as unknown keys.
    o["map_clients_presence_channel_prefix"] = "";
    o["map_users_presence_channel_prefix"] = "";
    o["map"] = json::object{};
    o["shared_poll"] = json::object{};
    return o;
}

json::object uni_http(const char* prefix) {
    return {{"enabled", false},
            {"handler_prefix", prefix},
            {"max_request_body_size", 65536},
            {"connect_code_to_http_response",
             json::object{{"enabled", false}, {"transforms", json::array{}}}}};
}

json::object websocket_like(const char* prefix, bool uni) {
    json::object o{{"handler_prefix", prefix},
                   {"compression", false},
                   {"compression_min_size", 0},
                   {"compression_level", 1},
                   {"read_buffer_size", 0},
                   {"use_write_buffer_pool", false},
                   {"write_buffer_size", 0},
                   {"write_timeout", "1000ms"},
                   {"message_size_limit", 65536}};
    if (uni) {
        o["enabled"] = false;
        o["disable_closing_handshake"] = false;
        o["disable_disconnect_push"] = false;
        o["join_push_messages"] = false;
    } else {
        o["disabled"] = false;
        o["decompressed_message_size_limit"] = 0;
    }
    return o;
}

json::object build_defaults() {
    json::object root;
    root["pid_file"] = "";
    root["enable_unreleased_features"] = false;
    root["http_server"] = json::object{
        {"address", ""},
        {"port", 8000},
        {"internal_address", ""},
        {"internal_port", ""},
        {"tls", tls()},
        {"tls_autocert",
         json::object{{"enabled", false},
                      {"host_whitelist", json::array{}},
                      {"cache_dir", ""},
                      {"email", ""},
                      {"server_name", ""},
                      {"http", false},
                      {"http_addr", ":80"}}},
        {"tls_external", false},
        {"internal_tls", tls()},
        {"http3", json::object{{"enabled", false}}},
        {"h2c_external", false},
        // Gyre's own limits; Centrifugo hard-codes comparable ones in Go's http.Server.
        {"max_request_header_size", 16384},
        {"max_request_body_size", 10485760},
    };
    root["log"] = json::object{{"level", "info"}, {"file", ""}};
    json::object engine_redis = redis(true, true);
    root["engine"] = json::object{{"type", "memory"}, {"redis", engine_redis}};
    root["broker"] =
        json::object{{"enabled", false},
                     {"type", "memory"},
                     {"redis", redis(false, true)},
                     {"nats",
                      json::object{{"url", "nats://localhost:4222"},
                                   {"prefix", "centrifugo"},
                                   {"dial_timeout", "1s"},
                                   {"write_timeout", "1s"},
                                   {"tls", tls()},
                                   {"allow_wildcards", false},
                                   {"raw_mode",
                                    json::object{{"enabled", false},
                                                 {"channel_replacements", json::object{}},
                                                 {"prefix", ""}}}}},
                     {"postgres", json::object{}}};
    // Centrifugo v6.9 sections for map and shared-poll subscriptions (free-form, see above).
    root["map_broker"] = json::object{};
    root["controller"] = json::object{};
    root["shared_poll"] = json::object{};
    root["presence_manager"] =
        json::object{{"enabled", false}, {"type", "memory"}, {"redis", redis(true, false)}};
    root["client"] = json::object{
        {"allowed_origins", json::array{}},
        {"token", token(false)},
        {"subscription_token", token(true)},
        {"proxy", json::object{{"connect", enabled_proxy()}, {"refresh", enabled_proxy()}}},
        {"allow_anonymous_connect_without_token", false},
        {"disallow_anonymous_connection_tokens", false},
        {"ping_interval", "25s"},
        {"pong_timeout", "8s"},
        {"expired_close_delay", "25s"},
        {"expired_sub_close_delay", "25s"},
        {"stale_close_delay", "10s"},
        {"channel_limit", 128},
        {"queue_max_size", 1048576},
        // Messages coalesced into one frame at most; 0 = everything queued (Centrifugo OSS).
        {"max_messages_in_frame", 0},
        {"presence_update_interval", "27s"},
        {"concurrency", 0},
        {"channel_position_check_delay", "40s"},
        {"channel_position_max_time_lag", "0s"},
        {"connection_limit", 0},
        {"user_connection_limit", 0},
        {"connection_rate_limit", 0},
        {"connect_include_server_time", false},
        {"history_max_publication_limit", 300},
        {"recovery_max_publication_limit", 300},
        {"insecure_skip_token_signature_verify", false},
        {"user_id_http_header", ""},
        {"insecure", false},
        {"subscribe_to_user_personal_channel",
         json::object{
             {"enabled", false}, {"personal_channel_namespace", ""}, {"single_connection", false}}},
        {"connect_code_to_unidirectional_disconnect",
         json::object{{"enabled", false}, {"transforms", json::array{}}}},
    };
    root["channel"] = json::object{
        {"proxy",
         json::object{{"subscribe", proxy()},
                      {"publish", proxy()},
                      {"sub_refresh", proxy()},
                      {"subscribe_stream", proxy()},
                      {"map_publish", proxy()},
                      {"map_remove", proxy()},
                      {"shared_poll_refresh", proxy()}}},
        {"without_namespace", channel_options()},
        {"namespaces", json::array{}},
        {"history_meta_ttl", "720h"},
        {"publication_data_format", ""},
        {"max_length", 255},
        {"private_prefix", "$"},
        {"namespace_boundary", ":"},
        {"user_boundary", "#"},
        {"user_separator", ","},
    };
    root["rpc"] = json::object{
        {"proxy", proxy()},
        {"without_namespace", json::object{{"proxy_enabled", false}, {"proxy_name", "default"}}},
        {"namespaces", json::array{}},
        {"ping", json::object{{"enabled", false}, {"method", "ping"}}},
        {"namespace_boundary", ":"},
    };
    // Gyre extension: options of exactly named channels ("chat": {...}), each entry on top of the
    // namespace the channel would otherwise get. Entries keep only the options given.
    root["channels"] = json::object{};
    root["proxies"] = json::array{};
    root["http_api"] = json::object{{"disabled", false},
                                    {"handler_prefix", "/api"},
                                    {"key", ""},
                                    {"error_mode", ""},
                                    {"external", false},
                                    {"insecure", false}};
    root["grpc_api"] = json::object{{"enabled", false},
                                    {"error_mode", ""},
                                    {"address", ""},
                                    {"port", 10000},
                                    {"key", ""},
                                    {"tls", tls()},
                                    {"reflection", false},
                                    {"max_receive_message_size", 0}};
    root["consumers"] = json::array{};
    root["websocket"] = websocket_like("/connection/websocket", false);
    root["sse"] = json::object{{"enabled", false},
                               {"handler_prefix", "/connection/sse"},
                               {"max_request_body_size", 65536}};
    root["http_stream"] = json::object{{"enabled", false},
                                       {"handler_prefix", "/connection/http_stream"},
                                       {"max_request_body_size", 65536}};
    root["emulation"] =
        json::object{{"handler_prefix", "/emulation"}, {"max_request_body_size", 65536}};
    root["webtransport"] = json::object{{"enabled", false},
                                        {"handler_prefix", "/connection/webtransport"},
                                        {"message_size_limit", 65536}};
    root["uni_websocket"] = websocket_like("/connection/uni_websocket", true);
    root["uni_sse"] = uni_http("/connection/uni_sse");
    root["uni_http_stream"] = uni_http("/connection/uni_http_stream");
    root["uni_grpc"] = json::object{{"enabled", false},
                                    {"address", ""},
                                    {"port", 11000},
                                    {"max_receive_message_size", 0},
                                    {"tls", tls()}};
    root["admin"] = json::object{{"enabled", false},
                                 {"handler_prefix", ""},
                                 {"password", ""},
                                 {"secret", ""},
                                 {"insecure", false},
                                 {"web_path", ""},
                                 {"web_proxy_address", ""},
                                 {"external", false}};
    root["prometheus"] = json::object{{"enabled", false},
                                      {"handler_prefix", "/metrics"},
                                      {"instrument_http_handlers", false},
                                      {"recovered_publications_histogram", false},
                                      {"native_histograms", false}};
    root["health"] = json::object{{"enabled", false}, {"handler_prefix", "/health"}};
    root["swagger"] = json::object{{"enabled", false}, {"handler_prefix", "/swagger"}};
    root["debug"] = json::object{{"enabled", false}, {"handler_prefix", "/debug/pprof"}};
    root["init"] = json::object{{"enabled", false}, {"handler_prefix", "/connection/init"}};
    root["opentelemetry"] = json::object{
        {"enabled", false}, {"api", false}, {"consuming", false}, {"google_cloud_adc_auth", false}};
    root["graphite"] = json::object{{"enabled", false},
                                    {"host", "localhost"},
                                    {"port", 2003},
                                    {"prefix", "centrifugo"},
                                    {"interval", "10s"},
                                    {"tags", false}};
    root["usage_stats"] = json::object{{"disabled", false}};
    root["node"] = json::object{{"name", ""}, {"info_metrics_aggregate_interval", "60s"}};
    root["shutdown"] = json::object{{"timeout", "30s"}};
    // Gyre-only: number of shards (event-loop threads); 0 means one per CPU core.
    root["gyre"] = json::object{{"shards", 0}, {"access_log", false}};
    return root;
}

json::object build_namespace_item() {
    json::object o = channel_options();
    o["name"] = "";
    return o;
}

json::object build_rpc_namespace_item() {
    return {{"name", ""}, {"proxy_enabled", false}, {"proxy_name", "default"}};
}

json::object build_proxy_item() {
    json::object o = proxy();
    o["name"] = "";
    return o;
}

bool looks_like_duration(const json::value& v) {
    if (!v.is_string()) {
        return false;
    }
    const auto s = v.get_string();
    if (s.empty() || s[0] < '0' || s[0] > '9') {
        return false;
    }
    return s.ends_with("s") || s.ends_with("m") || s.ends_with("h");
}

void collect_durations(const json::object& o,
                       const std::string& prefix,
                       std::set<std::string>& out) {
    for (const auto& kv : o) {
        std::string path =
            prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
        if (kv.value().is_object()) {
            collect_durations(kv.value().get_object(), path, out);
        } else if (looks_like_duration(kv.value())) {
            out.insert(path);
        }
    }
}

// Durations are kept in Go's canonical spelling ("1m0s", "720h0m0s"), as Centrifugo prints them.
void canonical_durations(json::object& o) {
    for (auto& kv : o) {
        if (kv.value().is_object()) {
            canonical_durations(kv.value().get_object());
        } else if (looks_like_duration(kv.value())) {
            if (auto d = parse_duration(kv.value().get_string())) {
                kv.value() = format_duration(*d);
            }
        }
    }
}

json::object canonical(json::object o) {
    canonical_durations(o);
    return o;
}

struct schema_data {
    json::object defaults = canonical(build_defaults());
    json::object namespace_item = canonical(build_namespace_item());
    json::object rpc_namespace_item = build_rpc_namespace_item();
    json::object proxy_item = canonical(build_proxy_item());
    json::object channel_opts = canonical(channel_options());
    json::object free_item; // consumers and transforms: accepted as given
    std::set<std::string> durations = [this] {
        std::set<std::string> d;
        collect_durations(defaults, "", d);
        collect_durations(namespace_item, "channel.namespaces[]", d);
        collect_durations(proxy_item, "proxies[]", d);
        return d;
    }();
};

const schema_data& data() {
    static const schema_data instance;
    return instance;
}

} // namespace

const json::object& default_tree() {
    return data().defaults;
}

const json::object& channel_options_schema() {
    return data().channel_opts;
}

const json::object* item_schema(std::string_view path) {
    if (path == "channel.namespaces") {
        return &data().namespace_item;
    }
    if (path == "rpc.namespaces") {
        return &data().rpc_namespace_item;
    }
    if (path == "proxies") {
        return &data().proxy_item;
    }
    if (path == "consumers" || path.ends_with("transforms")) {
        return &data().free_item;
    }
    return nullptr;
}

bool is_duration_path(std::string_view path) {
    return data().durations.count(std::string(path)) > 0;
}

bool is_named_channels_path(std::string_view path) {
    return path == "channels";
}

bool is_free_map_path(std::string_view path) {
    return path.ends_with("static_headers") || path.ends_with("static_metadata") ||
           path.ends_with("channel_replacements") || path == "map_broker" ||
           path == "broker.postgres" || path == "controller" || path == "shared_poll" ||
           path.ends_with(".map") || path.ends_with(".shared_poll");
}

} // namespace gyre::config
