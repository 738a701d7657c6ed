#include "config/duration.hpp"
#include "config/load.hpp"
#include "config/schema.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace boost::json {
// Readable failure messages for JSON values.
inline void PrintTo(const value& v, std::ostream* os) {
    *os << serialize(v);
}

inline void PrintTo(const object& o, std::ostream* os) {
    *os << serialize(o);
}

inline void PrintTo(const array& a, std::ostream* os) {
    *os << serialize(a);
}
} // namespace boost::json

namespace gyre::config {
namespace {
namespace json = boost::json;
using env_list = std::vector<std::pair<std::string, std::string>>;

class temp_file {
public:
    temp_file(const std::string& name, const std::string& text)
        : path_(std::filesystem::temp_directory_path() /
                ("gyre_cfg_" + std::to_string(::getpid()) + "_" + name)) {
        std::ofstream(path_) << text;
    }

    ~temp_file() { std::filesystem::remove(path_); }

    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

load_result load_text(const std::string& name,
                      const std::string& text,
                      env_list env = {},
                      env_list overrides = {}) {
    temp_file f(name, text);
    load_options o;
    o.file = f.path();
    o.file_required = true;
    o.environment = std::move(env);
    o.overrides = std::move(overrides);
    return load(o);
}

const json::value& tree_at(const json::object& t, std::string_view path) {
    const json::object* cur = &t;
    for (;;) {
        const auto dot = path.find('.');
        if (dot == std::string_view::npos) {
            return cur->at(path);
        }
        cur = &cur->at(path.substr(0, dot)).as_object();
        path.remove_prefix(dot + 1);
    }
}

bool has_warning(const load_result& r, std::string_view needle) {
    for (const auto& w : r.warnings) {
        if (w.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string error_of(const std::string& name, const std::string& text, env_list env = {}) {
    try {
        (void)load_text(name, text, std::move(env));
    } catch (const config_error& e) {
        return e.what();
    }
    return "no error";
}

TEST(config_defaults, match_centrifugo) {
    load_options o;
    const auto r = load(o);
    EXPECT_EQ(r.cfg.http_server.port, 8000);
    EXPECT_EQ(r.cfg.client.ping_interval, std::chrono::seconds(25));
    EXPECT_EQ(r.cfg.client.pong_timeout, std::chrono::seconds(8));
    EXPECT_EQ(r.cfg.client.channel_limit, 128);
    EXPECT_EQ(r.cfg.client.queue_max_size, 1048576);
    EXPECT_EQ(r.cfg.websocket.message_size_limit, 65536);
    EXPECT_EQ(r.cfg.channel.history_meta_ttl, std::chrono::hours(720));
    EXPECT_EQ(r.cfg.http_api.handler_prefix, "/api");
    EXPECT_EQ(r.cfg.engine.type, "memory");
    EXPECT_EQ(r.cfg.shutdown_timeout, std::chrono::seconds(30));
    EXPECT_FALSE(r.cfg.health.enabled);
    EXPECT_EQ(r.cfg.health.handler_prefix, "/health");
    EXPECT_TRUE(r.warnings.empty());
}

TEST(config_file, missing_file_is_a_warning_unless_required) {
    load_options o;
    o.file = "/nonexistent/gyre/config.json";
    const auto r = load(o);
    EXPECT_FALSE(r.file_found);
    EXPECT_TRUE(has_warning(r, "not found"));
    o.file_required = true;
    EXPECT_THROW((void)load(o), config_error);
}

TEST(config_file, same_settings_in_json_yaml_toml) {
    const auto j = load_text("a.json", R"({"http_server":{"port":9001},"client":{"allowed_origins":
        ["http://a.com"],"ping_interval":"10s"},"channel":{"namespaces":[{"name":"chat",
        "presence":true,"history_size":10,"history_ttl":"60s"}]}})");
    const auto y = load_text("a.yaml", R"(
http_server:
  port: 9001
client:
  allowed_origins: ["http://a.com"]
  ping_interval: 10s
channel:
  namespaces:
    - name: chat
      presence: true
      history_size: 10
      history_ttl: 60s
)");
    const auto t = load_text("a.toml", R"(
[http_server]
port = 9001
[client]
allowed_origins = ["http://a.com"]
ping_interval = "10s"
[[channel.namespaces]]
name = "chat"
presence = true
history_size = 10
history_ttl = "60s"
)");
    for (const auto* r : {&j, &y, &t}) {
        EXPECT_EQ(r->cfg.http_server.port, 9001);
        ASSERT_EQ(r->cfg.client.allowed_origins.size(), 1U);
        EXPECT_EQ(r->cfg.client.allowed_origins[0], "http://a.com");
        EXPECT_EQ(r->cfg.client.ping_interval, std::chrono::seconds(10));
        ASSERT_EQ(r->cfg.channel.namespaces.size(), 1U);
        const auto* ns = r->cfg.find_namespace("chat");
        ASSERT_NE(ns, nullptr);
        EXPECT_TRUE(ns->presence);
        EXPECT_EQ(ns->history_size, 10);
        EXPECT_EQ(ns->history_ttl, std::chrono::seconds(60));
        EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();
    }
}

TEST(config_file, yaml_quoted_numbers_stay_strings_where_strings_are_expected) {
    const auto r =
        load_text("q.yaml", "http_server:\n  internal_port: \"9000\"\n  port: \"8100\"\n");
    EXPECT_EQ(r.cfg.http_server.internal_port, "9000");
    EXPECT_EQ(r.cfg.http_server.port, 8100);
}

TEST(config_file, numeric_internal_port_is_accepted_as_string) {
    const auto r = load_text("p.json", R"({"http_server":{"internal_port":9000}})");
    EXPECT_EQ(r.cfg.http_server.internal_port, "9000");
}

TEST(config_file, duration_number_is_nanoseconds) {
    const auto r = load_text("d.json", R"({"client":{"ping_interval":30000000000}})");
    EXPECT_EQ(r.cfg.client.ping_interval, std::chrono::seconds(30));
}

TEST(config_file, unknown_keys_are_named_in_warnings) {
    const auto r = load_text("u.json", R"({"bogus":1,"client":{"bogus_inner":true},
        "channel":{"namespaces":[{"name":"ns1","presense":true}]}})");
    EXPECT_TRUE(has_warning(r, "unknown configuration key: bogus"));
    EXPECT_TRUE(has_warning(r, "unknown configuration key: client.bogus_inner"));
    EXPECT_TRUE(has_warning(r, "unknown configuration key: channel.namespaces[0].presense"));
}

TEST(config_legacy, every_rename_lands_on_its_v6_path) {
    for (const auto& [legacy, path] : legacy_renames()) {
        const json::value& def = tree_at(default_tree(), path);
        json::value given;
        json::value expected;
        if (is_duration_path(path)) {
            given = "30s";
            expected = "30s";
        } else if (def.is_bool()) {
            given = true;
            expected = true;
        } else if (def.is_int64()) {
            given = 4242;
            expected = 4242;
        } else if (def.is_array() && item_schema(path) == nullptr) {
            given = json::array{"x1", "x2"};
            expected = given;
        } else if (def.is_array()) {
            given = json::array{json::object{{"name", "legacyns"}}};
            expected = given; // checked below by name
        } else if (path.find("cert_pem") != std::string::npos ||
                   path.find("key_pem") != std::string::npos ||
                   path.find("ca_pem") != std::string::npos || def.is_string()) {
            given = "value-" + legacy;
            expected = given;
        }
        SCOPED_TRACE(legacy + " -> " + path);
        if (path == "http_server.port") {
            given = 8123;
            expected = 8123;
        }
        if (path == "client.pong_timeout") {
            given = "5s";
            expected = "5s";
        }
        if (path == "log.level") {
            given = "debug";
            expected = "debug";
        }
        if (path == "http_api.error_mode") {
            given = "transport";
            expected = "transport";
        }
        if (path == "http_server.internal_port") {
            given = "9100";
            expected = "9100";
        }
        if (path == "client.token.user_id_claim") {
            given = "uid";
            expected = "uid";
        }
        json::object file{{legacy, given}};
        const auto r = load_text("legacy.json", json::serialize(file));
        const json::value& got = tree_at(r.cfg.tree, path);
        if (def.is_array() && item_schema(path) != nullptr) {
            ASSERT_EQ(got.as_array().size(), 1U);
            EXPECT_EQ(got.as_array()[0].as_object().at("name"), "legacyns");
        } else {
            EXPECT_EQ(got, expected);
        }
        EXPECT_TRUE(has_warning(r, legacy)) << "no mapping note for " << legacy;
    }
}

TEST(config_legacy, seed_style_flat_config) {
    // The flat keys real users still have (Centrifugo v3-v5 era).
    const auto r = load_text("flat.json", R"({
        "token_hmac_secret_key": "secret",
        "api_key": "apikey",
        "admin_password": "pw",
        "admin_secret": "adminsecret",
        "admin": true,
        "admin_insecure": false,
        "allowed_origins": ["http://localhost:3000"],
        "namespaces": [{"name": "chat", "presence": true, "join_leave": true,
                        "history_size": 50, "history_ttl": "300s", "proxy_subscribe": true}],
        "history_size": 10, "history_ttl": "60s", "presence": true,
        "engine": "memory",
        "redis_address": "redis://127.0.0.1:6380",
        "proxy_connect_endpoint": "http://backend/connect",
        "proxy_connect_timeout": "3s",
        "proxy_publish_endpoint": "http://backend/publish",
        "proxy_http_headers": ["Cookie", "Authorization"],
        "client_channel_limit": 64,
        "log_level": "debug",
        "prometheus": true,
        "health": true,
        "client_insecure": true,
        "port": 8765
    })");
    const auto& c = r.cfg;
    EXPECT_EQ(c.client.token.hmac_secret_key, "secret");
    EXPECT_EQ(c.http_api.key, "apikey");
    EXPECT_EQ(c.admin.password, "pw");
    EXPECT_EQ(c.admin.secret, "adminsecret");
    EXPECT_TRUE(c.admin.enabled);
    EXPECT_EQ(c.client.allowed_origins, std::vector<std::string>{"http://localhost:3000"});
    ASSERT_NE(c.find_namespace("chat"), nullptr);
    EXPECT_TRUE(c.find_namespace("chat")->subscribe_proxy_enabled);
    EXPECT_EQ(c.find_namespace("chat")->history_size, 50);
    EXPECT_EQ(c.channel.without_namespace.history_size, 10);
    EXPECT_TRUE(c.channel.without_namespace.presence);
    EXPECT_EQ(c.engine.redis_address, std::vector<std::string>{"redis://127.0.0.1:6380"});
    EXPECT_EQ(tree_at(c.tree, "client.proxy.connect.endpoint"), "http://backend/connect");
    EXPECT_EQ(tree_at(c.tree, "client.proxy.connect.enabled"), true);
    EXPECT_EQ(tree_at(c.tree, "client.proxy.connect.timeout"), "3s");
    EXPECT_EQ(tree_at(c.tree, "channel.proxy.publish.endpoint"), "http://backend/publish");
    EXPECT_EQ(tree_at(c.tree, "channel.proxy.publish.http_headers"),
              (json::array{"Cookie", "Authorization"}));
    EXPECT_EQ(tree_at(c.tree, "client.proxy.connect.http_headers"),
              (json::array{"Cookie", "Authorization"}));
    EXPECT_EQ(c.client.channel_limit, 64);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_TRUE(c.prometheus.enabled);
    EXPECT_TRUE(c.health.enabled);
    EXPECT_TRUE(c.client.insecure);
    EXPECT_EQ(c.http_server.port, 8765);
    for (const auto& w : r.warnings) {
        EXPECT_EQ(w.find("unknown"), std::string::npos) << w;
    }
}

TEST(config_legacy, families_and_shorthands) {
    const auto r = load_text("fam.json", R"({
        "redis_tls": true, "redis_tls_server_name": "r.example", "redis_db": 3,
        "nats_url": "nats://n:4222", "broker": "nats",
        "websocket_message_size_limit": 1024, "websocket_compression": true,
        "uni_sse": true, "uni_sse_max_request_body_size": 100,
        "health_handler_prefix": "/healthz", "grpc_api": true, "grpc_api_port": 10001,
        "subscription_token_hmac_secret_key": "subsecret", "separate_subscription_token_config": true,
        "channel_max_length": 100, "user_subscribe_to_personal": true,
        "client_anonymous": true, "proxy_rpc_endpoint": "http://b/rpc", "rpc_ping": true,
        "shutdown_timeout": "5s", "tls": false, "tls_cert": "cert.pem"
    })");
    const auto& t = r.cfg.tree;
    EXPECT_EQ(tree_at(t, "engine.redis.tls.enabled"), true);
    EXPECT_EQ(tree_at(t, "engine.redis.tls.server_name"), "r.example");
    EXPECT_EQ(tree_at(t, "engine.redis.db"), 3);
    EXPECT_EQ(tree_at(t, "broker.nats.url"), "nats://n:4222");
    EXPECT_EQ(tree_at(t, "broker.type"), "nats");
    EXPECT_EQ(tree_at(t, "broker.enabled"), true);
    EXPECT_EQ(r.cfg.websocket.message_size_limit, 1024);
    EXPECT_EQ(tree_at(t, "websocket.compression"), true);
    EXPECT_EQ(tree_at(t, "uni_sse.enabled"), true);
    EXPECT_EQ(tree_at(t, "uni_sse.max_request_body_size"), 100);
    EXPECT_EQ(r.cfg.health.handler_prefix, "/healthz");
    EXPECT_EQ(tree_at(t, "grpc_api.enabled"), true);
    EXPECT_EQ(tree_at(t, "grpc_api.port"), 10001);
    EXPECT_EQ(r.cfg.client.subscription_token.hmac_secret_key, "subsecret");
    EXPECT_TRUE(r.cfg.client.subscription_token_enabled);
    EXPECT_EQ(r.cfg.channel.max_length, 100);
    EXPECT_EQ(tree_at(t, "client.subscribe_to_user_personal_channel.enabled"), true);
    EXPECT_TRUE(r.cfg.client.allow_anonymous_connect_without_token);
    EXPECT_EQ(tree_at(t, "rpc.proxy.endpoint"), "http://b/rpc");
    EXPECT_EQ(tree_at(t, "rpc.without_namespace.proxy_enabled"), true);
    EXPECT_EQ(tree_at(t, "rpc.ping.enabled"), true);
    EXPECT_EQ(r.cfg.shutdown_timeout, std::chrono::seconds(5));
    EXPECT_EQ(tree_at(t, "http_server.tls.enabled"), false);
    EXPECT_EQ(tree_at(t, "http_server.tls.cert_pem"), "cert.pem");
    for (const auto& w : r.warnings) {
        EXPECT_EQ(w.find("unknown"), std::string::npos) << w;
    }
}

TEST(config_legacy, nested_key_wins_with_a_warning) {
    const auto r = load_text("both.json", R"({"api_key":"old","http_api":{"key":"new"},
        "token_hmac_secret_key":"a","client":{"token":{"hmac_secret_key":"b"}}})");
    EXPECT_EQ(r.cfg.http_api.key, "new");
    EXPECT_EQ(r.cfg.client.token.hmac_secret_key, "b");
    EXPECT_TRUE(has_warning(r, "legacy key api_key ignored: http_api.key is also set"));
    EXPECT_TRUE(has_warning(r, "legacy key token_hmac_secret_key ignored"));
}

