// The table of keys Gyre knows but does not act on, its findings on merged trees, and the
// `channels` / `history_lifetime` extensions of the flat config style.
#include "config/error.hpp"
#include "config/load.hpp"
#include "config/schema.hpp"
#include "config/unsupported.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace gyre::config {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

// Centrifugo v6's consumer fields (configtypes.Consumer): Gyre keeps consumer items free-form
// (it refuses enabled ones), so rows under consumers[] are checked against this list.
const std::set<std::string> consumer_fields{"name",
                                            "enabled",
                                            "type",
                                            "postgresql",
                                            "kafka",
                                            "nats_jetstream",
                                            "redis_stream",
                                            "google_pub_sub",
                                            "aws_sqs",
                                            "azure_service_bus"};

std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto dot = path.find('.', start);
        out.emplace_back(
            path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
        if (dot == std::string_view::npos) {
            return out;
        }
        start = dot + 1;
    }
}

/// True when `parts[i..]` names a key of `node` (a schema object), `*` matching any key.
bool resolves(const json::object& node,
              const std::vector<std::string>& parts,
              std::size_t i,
              const std::string& schema_path) {
    if (i == parts.size()) {
        return true;
    }
    const std::string& part = parts[i];
    auto step = [&](const std::string& key, const json::value& v) {
        const std::string path = schema_path.empty() ? key : schema_path + "." + key;
        if (i + 1 == parts.size()) {
            return true;
        }
        return v.is_object() && resolves(v.get_object(), parts, i + 1, path);
    };
    if (part == "*") {
        return std::any_of(node.begin(), node.end(), [&](const auto& kv) {
            return step(std::string(kv.key()), kv.value());
        });
    }
    if (part.ends_with("[]")) {
        const std::string key = part.substr(0, part.size() - 2);
        const std::string path = schema_path.empty() ? key : schema_path + "." + key;
        if (!node.contains(key) || !node.at(key).is_array()) {
            return false;
        }
        const json::object* item = item_schema(path);
        if (item == nullptr) {
            return false;
        }
        if (item->empty()) { // free-form consumer items
            return key == "consumers" && i + 1 < parts.size() &&
                   consumer_fields.count(parts[i + 1]) > 0;
        }
        return resolves(*item, parts, i + 1, path + "[]");
    }
    const auto* v = node.if_contains(part);
    return v != nullptr && step(part, *v);
}

TEST(UnsupportedTable, EveryRowIsAConfigPathOfTheSchema) {
    // The schema is the set of Centrifugo v6 key paths Gyre accepts; a key outside it is already
    // reported as "unknown configuration key", so the table names known keys only.
    std::set<std::string_view> seen;
    for (const auto& row : unsupported_keys()) {
        EXPECT_TRUE(resolves(default_tree(), split(row.path), 0, "")) << row.path;
        EXPECT_TRUE(seen.insert(row.path).second) << "listed twice: " << row.path;
        EXPECT_FALSE(row.note.empty()) << row.path;
    }
    EXPECT_FALSE(seen.empty());
}

TEST(UnsupportedTable, KeysBeingImplementedAreNotListed) {
    for (const auto& row : unsupported_keys()) {
        for (const char* supported : {"client.presence_update_interval",
                                      "client.user_id_http_header",
                                      "client.channel_position_max_time_lag",
                                      "engine.redis.client_name",
                                      "channel.publication_data_format",
                                      "channel.without_namespace.history_size",
                                      "engine.redis.tls.enabled"}) {
            EXPECT_NE(row.path, supported);
        }
    }
}

TEST(UnsupportedTable, DefaultsHaveNoFindings) {
    EXPECT_TRUE(find_unsupported(default_tree()).empty());
}

class temp_file {
public:
    temp_file(const std::string& name, const std::string& text)
        : path_(std::filesystem::temp_directory_path() /
                ("gyre_unsup_" + std::to_string(::getpid()) + "_" + name)) {
        std::ofstream(path_) << text;
    }

