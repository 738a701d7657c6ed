// File: tests/unit/engine/redis_sentinel_test.cpp
// redis+sentinel:// against real processes: a master, a replica and one Sentinel. A failover
// must move both the command connection and the PUB/SUB subscriber to the new master, so a node
// never keeps listening on the demoted one (Centrifugo issue #1189).
#include "engine/redis/connection.hpp"
#include "engine/redis/subscriber.hpp"
#include "redis_server_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace gyre::engine::redis;
using namespace std::chrono_literals;
using gyre::test::run_until;

bool reply_mentions(const reply& r, const std::string& text) {
    if (r.text == text) {
        return true;
    }
    for (const auto& e : r.elements) {
        if (reply_mentions(e, text)) {
            return true;
        }
    }
    return false;
}

class RedisSentinel : public ::testing::Test, protected gyre::test::redis_links {
protected:
    void SetUp() override {
        auto binary = gyre::test::find_on_path("redis-server");
        if (!binary) {
            GTEST_SKIP() << "redis-server not on PATH";
        }
        binary_ = *binary;
        ASSERT_TRUE(dir_.ok());
    }

    void TearDown() override {
        stop_links();
        sentinel_.stop();
        replica_.stop();
        master_.stop();
    }

    void start_topology() {
        master_port_ = gyre::test::free_loopback_port();
        replica_port_ = gyre::test::free_loopback_port();
        sentinel_port_ = gyre::test::free_loopback_port();
        const std::vector<std::string> in_dir{"--dir", dir_.file("")};
        ASSERT_TRUE(master_.start(binary_, master_port_, in_dir)) << "master did not start";
        auto replica_args = in_dir;
        replica_args.insert(replica_args.end(),
                            {"--replicaof", "127.0.0.1", std::to_string(master_port_)});
        ASSERT_TRUE(replica_.start(binary_, replica_port_, replica_args))
            << "replica did not start";
        // Sentinel learns replicas from the master's INFO; let the replica attach first.
        auto replica = direct(replica_port_);
        ASSERT_TRUE(run_until(
            context_,
            [&] {
                auto info = run_command(*replica, {"INFO", "replication"});
                return info.value.text.find("master_link_status:up") != std::string::npos;
            },
            10s))
            << "replica did not sync";
        dir_.write("sentinel.conf",
                   "sentinel monitor mymaster 127.0.0.1 " + std::to_string(master_port_) +
                       " 1\n"
                       "sentinel down-after-milliseconds mymaster 1000\n"
                       "sentinel failover-timeout mymaster 5000\n");
        auto sentinel_args = in_dir;
        sentinel_args.push_back("--sentinel");
        ASSERT_TRUE(sentinel_.start(binary_,
                                    sentinel_port_,
                                    sentinel_args,
                                    {.config_file = dir_.file("sentinel.conf"), .tls = false}))
            << "sentinel did not start";
        auto sentinel = direct(sentinel_port_);
        ASSERT_TRUE(run_until(
            context_,
            [&] {
                auto replicas = run_command(*sentinel, {"SENTINEL", "replicas", "mymaster"});
                return reply_mentions(replicas.value, std::to_string(replica_port_));
            },
            10s))
            << "sentinel did not discover the replica";
    }

    std::shared_ptr<connection> direct(std::uint16_t port) {
        address a;
        a.host = "127.0.0.1";
        a.port = port;
        return track(connection::create(context_, a));
    }

    /// The first Sentinel is a port nobody listens on: resolution must move on to the next.
    address via_sentinel() {
        const auto dead = gyre::test::free_loopback_port();
        auto parsed = parse_address("redis+sentinel://127.0.0.1:" + std::to_string(dead) +
                                    "?sentinel_master_name=mymaster&addr=127.0.0.1:" +
                                    std::to_string(sentinel_port_) + "&connect_timeout=500ms");
        auto a = std::get<address>(parsed);
        // Only the +switch-master event can move the links within the test's deadline.
        a.sentinel_check_interval = 60s;
        a.client_name = "gyre-data";
        a.sentinel_client_name = "gyre-watch";
        return a;
    }

    std::string binary_;
    gyre::test::temp_dir dir_;
    std::uint16_t master_port_ = 0;
    std::uint16_t replica_port_ = 0;
    std::uint16_t sentinel_port_ = 0;
    gyre::test::redis_process master_;
    gyre::test::redis_process replica_;
    gyre::test::redis_process sentinel_;
};