TEST(config_env, v6_names_override_the_file) {
    const auto r =
        load_text("e.json",
                  R"({"http_server":{"port":9000}})",
                  {{"CENTRIFUGO_HTTP_SERVER_PORT", "9100"},
                   {"CENTRIFUGO_CLIENT_ALLOWED_ORIGINS", "http://a http://b"},
                   {"CENTRIFUGO_HEALTH_ENABLED", "true"},
                   {"CENTRIFUGO_CLIENT_PING_INTERVAL", "15s"},
                   {"CENTRIFUGO_CHANNEL_NAMESPACES", R"([{"name":"envns","presence":true}])"},
                   {"CENTRIFUGO_CLIENT_PROXY_CONNECT_HTTP_STATIC_HEADERS", R"({"X-A":"1"})"},
                   {"PATH", "/usr/bin"}});
    EXPECT_EQ(r.cfg.http_server.port, 9100);
    EXPECT_EQ(r.cfg.client.allowed_origins, (std::vector<std::string>{"http://a", "http://b"}));
    EXPECT_TRUE(r.cfg.health.enabled);
    EXPECT_EQ(r.cfg.client.ping_interval, std::chrono::seconds(15));
    ASSERT_NE(r.cfg.find_namespace("envns"), nullptr);
    EXPECT_TRUE(r.cfg.find_namespace("envns")->presence);
    EXPECT_EQ(tree_at(r.cfg.tree, "client.proxy.connect.http.static_headers"),
              (json::object{{"X-A", "1"}}));
}