    ~temp_file() { std::filesystem::remove(path_); }

    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

load_result load_json(const std::string& text,
                      std::vector<std::pair<std::string, std::string>> env = {}) {
    temp_file f("c.json", text);
    load_options o;
    o.file = f.path();
    o.file_required = true;
    o.environment = std::move(env);
    return load(o);
}

std::map<std::string, unsupported_action> findings(const load_result& r) {
    std::map<std::string, unsupported_action> out;
    for (const auto& f : r.unsupported) {
        out[f.path] = f.row->action;
    }
    return out;
}

TEST(UnsupportedTable, FindsWarnedKeysWhereverTheyAreSet) {
    const auto r = load_json(R"({
      "websocket": {"compression": true},
      "graphite": {"enabled": true, "port": 2004},
      "channel": {"without_namespace": {"allow_tags_filter": true},
                  "namespaces": [{"name": "chat", "delta_publish": true}]},
      "channels": {"news": {"allowed_delta_types": ["fossil"]}},
      "proxies": [{"name": "p1", "endpoint": "http://x", "grpc_metadata": ["a"]}],
      "engine": {"redis": {"replica_client": {"enabled": true}}}
    })");
    const std::map<std::string, unsupported_action> want{
        {"websocket.compression", unsupported_action::warn},
        {"graphite.enabled", unsupported_action::warn},
        {"graphite.port", unsupported_action::warn},
        {"channel.without_namespace.allow_tags_filter", unsupported_action::warn},
        {"channel.namespaces[chat].delta_publish", unsupported_action::warn},
        {"channels.news.allowed_delta_types", unsupported_action::warn},
        {"proxies[p1].grpc_metadata", unsupported_action::warn},
        {"engine.redis.replica_client.enabled", unsupported_action::warn},
    };
    EXPECT_EQ(findings(r), want);
    EXPECT_NE(describe(r.unsupported, unsupported_action::warn).find("websocket.compression ("),
              std::string::npos);
    EXPECT_TRUE(describe(r.unsupported, unsupported_action::refuse).empty());
}

TEST(UnsupportedTable, UnsafeKeysAreRefusedEvenUnderAWarnedSection) {
    const auto r = load_json(R"({
      "client": {"connection_limit": 1000},
      "consumers": [{"name": "kafka1", "enabled": true, "type": "kafka"},
                    {"name": "off", "enabled": false, "type": "postgresql"}],
      "grpc_api": {"tls": {"enabled": true}},
      "channel": {"proxy": {"subscribe_stream": {"grpc": {"tls": {"enabled": true}}}}}
    })");
    const std::map<std::string, unsupported_action> want{
        {"client.connection_limit", unsupported_action::refuse},
        {"consumers[kafka1].enabled", unsupported_action::refuse},
        {"grpc_api.tls.enabled", unsupported_action::refuse},
        {"channel.proxy.subscribe_stream.grpc.tls.enabled", unsupported_action::refuse},
    };
    EXPECT_EQ(findings(r), want);
}

TEST(UnsupportedTable, CentrifugoV69MapAndSharedPollKeysAreKnownWithNoEffect) {
    const auto r = load_json(R"({
      "map_broker": {"type": "redis"},
      "broker": {"postgres": {"dsn": "postgres://x"}},
      "channel": {"proxy": {"map_publish": {"endpoint": "http://x"}},
                  "namespaces": [{"name": "maps", "subscription_type": "map",
                                  "map": {"mode": "ephemeral"}}]}
    })");
    const std::map<std::string, unsupported_action> want{
        {"map_broker", unsupported_action::warn},
        {"broker.postgres", unsupported_action::warn},
        {"channel.proxy.map_publish.endpoint", unsupported_action::warn},
        {"channel.namespaces[maps].subscription_type", unsupported_action::warn},
        {"channel.namespaces[maps].map", unsupported_action::warn},
    };
    EXPECT_EQ(findings(r), want);
    for (const auto& w : r.warnings) {
        EXPECT_EQ(w.find("unknown"), std::string::npos) << w;
    }
}

TEST(UnsupportedTable, DefaultValuesGivenExplicitlyAreNotReported) {
    const auto r = load_json(R"({"websocket": {"compression": false},
                                 "client": {"connection_limit": 0}, "consumers": []})");
    EXPECT_TRUE(r.unsupported.empty());
}