TEST_F(RedisSentinel, FollowsTheMasterThroughAFailover) {
    start_topology();
    auto c = track(connection::create(context_, via_sentinel()));
    auto set = run_command(*c, {"SET", "where", "before"});
    ASSERT_TRUE(set.ok()) << set.failure;
    EXPECT_EQ(c->current_endpoint().port, master_port_);
    // client_name names the data connections, sentinel_client_name those to the Sentinels.
    const auto names = [this](std::uint16_t port) {
        return run_command(*direct(port), {"CLIENT", "LIST"}).value.text;
    };
    EXPECT_NE(names(master_port_).find(" name=gyre-data "), std::string::npos);
    EXPECT_NE(names(sentinel_port_).find(" name=gyre-watch "), std::string::npos);

    auto sub = track(subscriber::create(context_, via_sentinel()));
    std::vector<std::string> messages;
    sub->on_message([&](std::string_view, std::string_view data) { messages.emplace_back(data); });
    sub->subscribe({"news"});
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->is_subscribed("news"); }, 10s))
        << sub->last_error();
    EXPECT_EQ(sub->current_endpoint().port, master_port_);
    auto old_master = direct(master_port_);
    ASSERT_EQ(run_command(*old_master, {"PUBLISH", "news", "one"}).value.integer, 1);
    ASSERT_TRUE(run_until(
        context_, [&] { return messages.size() == 1; }, 5s));

    auto sentinel = direct(sentinel_port_);
    // NOGOODSLAVE until the Sentinel has connected to the replica and read its INFO.
    command_result failover;
    ASSERT_TRUE(run_until(
        context_,
        [&] {
            failover = run_command(*sentinel, {"SENTINEL", "FAILOVER", "mymaster"});
            if (failover.ok() && failover.value.text.starts_with("NOGOODSLAVE")) {
                std::this_thread::sleep_for(100ms);
                return false;
            }
            return true;
        },
        10s))
        << failover.value.text;
    ASSERT_TRUE(failover.ok()) << failover.failure;
    ASSERT_FALSE(failover.value.is_error()) << failover.value.text;

    // Both links must end up on the promoted replica, the subscriber subscribed there again.
    // The deadline is short on purpose: +switch-master comes about a second after the
    // failover, while without it the links would only move when the Sentinel demotes the old
    // master and kills its clients, some ten seconds later.
    ASSERT_TRUE(run_until(
        context_,
        [&] {
            return c->state() == link_state::connected && sub->state() == link_state::connected &&
                   c->current_endpoint().port == replica_port_ &&
                   sub->current_endpoint().port == replica_port_ && sub->is_subscribed("news");
        },
        7s))
        << "connection on " << c->current_endpoint().describe() << " (" << c->last_error()
        << "), subscriber on " << sub->current_endpoint().describe() << " (" << sub->last_error()
        << ")";

    auto moved = run_command(*c, {"SET", "where", "after"});
    ASSERT_TRUE(moved.ok()) << moved.failure;
    EXPECT_FALSE(moved.value.is_error()) << moved.value.text;
    auto new_master = direct(replica_port_);
    EXPECT_EQ(run_command(*new_master, {"GET", "where"}).value.text, "after");

    // The subscription lives on the new master itself, not just via replication.
    auto numsub = run_command(*new_master, {"PUBSUB", "NUMSUB", "news"});
    ASSERT_EQ(numsub.value.elements.size(), 2u);
    EXPECT_EQ(numsub.value.elements[1].integer, 1);
    EXPECT_EQ(run_command(*new_master, {"PUBLISH", "news", "two"}).value.integer, 1);
    ASSERT_TRUE(run_until(
        context_, [&] { return messages.size() == 2; }, 5s));
    EXPECT_EQ(messages[1], "two");
}

TEST_F(RedisSentinel, NoSentinelReachableNamesEachOne) {
    const auto one = gyre::test::free_loopback_port();
    const auto two = gyre::test::free_loopback_port();
    auto parsed =
        parse_address("redis+sentinel://127.0.0.1:" + std::to_string(one) +
                      "?sentinel_master_name=mymaster&addr=127.0.0.1:" + std::to_string(two));
    auto c = track(connection::create(context_, std::get<address>(parsed)));
    ASSERT_TRUE(run_until(
        context_, [&] { return !c->last_error().empty(); }, 5s));
    const auto& error = c->last_error();
    EXPECT_NE(error.find("no Sentinel named the master"), std::string::npos) << error;
    EXPECT_NE(error.find("Sentinel 127.0.0.1:" + std::to_string(one)), std::string::npos) << error;
    EXPECT_NE(error.find("Sentinel 127.0.0.1:" + std::to_string(two)), std::string::npos) << error;
    EXPECT_FALSE(run_command(*c, {"PING"}).ok());
}

TEST_F(RedisSentinel, UnknownMasterNameIsReported) {
    start_topology();
    auto parsed = parse_address("redis+sentinel://127.0.0.1:" + std::to_string(sentinel_port_) +
                                "?sentinel_master_name=nosuchmaster");
    auto c = track(connection::create(context_, std::get<address>(parsed)));
    ASSERT_TRUE(run_until(
        context_, [&] { return !c->last_error().empty(); }, 5s));
    EXPECT_NE(c->last_error().find("does not know master \"nosuchmaster\""), std::string::npos)
        << c->last_error();
}

} // namespace