TEST(config_env, gyre_prefix_wins_over_centrifugo_prefix) {
    const auto r =
        load_text("e2.json",
                  "{}",
                  {{"GYRE_HTTP_SERVER_PORT", "9300"}, {"CENTRIFUGO_HTTP_SERVER_PORT", "9200"}});
    EXPECT_EQ(r.cfg.http_server.port, 9300);
}

TEST(config_env, legacy_names_and_unknown_names) {
    const auto r = load_text("e3.json",
                             "{}",
                             {{"CENTRIFUGO_API_KEY", "k1"},
                              {"CENTRIFUGO_TOKEN_HMAC_SECRET_KEY", "s1"},
                              {"CENTRIFUGO_PROMETHEUS", "1"},
                              {"CENTRIFUGO_NOT_A_THING", "x"},
                              {"CENTRIFUGO_API_SERVICE_PORT", "80"},
                              {"CENTRIFUGO_HTTP_API_KEY", ""}});
    EXPECT_EQ(r.cfg.http_api.key, "k1");
    EXPECT_EQ(r.cfg.client.token.hmac_secret_key, "s1");
    EXPECT_TRUE(r.cfg.prometheus.enabled);
    EXPECT_TRUE(has_warning(r, "unknown environment variable: CENTRIFUGO_NOT_A_THING"));
    EXPECT_FALSE(has_warning(r, "CENTRIFUGO_API_SERVICE_PORT"));
}

