#include "config/unsupported.hpp"

#include "config/schema.hpp"

#include <boost/json.hpp>

#include <array>

namespace gyre::config {
namespace json = boost::json;

namespace {

constexpr auto warn = unsupported_action::warn;
constexpr auto refuse = unsupported_action::refuse;

// Remove a row when its feature lands (the e2e test keeps README.md in step with this table).
constexpr std::array table{
    // Refused: serving plaintext, dropping connection limits or never consuming a queue is
    // worse than not starting.
    unsupported_key{"http_server.tls.enabled", refuse, "TLS termination (use a proxy in front)"},
    unsupported_key{"http_server.tls_autocert.enabled", refuse, "ACME certificates"},
    unsupported_key{"http_server.tls_external", refuse, "TLS on the external port only"},
    unsupported_key{"http_server.internal_tls.enabled", refuse, "TLS on the internal port"},
    unsupported_key{"grpc_api.tls.enabled", refuse, "TLS for the gRPC API"},
    unsupported_key{"uni_grpc.tls.enabled", refuse, "TLS for the unidirectional gRPC transport"},
    unsupported_key{"broker.nats.tls.enabled", refuse, "TLS to NATS"},
    unsupported_key{"broker.nats.raw_mode.enabled", refuse, "NATS raw mode"},
    unsupported_key{"client.proxy.*.grpc.tls.enabled", refuse, "TLS to gRPC proxies"},
    unsupported_key{"channel.proxy.*.grpc.tls.enabled", refuse, "TLS to gRPC proxies"},
    unsupported_key{"rpc.proxy.grpc.tls.enabled", refuse, "TLS to gRPC proxies"},
    unsupported_key{"proxies[].grpc.tls.enabled", refuse, "TLS to gRPC proxies"},
    unsupported_key{
        "consumers[].enabled", refuse, "asynchronous consumers (Kafka, PostgreSQL, ...)"},
    unsupported_key{"client.connection_limit", refuse, "the node-wide connection limit"},
    unsupported_key{"client.connection_rate_limit", refuse, "the connection rate limit"},
    // Warned: the server works, without the feature.
    unsupported_key{"enable_unreleased_features", warn, "unreleased Centrifugo features"},
    unsupported_key{"http_server.http3", warn, "HTTP/3"},
    unsupported_key{"http_server.h2c_external", warn, "HTTP/2 cleartext"},
    unsupported_key{"*.redis.history_use_lists", warn, "Redis lists for history (streams used)"},
    unsupported_key{"*.redis.presence_hash_field_ttl", warn, "per-field TTL of presence hashes"},
    unsupported_key{"*.redis.replica_client", warn, "reads from Redis replicas"},
    unsupported_key{"broker.nats.allow_wildcards", warn, "NATS wildcard channels"},
    unsupported_key{"client.concurrency", warn, "bounded per-connection command concurrency"},
    unsupported_key{
        "client.proxy.*.http.tls", warn, "TLS settings of HTTP proxies (https refused)"},
    unsupported_key{"channel.proxy.*.http.tls", warn, "TLS settings of HTTP proxies"},
    unsupported_key{"rpc.proxy.http.tls", warn, "TLS settings of HTTP proxies"},
    unsupported_key{"proxies[].http.tls", warn, "TLS settings of HTTP proxies"},
    unsupported_key{"client.proxy.*.grpc_metadata", warn, "gRPC metadata (no gRPC transports)"},
    unsupported_key{"channel.proxy.*.grpc_metadata", warn, "gRPC metadata"},
    unsupported_key{"rpc.proxy.grpc_metadata", warn, "gRPC metadata"},
    unsupported_key{"proxies[].grpc_metadata", warn, "gRPC metadata"},
    unsupported_key{"client.proxy.*.emulated_headers", warn, "headers emulated by the SDK"},
    unsupported_key{"channel.proxy.*.emulated_headers", warn, "headers emulated by the SDK"},
    unsupported_key{"rpc.proxy.emulated_headers", warn, "headers emulated by the SDK"},
    unsupported_key{"proxies[].emulated_headers", warn, "headers emulated by the SDK"},
    unsupported_key{"channel.proxy.subscribe_stream", warn, "subscribe stream proxy"},
    unsupported_key{
        "channel.without_namespace.subscribe_stream_proxy_enabled", warn, "subscribe stream proxy"},
    unsupported_key{"channel.without_namespace.subscribe_stream_proxy_bidirectional",
                    warn,
                    "subscribe stream proxy"},
    unsupported_key{
        "channel.without_namespace.subscribe_stream_proxy_name", warn, "subscribe stream proxy"},
    unsupported_key{"channel.without_namespace.delta_publish", warn, "delta compression"},
    unsupported_key{"channel.without_namespace.allowed_delta_types", warn, "delta compression"},
    unsupported_key{"channel.without_namespace.allow_tags_filter", warn, "publication filters"},
    unsupported_key{"channel.without_namespace.subscription_type", warn, "map subscriptions"},
    unsupported_key{"channel.without_namespace.map", warn, "map subscriptions"},
    unsupported_key{
        "channel.without_namespace.map_clients_presence_channel_prefix", warn, "map subscriptions"},
    unsupported_key{
        "channel.without_namespace.map_users_presence_channel_prefix", warn, "map subscriptions"},
    unsupported_key{"channel.without_namespace.shared_poll", warn, "shared poll subscriptions"},
    unsupported_key{"channel.proxy.map_publish", warn, "map subscriptions"},
    unsupported_key{"channel.proxy.map_remove", warn, "map subscriptions"},
    unsupported_key{"channel.proxy.shared_poll_refresh", warn, "shared poll subscriptions"},
    unsupported_key{"broker.postgres", warn, "the PostgreSQL broker"},
    unsupported_key{"map_broker", warn, "the map broker"},
    unsupported_key{"controller", warn, "the v6.9 cluster controller"},
    unsupported_key{"shared_poll", warn, "shared poll subscriptions"},
    unsupported_key{"websocket.compression", warn, "permessage-deflate"},
    unsupported_key{"websocket.compression_min_size", warn, "permessage-deflate"},
    unsupported_key{"websocket.compression_level", warn, "permessage-deflate"},
    unsupported_key{"websocket.decompressed_message_size_limit", warn, "permessage-deflate"},
    unsupported_key{"websocket.use_write_buffer_pool", warn, "Go's write buffer pool"},
    unsupported_key{"uni_websocket.compression", warn, "permessage-deflate"},
    unsupported_key{"uni_websocket.compression_min_size", warn, "permessage-deflate"},
    unsupported_key{"uni_websocket.compression_level", warn, "permessage-deflate"},
    unsupported_key{"uni_websocket.read_buffer_size", warn, "socket buffer sizes"},
    unsupported_key{"uni_websocket.write_buffer_size", warn, "socket buffer sizes"},
    unsupported_key{"uni_websocket.use_write_buffer_pool", warn, "Go's write buffer pool"},
    unsupported_key{"grpc_api", warn, "the gRPC server API"},
    unsupported_key{"uni_grpc", warn, "the unidirectional gRPC transport"},
    unsupported_key{"webtransport", warn, "the WebTransport transport"},
    unsupported_key{"swagger", warn, "the Swagger UI"},
    unsupported_key{"admin.web_proxy_address", warn, "proxying the admin UI"},
    unsupported_key{"prometheus.recovered_publications_histogram", warn, "that histogram"},
    unsupported_key{"prometheus.native_histograms", warn, "native histograms"},
    unsupported_key{"opentelemetry", warn, "OpenTelemetry tracing"},
    unsupported_key{"graphite", warn, "Graphite export"},
    unsupported_key{"node.info_metrics_aggregate_interval", warn, "aggregated node metrics"},
};

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (true) {
        const auto dot = path.find('.');
        out.push_back(path.substr(0, dot));
        if (dot == std::string_view::npos) {
            return out;
        }
        path.remove_prefix(dot + 1);
    }
}

/// A row covers `leaf` (normalized segments) when its segments are a prefix of it.
bool covers(std::string_view row, const std::vector<std::string>& leaf) {
    const auto parts = segments(row);
    if (parts.size() > leaf.size()) {
        return false;
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i] != "*" && parts[i] != leaf[i]) {
            return false;
        }
    }
    return true;
}

