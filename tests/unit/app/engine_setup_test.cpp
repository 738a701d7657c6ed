#include "app/engine_setup.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace gyre::app {
namespace {
namespace json = boost::json;
namespace rd = engine::redis;

json::object redis_object(std::string_view text) {
    return json::parse(text).as_object();
}

std::vector<rd::address> ok(std::string_view text) {
    auto r = redis_addresses(redis_object(text), "engine.redis");
    if (auto* err = std::get_if<std::string>(&r)) {
        ADD_FAILURE() << *err;
        return {};
    }
    return std::get<std::vector<rd::address>>(r);
}

std::string error(std::string_view text) {
    auto r = redis_addresses(redis_object(text), "engine.redis");
    auto* err = std::get_if<std::string>(&r);
    return err != nullptr ? *err : std::string("(no error)");
}

TEST(engine_setup, each_address_is_a_shard_and_the_object_fills_the_gaps) {
    const auto a = ok(R"({"address": ["127.0.0.1:7001", "redis://:fromurl@127.0.0.1:7002/3"],
                          "user": "app", "password": "secret", "db": 2, "io_timeout": "250ms"})");
    ASSERT_EQ(a.size(), 2U);
    EXPECT_EQ(a[0].port, 7001);
    EXPECT_EQ(a[0].user, "app");
    EXPECT_EQ(a[0].password, "secret");
    EXPECT_EQ(a[0].db, 2);
    EXPECT_EQ(a[0].io_timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(a[1].password, "fromurl"); // what the URL says wins
    EXPECT_EQ(a[1].db, 3);
}

TEST(engine_setup, cluster_address_lists_seeds_of_one_cluster) {
    const auto a =
        ok(R"({"address": ["ignored:1"], "cluster_address": ["10.0.0.1:7000,10.0.0.2:7001"]})");
    ASSERT_EQ(a.size(), 1U);
    EXPECT_TRUE(a[0].is_cluster());
    ASSERT_EQ(a[0].seeds.size(), 2U);
    EXPECT_EQ(a[0].seeds[1].host, "10.0.0.2");
    EXPECT_EQ(a[0].seeds[1].port, 7001);
}

TEST(engine_setup, a_seed_list_address_is_one_cluster_shard) {
    const auto a = ok(R"({"address": ["redis://127.0.0.1:7000?addr=127.0.0.1:7001"]})");
    ASSERT_EQ(a.size(), 1U);
    EXPECT_TRUE(a[0].is_cluster());
    EXPECT_TRUE(a[0].cluster_from_seeds);
    ASSERT_EQ(a[0].seeds.size(), 2U);
    // An entry of cluster_address with its own addr= seeds adds them all.
    const auto b =
        ok(R"({"cluster_address": ["10.0.0.1:7000?addr=10.0.0.2:7001", "10.0.0.3:7002"]})");
    ASSERT_EQ(b.size(), 1U);
    ASSERT_EQ(b[0].seeds.size(), 3U);
    EXPECT_EQ(b[0].seeds[1].host, "10.0.0.2");
    EXPECT_EQ(b[0].seeds[2].port, 7002);
}

TEST(engine_setup, sentinel_address_needs_a_master_name) {
    EXPECT_EQ(error(R"({"sentinel_address": ["127.0.0.1:26379"]})"),
              "engine.redis.sentinel_master_name: required with sentinel_address");
    const auto a = ok(R"({"sentinel_address": ["127.0.0.1:26379", "127.0.0.1:26380"],
                          "sentinel_master_name": "mymaster", "password": "m",
                          "sentinel_password": "s"})");
    ASSERT_EQ(a.size(), 1U);
    EXPECT_TRUE(a[0].is_sentinel());
    EXPECT_EQ(a[0].sentinel_master_name, "mymaster");
    EXPECT_EQ(a[0].seeds.size(), 2U);
    EXPECT_EQ(a[0].password, "m");
    EXPECT_EQ(a[0].sentinel_password, "s");
}

TEST(engine_setup, an_enabled_tls_object_wins) {
    const auto a = ok(R"({"address": ["redis://127.0.0.1:6380"],
                          "tls": {"enabled": true, "server_name": "redis.internal",
                                  "insecure_skip_verify": true}})");
    ASSERT_EQ(a.size(), 1U);
    EXPECT_TRUE(a[0].tls.enabled);
    EXPECT_EQ(a[0].tls.server_name, "redis.internal");
    EXPECT_TRUE(a[0].tls.insecure_skip_verify);
    EXPECT_FALSE(ok(R"({"address": ["redis://127.0.0.1:6380"], "tls": {"enabled": false}})")
                     .front()
                     .tls.enabled);
}

TEST(engine_setup, errors_name_the_key) {
    EXPECT_EQ(error(R"({"address": []})"), "engine.redis.address: at least one address is needed");
    EXPECT_EQ(error(R"({"address": ["mongodb://x"]})").rfind("engine.redis.address: ", 0), 0U);
    EXPECT_EQ(error(R"({"cluster_address": ["unix:///tmp/r.sock"]})")
                  .rfind("engine.redis.cluster_address: ", 0),
              0U);
}

TEST(engine_setup, client_names_reach_every_address) {
    const auto a = ok(R"({"address": ["127.0.0.1:7001", "127.0.0.1:7002"],
                          "client_name": "gyre-eu1"})");
    ASSERT_EQ(a.size(), 2U);
    EXPECT_EQ(a[0].client_name, "gyre-eu1");
    EXPECT_EQ(a[1].client_name, "gyre-eu1");
    const auto s = ok(R"({"sentinel_address": ["127.0.0.1:26379"], "sentinel_master_name": "m",
                          "client_name": "data", "sentinel_client_name": "watch"})");
    ASSERT_EQ(s.size(), 1U);
    EXPECT_EQ(s[0].client_name, "data");
    EXPECT_EQ(s[0].sentinel_client_name, "watch");
    EXPECT_EQ(error(R"({"address": ["127.0.0.1:7001"], "client_name": "two words"})"),
              "engine.redis.client_name: \"two words\" (Redis client names take printable ASCII "
              "without spaces)");
}

} // namespace
} // namespace gyre::app