TEST(config_env, v6_env_wins_over_legacy_env) {
    const auto r = load_text(
        "e4.json", "{}", {{"CENTRIFUGO_API_KEY", "old"}, {"CENTRIFUGO_HTTP_API_KEY", "new"}});
    EXPECT_EQ(r.cfg.http_api.key, "new");
}

TEST(config_precedence, flags_over_env_over_file_over_defaults) {
    const auto r =
        load_text("p.json",
                  R"({"http_server":{"port":9000,"address":"127.0.0.1"},
        "log":{"level":"warn"}})",
                  {{"CENTRIFUGO_HTTP_SERVER_PORT", "9100"}, {"CENTRIFUGO_LOG_LEVEL", "error"}},
                  {{"http_server.port", "9200"}});
    EXPECT_EQ(r.cfg.http_server.port, 9200);           // flag
    EXPECT_EQ(r.cfg.log.level, "error");               // env
    EXPECT_EQ(r.cfg.http_server.address, "127.0.0.1"); // file
    EXPECT_EQ(r.cfg.client.channel_limit, 128);        // default
}

TEST(config_errors, broken_files_name_format_and_line) {
    EXPECT_NE(error_of("b.json", "{\n\"a\": 1,\n}").find("invalid JSON at line 3"),
              std::string::npos);
    EXPECT_NE(error_of("b.yaml", "a: [1, 2\nb: c").find("invalid YAML"), std::string::npos);
    EXPECT_NE(error_of("b.toml", "a = \n").find("invalid TOML at line 1"), std::string::npos);
    EXPECT_NE(error_of("b.json", "[1,2]").find("top level must be an object"), std::string::npos);
}

