// File: tests/unit/engine/redis_address_test.cpp
#include "engine/redis/address.hpp"

#include <gtest/gtest.h>

using gyre::engine::redis::address;
using gyre::engine::redis::address_error;
using gyre::engine::redis::endpoint;
using gyre::engine::redis::parse_address;

namespace {

address parse_ok(std::string_view text) {
    auto result = parse_address(text);
    if (auto* e = std::get_if<address_error>(&result)) {
        ADD_FAILURE() << text << ": " << e->message;
        return {};
    }
    return std::get<address>(result);
}

std::string parse_error(std::string_view text) {
    auto result = parse_address(text);
    if (auto* e = std::get_if<address_error>(&result)) {
        return e->message;
    }
    ADD_FAILURE() << text << " parsed, but an error was expected";
    return {};
}

} // namespace

TEST(RedisAddress, HostPort) {
    auto a = parse_ok("127.0.0.1:6380");
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 6380);
    EXPECT_EQ(a.db, 0);
    EXPECT_FALSE(a.is_unix());
    EXPECT_EQ(parse_ok("localhost").port, 6379);
    EXPECT_EQ(parse_ok("tcp://redis.local:7000").host, "redis.local");
    EXPECT_EQ(parse_ok("[::1]:6390").host, "::1");
    EXPECT_EQ(parse_ok("[::1]:6390").describe(), "[::1]:6390");
}

TEST(RedisAddress, RedisUrlWithCredentialsAndDb) {
    auto a = parse_ok("redis://alice:p%40ss@10.0.0.5:6381/3");
    EXPECT_EQ(a.user, "alice");
    EXPECT_EQ(a.password, "p@ss");
    EXPECT_EQ(a.host, "10.0.0.5");
    EXPECT_EQ(a.port, 6381);
    EXPECT_EQ(a.db, 3);
    EXPECT_EQ(a.describe(), "10.0.0.5:6381");

    auto only_password = parse_ok("redis://:secret@host:6379");
    EXPECT_EQ(only_password.user, "");
    EXPECT_EQ(only_password.password, "secret");
    EXPECT_EQ(parse_ok("redis://host:6379/").db, 0);
}

TEST(RedisAddress, UnixSocket) {
    auto a = parse_ok("unix://user:pw@/var/run/redis.sock");
    EXPECT_TRUE(a.is_unix());
    EXPECT_EQ(a.unix_path, "/var/run/redis.sock");
    EXPECT_EQ(a.user, "user");
    EXPECT_EQ(a.password, "pw");
    EXPECT_EQ(parse_ok("unix:///tmp/r.sock").unix_path, "/tmp/r.sock");
}

TEST(RedisAddress, Timeouts) {
    auto a = parse_ok("redis://127.0.0.1:6379?connect_timeout=250ms&io_timeout=2s");
    EXPECT_EQ(a.connect_timeout.count(), 250);
    EXPECT_EQ(a.io_timeout.count(), 2000);
    auto defaults = parse_ok("127.0.0.1:6379");
    EXPECT_EQ(defaults.connect_timeout.count(), 1000);
    EXPECT_EQ(defaults.io_timeout.count(), 4000);
}

TEST(RedisAddress, ErrorsNameTheBadPart) {
    EXPECT_NE(parse_error("127.0.0.1:notaport").find("bad port \"notaport\""), std::string::npos);
    EXPECT_NE(parse_error("127.0.0.1:70000").find("bad port"), std::string::npos);
    EXPECT_NE(parse_error("redis://host:6379/x").find("bad db number \"x\""), std::string::npos);
    EXPECT_NE(parse_error("redis://host?io_timeout=soon").find("io_timeout \"soon\""),
              std::string::npos);
    EXPECT_NE(parse_error("redis://host?color=red").find("\"color\""), std::string::npos);
    EXPECT_NE(parse_error("http://host:1").find("unknown scheme \"http://\""), std::string::npos);
    EXPECT_NE(parse_error("unix://relative.sock").find("absolute"), std::string::npos);
    EXPECT_NE(parse_error(":6379").find("missing host"), std::string::npos);
}

