#include "app/proxy_setup.hpp"
#include "config/error.hpp"
#include "config/load.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace gyre::app {
namespace {

config::config load_config(const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("gyre_proxy_setup_" + std::to_string(::getpid()) + ".json");
    std::ofstream(path) << text;
    config::load_options o;
    o.file = path.string();
    o.file_required = true;
    auto r = config::load(o);
    std::filesystem::remove(path);
    return std::move(r.cfg);
}

TEST(proxy_setup, v6_layout_builds_what_enabled_namespaces_name) {
    runtime::shard_set shards(1);
    const auto cfg = load_config(R"({
        "client": {"proxy": {"connect": {"enabled": true, "endpoint": "http://127.0.0.1:1/c",
                                         "http_headers": ["Cookie", "X-Tenant"]}}},
        "channel": {"proxy": {"subscribe": {"endpoint": "http://127.0.0.1:1/s"}},
                    "namespaces": [{"name": "chat", "subscribe_proxy_enabled": true},
                                   {"name": "pub", "publish_proxy_enabled": true,
                                    "publish_proxy_name": "named"}]},
        "proxies": [{"name": "named", "endpoint": "http://127.0.0.1:1/p",
                     "http_headers": ["authorization"]}],
        "rpc": {"proxy": {"endpoint": "http://127.0.0.1:1/r"},
                "without_namespace": {"proxy_enabled": true}}
    })");
    const auto p = build_proxies(cfg, shards);
    ASSERT_NE(p->connect, nullptr);
    EXPECT_EQ(p->refresh, nullptr);
    EXPECT_NE(session::proxies::find(p->subscribe, "default"), nullptr);
    EXPECT_NE(session::proxies::find(p->publish, "named"), nullptr);
    EXPECT_EQ(session::proxies::find(p->publish, "default"), nullptr) << "not referenced";
    EXPECT_NE(session::proxies::find(p->rpc, "default"), nullptr);
    EXPECT_EQ(p->header_names, (std::vector<std::string>{"cookie", "x-tenant", "authorization"}))
        << "lower-cased, each once";
}

TEST(proxy_setup, seed_era_flat_keys) {
    runtime::shard_set shards(1);
    const auto cfg = load_config(R"({
        "proxy_connect_endpoint": "http://127.0.0.1:1/connect",
        "proxy_connect_timeout": "2s",
        "proxy_rpc_endpoint": "http://127.0.0.1:1/rpc",
        "proxy_publish_endpoint": "http://127.0.0.1:1/publish",
        "proxy_publish": true,
        "proxy_http_headers": ["Cookie"]
    })");
    const auto p = build_proxies(cfg, shards);
    ASSERT_NE(p->connect, nullptr);
    EXPECT_NE(session::proxies::find(p->publish, "default"), nullptr);
    EXPECT_EQ(p->header_names, std::vector<std::string>{"cookie"});
}

TEST(proxy_setup, errors_name_the_key) {
    runtime::shard_set shards(1);
    auto error_of = [&shards](const std::string& text) {
        try {
            (void)build_proxies(load_config(text), shards);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(error_of(R"({"channel": {"namespaces": [{"name": "aa", "publish_proxy_enabled": true,
                          "publish_proxy_name": "missing"}]}})")
                  .find("channel.namespaces[0].publish_proxy_name: proxy \"missing\" not found"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"client": {"proxy": {"connect": {"enabled": true}}}})")
                  .find("client.proxy.connect.endpoint"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"client": {"proxy": {"connect": {"enabled": true,
                          "endpoint": "ftp://x"}}}})")
                  .find("ftp://x"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"client": {"proxy": {"connect": {"enabled": true,
                          "endpoint": "http://127.0.0.1:1/", "http": {"status_to_code_transforms":
                          [{"status_code": 403}]}}}}})")
                  .find("client.proxy.connect.http.status_to_code_transforms[0]"),
              std::string::npos);
}

} // namespace
} // namespace gyre::app