// A fuzzer-found input: an alias inside the node it names is a cycle, which used to recurse
// until the stack overflowed (a crash, not a config error).
TEST(config_errors, yaml_alias_that_contains_itself_is_refused) {
    EXPECT_NE(error_of("cycle.yaml", "a: &a [x, *a]\n").find("nested too deep"), std::string::npos);
}

TEST(config_errors, yaml_alias_bomb_is_refused_quickly) {
    std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'j'; ++c) {
        const char prev = static_cast<char>(c - 1);
        text += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
                prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
                ", *" + prev + "]\n";
    }
    EXPECT_NE(error_of("bomb.yaml", text).find("too many values"), std::string::npos);
}

TEST(config_errors, wrong_types_name_key_value_and_expectation) {
    EXPECT_EQ(error_of("t.json", R"({"http_server":{"port":"abc"}})"),
              "invalid value for http_server.port: \"abc\" (expected an integer)");
    EXPECT_EQ(error_of("t.json", R"({"client":{"queue_max_size":-5}})"),
              "invalid value for client.queue_max_size: -5 (expected a non-negative integer)");
    EXPECT_EQ(error_of("t.json", R"({"health":{"enabled":"yes"}})"),
              "invalid value for health.enabled: \"yes\" (expected a boolean)");
    EXPECT_NE(error_of("t.json", R"({"client":{"ping_interval":"soon"}})")
                  .find("invalid value for client.ping_interval: \"soon\" (expected a duration"),
              std::string::npos);
    EXPECT_EQ(error_of("t.json", R"({"client":"nope"})"),
              "invalid value for client: \"nope\" (expected an object of options)");
    EXPECT_EQ(error_of("t.json", R"({"channel":{"namespaces":[1]}})"),
              "invalid value for channel.namespaces[0]: 1 (expected an object)");
    EXPECT_EQ(error_of("t.json", R"({"client":{"allowed_origins":[{}]}})"),
              "invalid value for client.allowed_origins[0]: {} (expected a string)");
    EXPECT_EQ(error_of("t.json", "{}", {{"CENTRIFUGO_HTTP_SERVER_PORT", "eighty"}}),
              "invalid value for http_server.port: \"eighty\" (expected an integer)");
}