TEST(RedisAddress, Tls) {
    auto a = parse_ok("rediss://u:p@redis.example:6380/2");
    EXPECT_TRUE(a.tls.enabled);
    EXPECT_FALSE(a.tls.insecure_skip_verify);
    EXPECT_EQ(a.host, "redis.example");
    EXPECT_EQ(a.port, 6380);
    EXPECT_EQ(a.db, 2);
    EXPECT_EQ(a.user, "u");
    EXPECT_FALSE(a.is_sentinel());
    EXPECT_TRUE(a.seeds.empty());
    EXPECT_FALSE(a.sentinel_tls.enabled);

    EXPECT_TRUE(parse_ok("redis://h:1?tls_enabled=true").tls.enabled);
    EXPECT_TRUE(parse_ok("redis://h:1?tls_enabled=1").tls.enabled);
    EXPECT_FALSE(parse_ok("redis://h:1?tls_enabled=false").tls.enabled);
    EXPECT_FALSE(parse_ok("redis://h:1").tls.enabled);
    // As in Centrifugo, the parameter can switch TLS on but not off.
    EXPECT_TRUE(parse_ok("rediss://h:1?tls_enabled=false").tls.enabled);
    EXPECT_NE(parse_error("redis://h:1?tls_enabled=yes").find("bad tls_enabled \"yes\""),
              std::string::npos);
}

TEST(RedisAddress, TcpSchemeTakesCredentialsAndDb) {
    auto a = parse_ok("tcp://:pw@h:7000/5?force_resp2=true");
    EXPECT_EQ(a.password, "pw");
    EXPECT_EQ(a.db, 5);
    EXPECT_TRUE(a.force_resp2);
}

TEST(RedisAddress, Sentinel) {
    auto a = parse_ok("redis+sentinel://alice:s3cret@10.0.0.1:26379/1?sentinel_master_name=mymaster"
                      "&addr=10.0.0.2:26380&addr=[::1]:26381&sentinel_user=sen"
                      "&sentinel_password=p%26ss&connect_timeout=300ms");
    EXPECT_TRUE(a.is_sentinel());
    EXPECT_FALSE(a.is_cluster());
    EXPECT_EQ(a.sentinel_master_name, "mymaster");
    ASSERT_EQ(a.seeds.size(), 3u);
    EXPECT_EQ(a.seeds[0], (endpoint{"10.0.0.1", 26379}));
    EXPECT_EQ(a.seeds[1], (endpoint{"10.0.0.2", 26380}));
    EXPECT_EQ(a.seeds[2], (endpoint{"::1", 26381}));
    EXPECT_EQ(a.host, "10.0.0.1");
    EXPECT_EQ(a.user, "alice"); // the master's credentials
    EXPECT_EQ(a.password, "s3cret");
    EXPECT_EQ(a.db, 1);
    EXPECT_EQ(a.sentinel_user, "sen");
    EXPECT_EQ(a.sentinel_password, "p&ss");
    EXPECT_EQ(a.connect_timeout.count(), 300);
    EXPECT_FALSE(a.tls.enabled);
    EXPECT_FALSE(a.sentinel_tls.enabled);
    EXPECT_EQ(a.describe(), "sentinel mymaster@10.0.0.1:26379,10.0.0.2:26380,[::1]:26381");
    EXPECT_EQ(a.describe().find("s3cret"), std::string::npos);

    // A Sentinel without a port is on 26379; addr= seeds too.
    auto defaults = parse_ok("redis+sentinel://sen?sentinel_master_name=m&addr=sen2");
    EXPECT_EQ(defaults.seeds[0].port, 26379);
    EXPECT_EQ(defaults.seeds[1].port, 26379);

    auto tls = parse_ok("rediss+sentinel://h:26379?sentinel_master_name=m");
    EXPECT_TRUE(tls.tls.enabled);
    EXPECT_TRUE(tls.sentinel_tls.enabled);
    auto sentinel_tls_only =
        parse_ok("redis+sentinel://h:26379?sentinel_master_name=m&sentinel_tls_enabled=true");
    EXPECT_FALSE(sentinel_tls_only.tls.enabled);
    EXPECT_TRUE(sentinel_tls_only.sentinel_tls.enabled);

    // Centrifugo: sentinel_master_name alone selects Sentinel mode.
    auto implicit = parse_ok("redis://h:26379?sentinel_master_name=m&replica_client_enabled=true");
    EXPECT_TRUE(implicit.is_sentinel());
    EXPECT_EQ(implicit.seeds.size(), 1u);
    EXPECT_TRUE(implicit.replica_client_enabled);
}

