// File: tests/unit/engine/redis_address_test.cpp
#include "engine/redis/address.hpp"

#include <gtest/gtest.h>

using gyre::engine::redis::address;
using gyre::engine::redis::address_error;
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

TEST(RedisAddress, RecognisedButUnsupportedSchemes) {
    for (auto text : {"rediss://h:1", "redis+cluster://h:1", "redis+sentinel://h:1"}) {
        EXPECT_NE(parse_error(text).find("not supported yet"), std::string::npos) << text;
    }
}