/// What counts as "not set" where the schema gives no default (free-form consumer items).
bool falsy(const json::value& v) {
    return v.is_null() || (v.is_bool() && !v.get_bool()) || (v.is_int64() && v.get_int64() == 0) ||
           (v.is_string() && v.get_string().empty()) || (v.is_array() && v.get_array().empty()) ||
           (v.is_object() && v.get_object().empty());
}

/// A list item's name in messages: its `name` when it has one, else its index.
std::string item_label(const json::value& element, std::size_t index) {
    if (const auto* o = element.if_object(); o != nullptr) {
        if (const auto* name = o->if_contains("name");
            name != nullptr && name->is_string() && !name->get_string().empty()) {
            return std::string(name->get_string());
        }
    }
    return std::to_string(index);
}

/// Channel options anywhere are matched as `channel.without_namespace.<option>`.
std::vector<std::string> options_path() {
    return {"channel", "without_namespace"};
}

struct walker {
    std::vector<unsupported_finding> found;

    void leaf(const std::string& shown, const std::vector<std::string>& norm) {
        const unsupported_key* hit = nullptr;
        for (const auto& row : table) {
            if (covers(row.path, norm) && (hit == nullptr || row.action == refuse)) {
                hit = &row;
            }
        }
        if (hit != nullptr) {
            found.push_back({shown, hit});
        }
    }