TEST(config_errors, validation_rules) {
    EXPECT_EQ(error_of("v.json", R"({"engine":{"type":"tarantool"}})"),
              "invalid config: engine.type: \"tarantool\" (expected one of \"memory\", \"redis\")");
    EXPECT_NE(error_of("v.json", R"({"http_server":{"port":70000}})").find("http_server.port"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"log":{"level":"loud"}})").find("log.level"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"client":{"ping_interval":"5s","pong_timeout":"10s"}})")
                  .find("must be greater than client.pong_timeout"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"channel":{"without_namespace":{"history_size":10}}})")
                  .find("history_size and history_ttl must be set together"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"channel":{"without_namespace":{"history_size":1,
        "history_ttl":"1500ms"}}})")
                  .find("whole seconds"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"channel":{"without_namespace":{"force_recovery":true}}})")
                  .find("force_recovery: requires history"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"channel":{"namespaces":[{"name":"a"}]}})").find("must match"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"channel":{"namespaces":[{"name":"ab"},{"name":"ab"}]}})")
                  .find("used twice"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"channel":{"without_namespace":{"force_recovery_mode":"x"}}})")
                  .find("force_recovery_mode"),
              std::string::npos);
    EXPECT_NE(
        error_of("v.json", R"({"channel":{"without_namespace":{"allowed_delta_types":["xor"]}}})")
            .find("allowed_delta_types"),
        std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"channel":{"without_namespace":{"channel_regex":"(("}}})")
                  .find("channel_regex"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"client":{"token":{"user_id_claim":"user-id"}}})")
                  .find("user_id_claim"),
              std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"proxies":[{"name":"default","endpoint":"http://x"}]})")
                  .find("reserved"),
              std::string::npos);
    EXPECT_NE(
        error_of("v.json", R"({"http_api":{"error_mode":"loud"}})").find("http_api.error_mode"),
        std::string::npos);
    EXPECT_NE(error_of("v.json", R"({"client":{"subscribe_to_user_personal_channel":{"enabled":true,
        "single_connection":true}}})")
                  .find("requires presence"),
              std::string::npos);
    EXPECT_EQ(error_of("v.json", R"({"channel":{"without_namespace":{"history_size":10,
        "history_ttl":"60s","force_recovery":true}}})"),
              "no error");
}