TEST(RedisAddress, Cluster) {
    auto a = parse_ok("redis+cluster://:pw@10.0.0.1:7000?addr=10.0.0.2:7001&addr=10.0.0.3");
    EXPECT_TRUE(a.is_cluster());
    EXPECT_FALSE(a.is_sentinel());
    ASSERT_EQ(a.seeds.size(), 3u);
    EXPECT_EQ(a.seeds[0], (endpoint{"10.0.0.1", 7000}));
    EXPECT_EQ(a.seeds[1], (endpoint{"10.0.0.2", 7001}));
    EXPECT_EQ(a.seeds[2], (endpoint{"10.0.0.3", 6379}));
    EXPECT_EQ(a.password, "pw");
    EXPECT_FALSE(a.tls.enabled);
    EXPECT_EQ(a.describe(), "cluster 10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:6379");
    EXPECT_TRUE(parse_ok("redis+cluster://h:7000?tls_enabled=true").tls.enabled);
}

// Centrifugo's documented seed list: addr= on a plain scheme, no master name: a Cluster.
TEST(RedisAddress, SeedListOnAPlainSchemeIsACluster) {
    auto a = parse_ok("redis://u:p@10.0.0.1:7000?addr=10.0.0.2:7001&addr=10.0.0.3");
    EXPECT_TRUE(a.is_cluster());
    EXPECT_TRUE(a.cluster_from_seeds);
    ASSERT_EQ(a.seeds.size(), 3u);
    EXPECT_EQ(a.seeds[0], (endpoint{"10.0.0.1", 7000}));
    EXPECT_EQ(a.seeds[1], (endpoint{"10.0.0.2", 7001}));
    EXPECT_EQ(a.seeds[2], (endpoint{"10.0.0.3", 6379}));
    EXPECT_EQ(a.host, "10.0.0.1");
    EXPECT_EQ(a.port, 7000);
    EXPECT_EQ(a.user, "u");
    EXPECT_EQ(a.password, "p");
    EXPECT_EQ(a.describe(), "cluster 10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:6379");

    auto tls = parse_ok("rediss://h1:1?addr=h2:2&replica_client_enabled=true");
    EXPECT_TRUE(tls.is_cluster());
    EXPECT_TRUE(tls.tls.enabled);
    EXPECT_TRUE(tls.replica_client_enabled);
    EXPECT_TRUE(parse_ok("tcp://h1:1?addr=h2:2").is_cluster());
    // The same seed twice is still a seed list.
    EXPECT_TRUE(parse_ok("redis://127.0.0.1:7000?addr=127.0.0.1:7000").is_cluster());

    // With a master name the seeds are Sentinels; redis+cluster:// is not "from seeds".
    EXPECT_TRUE(parse_ok("redis://h1:1?addr=h2:2&sentinel_master_name=m").is_sentinel());
    EXPECT_FALSE(parse_ok("redis+cluster://h1:1?addr=h2:2").cluster_from_seeds);
    // Without addr= a plain address stays one server.
    auto one = parse_ok("redis://h1:1");
    EXPECT_FALSE(one.is_cluster());
    EXPECT_TRUE(one.seeds.empty());
}

TEST(RedisAddress, SentinelAndClusterErrors) {
    EXPECT_NE(parse_error("redis+sentinel://h:26379").find("needs sentinel_master_name"),
              std::string::npos);
    EXPECT_NE(parse_error("redis+sentinel://h:26379?sentinel_master_name=")
                  .find("needs sentinel_master_name"),
              std::string::npos);
    EXPECT_NE(parse_error("redis+sentinel://h:26379?sentinel_master_name=m&addr=h2:0")
                  .find("addr \"h2:0\": bad port"),
              std::string::npos);
    EXPECT_NE(parse_error("unix:///tmp/r.sock?addr=h2:2").find("addr="), std::string::npos);
    EXPECT_NE(parse_error("redis://h:1/2?addr=h2:2").find("only db 0"), std::string::npos);
    EXPECT_NE(parse_error("redis+cluster://h:7000/3").find("only db 0"), std::string::npos);
    EXPECT_NE(parse_error("redis+cluster://h:7000?sentinel_master_name=m").find("does not go with"),
              std::string::npos);
    EXPECT_NE(parse_error("unix:///tmp/r.sock?sentinel_master_name=m").find("does not go with"),
              std::string::npos);
    EXPECT_NE(parse_error("rediss+cluster://h:7000").find("tls_enabled=true"), std::string::npos);
    EXPECT_NE(parse_error("redis://h:1?replica_client_enabled=true").find("replica_client_enabled"),
              std::string::npos);
    EXPECT_NE(parse_error("redis+sentinel://h?sentinel_master_name=m&sentinel_tls_enabled=maybe")
                  .find("bad sentinel_tls_enabled \"maybe\""),
              std::string::npos);
}