TEST(UnsupportedTable, MarkdownHasOneLinePerRow) {
    const auto md = differences_markdown();
    EXPECT_EQ(static_cast<std::size_t>(std::count(md.begin(), md.end(), '\n')),
              unsupported_keys().size());
    EXPECT_NE(md.find("- `client.connection_limit`: "), std::string::npos);
}

// The flat config of the project's description: `channels` and `history_lifetime`.
TEST(NamedChannels, FlatConfigOfTheDescriptionKeepsHistoryForChat) {
    const auto r = load_json(R"({
      "token_hmac_secret_key": "s", "admin_password": "p", "api_key": "k",
      "websocket_handler_prefix": "/connection/websocket",
      "proxy_connect_endpoint": "http://localhost:3000/connect",
      "channels": {"chat": {"history_size": 20, "history_lifetime": 300}}
    })");
    const auto* chat = r.cfg.find_exact_channel("chat");
    ASSERT_NE(chat, nullptr);
    EXPECT_EQ(chat->history_size, 20);
    EXPECT_EQ(chat->history_ttl, 300s);
    EXPECT_TRUE(chat->history_enabled());
    EXPECT_EQ(r.cfg.find_exact_channel("chat2"), nullptr);
    EXPECT_FALSE(r.cfg.channel.without_namespace.history_enabled());
    for (const auto& w : r.warnings) {
        EXPECT_EQ(w.find("unknown"), std::string::npos) << w;
    }
}

TEST(NamedChannels, FromTheEnvironmentAsJson) {
    const auto r = load_json(
        "{}",
        {{"CENTRIFUGO_CHANNELS", R"({"chat": {"history_size": 3, "history_lifetime": 60}})"}});
    const auto* chat = r.cfg.find_exact_channel("chat");
    ASSERT_NE(chat, nullptr);
    EXPECT_EQ(chat->history_size, 3);
}

TEST(NamedChannels, EntryLiesOverItsNamespace) {
    const auto r = load_json(R"({
      "channel": {"namespaces": [{"name": "ns", "presence": true, "join_leave": true}]},
      "channels": {"ns:room": {"history_size": 5, "history_ttl": "60s", "join_leave": false}}
    })");
    const auto* room = r.cfg.find_exact_channel("ns:room");
    ASSERT_NE(room, nullptr);
    EXPECT_TRUE(room->presence);
    EXPECT_FALSE(room->join_leave);
    EXPECT_EQ(room->history_size, 5);
    EXPECT_EQ(room->history_ttl, 60s);
    EXPECT_TRUE(r.cfg.find_namespace("ns")->join_leave);
}

TEST(NamedChannels, BadEntriesAreClearErrors) {
    EXPECT_THROW(load_json(R"({"channels": {"nope:room": {"presence": true}}})"), config_error);
    EXPECT_THROW(load_json(R"({"channels": {"chat": {"history_size": 20}}})"), config_error);
    EXPECT_THROW(load_json(R"({"channels": {"chat": true}})"), config_error);
    EXPECT_THROW(load_json(R"({"channels": {"chat": {"presence": "maybe"}}})"), config_error);
    const auto r = load_json(R"({"channels": {"chat": {"presense": true}}})");
    EXPECT_NE(std::find(r.warnings.begin(),
                        r.warnings.end(),
                        "unknown configuration key: channels.chat.presense"),
              r.warnings.end());
}

TEST(HistoryLifetime, SecondsAtTopLevelInNamespacesAndFromTheEnvironment) {
    const auto top = load_json(R"({"history_size": 10, "history_lifetime": 120})");
    EXPECT_EQ(top.cfg.channel.without_namespace.history_ttl, 120s);
    const auto ns =
        load_json(R"({"namespaces": [{"name": "ns", "history_size": 3, "history_lifetime": 30}]})");
    EXPECT_EQ(ns.cfg.find_namespace("ns")->history_ttl, 30s);
    const auto env = load_json(R"({"history_size": 10})", {{"CENTRIFUGO_HISTORY_LIFETIME", "90"}});
    EXPECT_EQ(env.cfg.channel.without_namespace.history_ttl, 90s);
    const auto duration = load_json(R"({"history_size": 10, "history_lifetime": "2m"})");
    EXPECT_EQ(duration.cfg.channel.without_namespace.history_ttl, 120s);
}

} // namespace
} // namespace gyre::config