TEST(config_duration, parse_and_format_like_go) {
    EXPECT_EQ(parse_duration("25s"), std::chrono::seconds(25));
    EXPECT_EQ(parse_duration("1m30s"), std::chrono::seconds(90));
    EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
    EXPECT_EQ(parse_duration("1.5h"), std::chrono::minutes(90));
    EXPECT_EQ(parse_duration("-1s"), std::chrono::seconds(-1));
    EXPECT_EQ(parse_duration("0"), std::chrono::seconds(0));
    EXPECT_FALSE(parse_duration("10"));
    EXPECT_FALSE(parse_duration("s"));
    EXPECT_FALSE(parse_duration("10x"));
    EXPECT_FALSE(parse_duration(""));
    EXPECT_EQ(format_duration(std::chrono::seconds(25)), "25s");
    EXPECT_EQ(format_duration(std::chrono::hours(720)), "720h0m0s");
    EXPECT_EQ(format_duration(std::chrono::milliseconds(1000)), "1s");
    EXPECT_EQ(format_duration(std::chrono::milliseconds(250)), "250ms");
    EXPECT_EQ(format_duration(std::chrono::milliseconds(1500)), "1.5s");
}

TEST(config_render, defaults_round_trip_through_every_format) {
    for (const auto& [name, fmt] : {std::pair{"rt.json", file_format::json},
                                    std::pair{"rt.yaml", file_format::yaml},
                                    std::pair{"rt.toml", file_format::toml}}) {
        SCOPED_TRACE(name);
        const std::string text = render(default_tree(), fmt);
        const auto r = load_text(name, text);
        EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
        EXPECT_EQ(r.cfg.tree, default_tree());
    }
}

TEST(config_schema, every_default_binds) {
    // bind_and_validate reads every typed key; a schema/typed mismatch throws here.
    EXPECT_NO_THROW((void)bind_and_validate(default_tree()));
}

} // namespace
} // namespace gyre::config

namespace gyre::config {
namespace {

TEST(config_transports, http_transport_sections_bind) {
    const auto r = load_text("transports.json", R"({
        "http_stream": {"enabled": true, "max_request_body_size": 1000},
        "sse": {"enabled": true, "handler_prefix": "/s"},
        "uni_sse": {"enabled": true,
                    "connect_code_to_http_response": {"enabled": true,
                        "transforms": [{"code": 3500, "to": {"status_code": 401, "body": "no"}}]}},
        "uni_websocket": {"enabled": true, "join_push_messages": true},
        "emulation": {"max_request_body_size": 0},
        "client": {"connect_code_to_unidirectional_disconnect": {"enabled": true,
                   "transforms": [{"code": 103, "to": {"code": 4501, "reason": "denied"}}]}}
    })");
    const auto& c = r.cfg;
    EXPECT_TRUE(c.http_stream.enabled);
    EXPECT_EQ(c.http_stream.max_request_body_size, 1000U);
    EXPECT_EQ(c.sse.handler_prefix, "/s");
    EXPECT_TRUE(c.emulation.enabled) << "on when sse or http_stream is";
    EXPECT_EQ(c.emulation.max_request_body_size, 65536U) << "0 means the default, as Centrifugo";
    EXPECT_FALSE(c.uni_http_stream.enabled);
    EXPECT_TRUE(c.uni_sse_code_to_http);
    ASSERT_EQ(c.uni_sse_code_transforms.size(), 1U);
    EXPECT_EQ(c.uni_sse_code_transforms[0].code, 3500U);
    EXPECT_EQ(c.uni_sse_code_transforms[0].to_code, 401U);
    EXPECT_EQ(c.uni_sse_code_transforms[0].to_reason, "no");
    EXPECT_TRUE(c.uni_websocket.enabled);
    EXPECT_TRUE(c.uni_websocket.join_push_messages);
    EXPECT_TRUE(c.client.connect_code_to_unidirectional_disconnect);
    ASSERT_EQ(c.client.unidirectional_code_transforms.size(), 1U);
    EXPECT_EQ(c.client.unidirectional_code_transforms[0].to_code, 4501U);
    EXPECT_EQ(c.client.unidirectional_code_transforms[0].to_reason, "denied");
    EXPECT_FALSE(load_text("none.json", "{}").cfg.emulation.enabled);
}

TEST(config_transports, legacy_flat_keys) {
    const auto c =
        load_text("legacy_transports.json",
                  R"({"sse": true, "uni_sse": true, "uni_http_stream_max_request_body_size": 10,
                                 "uni_websocket": true, "uni_websocket_join_push_messages": true})")
            .cfg;
    EXPECT_TRUE(c.sse.enabled);
    EXPECT_TRUE(c.emulation.enabled);
    EXPECT_TRUE(c.uni_sse.enabled);
    EXPECT_EQ(c.uni_http_stream.max_request_body_size, 10U);
    EXPECT_TRUE(c.uni_websocket.join_push_messages);
}