    // `def` is the schema default (nullptr under free-form items); `shown` is the path as the
    // user wrote it, `norm` the path the table is matched against, `schema_path` the schema's.
    void walk(const json::value& v,
              const json::value* def,
              const std::string& shown,
              const std::vector<std::string>& norm,
              const std::string& schema_path) {
        if (v.is_object() && !is_free_map_path(schema_path.substr(1)) &&
            (def == nullptr || def->is_object())) {
            walk_object(v.get_object(), def, shown, norm, schema_path);
            return;
        }
        const json::object* item = item_schema(schema_path.substr(1));
        if (v.is_array() && item != nullptr && !schema_path.ends_with("transforms")) {
            walk_items(v.get_array(), *item, shown, norm, schema_path);
            return;
        }
        const bool is_default = def == nullptr ? falsy(v) : v == *def;
        if (!is_default) {
            leaf(shown.substr(1), norm);
        }
    }

    void walk_object(const json::object& o,
                     const json::value* def,
                     const std::string& shown,
                     const std::vector<std::string>& norm,
                     const std::string& schema_path) {
        for (const auto& kv : o) {
            const json::value* d =
                def == nullptr ? nullptr : def->get_object().if_contains(kv.key());
            if (def != nullptr && d == nullptr) {
                continue; // not in the schema: already reported as unknown
            }
            auto n = norm;
            n.emplace_back(kv.key());
            const std::string key(kv.key());
            walk(kv.value(), d, shown + "." + key, n, schema_path + "." + key);
        }
    }

    void walk_items(const json::array& items,
                    const json::object& item,
                    const std::string& shown,
                    const std::vector<std::string>& norm,
                    const std::string& schema_path) {
        const json::value item_def = item;
        auto n = norm;
        n.back() += "[]";
        for (std::size_t i = 0; i < items.size(); ++i) {
            walk(items[i],
                 item.empty() ? nullptr : &item_def,
                 shown + "[" + item_label(items[i], i) + "]",
                 n,
                 schema_path + "[]");
        }
    }

    /// Namespaces hold channel options: they are matched as the without_namespace ones.
    void walk_channel_section(const json::object& channel, const json::value& def) {
        for (const auto& c : channel) {
            const auto* d = def.get_object().if_contains(c.key());
            if (d == nullptr) {
                continue;
            }
            const std::string key(c.key());
            if (key == "namespaces" && c.value().is_array()) {
                const json::value item = *item_schema("channel.namespaces");
                const auto& namespaces = c.value().get_array();
                for (std::size_t i = 0; i < namespaces.size(); ++i) {
                    walk(namespaces[i],
                         &item,
                         ".channel.namespaces[" + item_label(namespaces[i], i) + "]",
                         options_path(),
                         ".channel.without_namespace");
                }
                continue;
            }
            walk(c.value(), d, ".channel." + key, {"channel", key}, ".channel." + key);
        }
    }

    /// Exactly named channels hold only the options given: compared with the option defaults.
    void walk_named_channels(const json::object& channels) {
        const json::value opts = channel_options_schema();
        for (const auto& c : channels) {
            walk(c.value(),
                 &opts,
                 ".channels." + std::string(c.key()),
                 options_path(),
                 ".channel.without_namespace");
        }
    }
};

} // namespace

std::span<const unsupported_key> unsupported_keys() {
    return table;
}

std::vector<unsupported_finding> find_unsupported(const json::object& tree) {
    walker w;
    const auto& defaults = default_tree();
    for (const auto& kv : tree) {
        const std::string key(kv.key());
        const auto* def = defaults.if_contains(key);
        if (def == nullptr) {
            continue;
        }
        if (key == "channel" && kv.value().is_object()) {
            w.walk_channel_section(kv.value().get_object(), *def);
        } else if (key == "channels" && kv.value().is_object()) {
            w.walk_named_channels(kv.value().get_object());
        } else {
            w.walk(kv.value(), def, "." + key, {key}, "." + key);
        }
    }
    return std::move(w.found);
}

std::string describe(const std::vector<unsupported_finding>& found, unsupported_action action) {
    std::string out;
    for (const auto& f : found) {
        if (f.row->action == action) {
            out += (out.empty() ? "" : ", ") + f.path + " (" + std::string(f.row->note) + ")";
        }
    }
    return out;
}

std::string differences_markdown() {
    std::string out;
    for (const auto& row : table) {
        out += "- `";
        out += row.path;
        out += "`: ";
        out += row.note;
        out += row.action == refuse ? " (refuses to start)\n" : " (warning at start-up)\n";
    }
    return out;
}

} // namespace gyre::config