TEST(config_transports, bad_transform_names_its_key) {
    EXPECT_NE(error_of("bad1.json",
                       R"({"uni_http_stream": {"connect_code_to_http_response":
                           {"enabled": true, "transforms": [{"code": 1}]}}})")
                  .find("uni_http_stream.connect_code_to_http_response.transforms[0]"),
              std::string::npos);
    EXPECT_NE(error_of("bad2.json",
                       R"({"client": {"connect_code_to_unidirectional_disconnect":
                           {"transforms": [{"code": 103, "to": {"reason": "x"}}]}}})")
                  .find("client.connect_code_to_unidirectional_disconnect.transforms[0].to"),
              std::string::npos);
}

} // namespace
} // namespace gyre::config

namespace gyre::config {
namespace {

TEST(config_small_keys, global_publication_data_format_fills_namespaces_that_leave_it_empty) {
    const auto r = load_text("f.json", R"({"channel":{"publication_data_format":"json_object",
        "namespaces":[{"name":"bin","publication_data_format":"binary"},{"name":"plain"}]}})");
    EXPECT_EQ(r.cfg.channel.publication_data_format, "json_object");
    EXPECT_EQ(r.cfg.channel.without_namespace.publication_data_format, "json_object");
    EXPECT_EQ(r.cfg.find_namespace("bin")->publication_data_format, "binary");
    EXPECT_EQ(r.cfg.find_namespace("plain")->publication_data_format, "json_object");
    EXPECT_EQ(error_of("f.json", R"({"channel":{"publication_data_format":"xml"}})"),
              "invalid config: channel.publication_data_format: \"xml\" (expected \"\", \"json\", "
              "\"json_object\" or \"binary\")");
}

TEST(config_small_keys, client_timing_and_header_keys_are_bound) {
    const auto d = load_text("d.json", "{}");
    EXPECT_EQ(d.cfg.client.presence_update_interval, std::chrono::seconds(27));
    EXPECT_EQ(d.cfg.client.channel_position_max_time_lag, std::chrono::nanoseconds(0));
    EXPECT_EQ(d.cfg.client.user_id_http_header, "");
    const auto r = load_text("c.json", R"({"client":{"presence_update_interval":"500ms",
        "channel_position_max_time_lag":"300ms","user_id_http_header":"X-User-Id"}})");
    EXPECT_EQ(r.cfg.client.presence_update_interval, std::chrono::milliseconds(500));
    EXPECT_EQ(r.cfg.client.channel_position_max_time_lag, std::chrono::milliseconds(300));
    EXPECT_EQ(r.cfg.client.user_id_http_header, "X-User-Id");
}

} // namespace
} // namespace gyre::config
