// File: tests/unit/engine/redis_cluster_test.cpp
// The Redis Cluster client against a real 3-master cluster: slot hashing, routing from a single
// seed, write coalescing per master, hash-tagged EVAL, PUB/SUB across nodes, ASK/MOVED during a
// slot migration, CLUSTERDOWN retries and a crashed master.
#include "engine/redis/cluster.hpp"
#include "engine/redis/connection.hpp"
#include "engine/redis/key_slot.hpp"
#include "engine/redis/subscriber.hpp"
#include "redis_cluster_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace gyre::engine::redis;
using namespace std::chrono_literals;
using gyre::test::admin_command;
using gyre::test::run_until;

address local(std::uint16_t port) {
    address a;
    a.host = "127.0.0.1";
    a.port = port;
    a.connect_timeout = 500ms;
    a.io_timeout = 2000ms;
    return a;
}

std::vector<address> seeds_of(const std::vector<std::uint16_t>& ports) {
    std::vector<address> seeds;
    for (auto p : ports) {
        seeds.push_back(local(p));
    }
    return seeds;
}

/// A key whose slot the cluster assigns to node `index` (found by probing key_slot).
std::string
key_on_node(const std::vector<int>& owners, std::size_t index, const std::string& base) {
    for (int i = 0; i < 100000; ++i) {
        auto key = base + std::to_string(i);
        if (owners[key_slot(key)] == static_cast<int>(index)) {
            return key;
        }
    }
    return {};
}

TEST(RedisKeySlot, KnownValuesAndHashTagRules) {
    EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3); // the CRC16/XMODEM check value
    EXPECT_EQ(key_slot("123456789"), 12739);
    EXPECT_EQ(key_slot("foo"), 12182);
    EXPECT_EQ(key_slot(""), 0);
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
    EXPECT_EQ(key_slot("{user1000}.followers"), key_slot("{user1000}.following"));
    EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}"); // empty first tag: whole key
    EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");    // from the first '{' to the next '}'
    EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");     // only the first tag counts
    EXPECT_EQ(hash_tag("{unclosed"), "{unclosed");
    EXPECT_EQ(key_slot("centrifugo.stream.{chat}"), key_slot("centrifugo.presence.data.{chat}"));
}

TEST(RedisKeySlot, CommandRouting) {
    EXPECT_EQ(command_slot({"GET", "a{x}"}), key_slot("x"));
    EXPECT_EQ(command_slot({"EVAL", "return 1", "2", "k{c}", "m{c}", "arg"}), key_slot("c"));
    EXPECT_EQ(command_slot({"evalsha", "abc", "1", "k"}), key_slot("k"));
    EXPECT_EQ(command_slot({"EVAL", "return 1", "0", "notakey"}), std::nullopt);
    EXPECT_EQ(command_slot({"PUBLISH", "ch", "data"}), std::nullopt);
    EXPECT_EQ(command_slot({"PING"}), std::nullopt);
    EXPECT_EQ(command_slot({"XREAD", "COUNT", "5", "STREAMS", "s{q}", "0"}), key_slot("q"));
}

class RedisCluster : public ::testing::Test, protected gyre::test::redis_links {
protected:
    static void SetUpTestSuite() {
        if (!gyre::test::find_on_path("redis-server") || !gyre::test::find_on_path("redis-cli")) {
            return;
        }
        cluster_ = std::make_unique<gyre::test::redis_cluster>();
        const auto begin = std::chrono::steady_clock::now();
        if (!cluster_->start(3)) {
            start_error_ = cluster_->error();
            cluster_.reset();
        }
        startup_ = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - begin);
    }

    static void TearDownTestSuite() { cluster_.reset(); }

    void SetUp() override {
        if (!gyre::test::find_on_path("redis-server") || !gyre::test::find_on_path("redis-cli")) {
            GTEST_SKIP() << "redis-server/redis-cli not on PATH";
        }
        ASSERT_TRUE(cluster_) << "cluster did not start: " << start_error_;
        RecordProperty("cluster_startup_ms", static_cast<int>(startup_.count()));
    }

    void TearDown() override {
        for (auto& c : clusters_) {
            c->stop();
        }
        stop_links();
        context_.restart();
        context_.poll(); // let posted failures and stopped handlers finish
    }

    std::shared_ptr<cluster_connection> make_client(std::vector<address> seeds,
                                                    cluster_options options = {}) {
        auto c = cluster_connection::create(context_, std::move(seeds), options);
        clusters_.push_back(c);
        c->start();
        return c;
    }

    command_result run(cluster_connection& c,
                       std::vector<std::string> args,
                       std::chrono::milliseconds timeout = 5s) {
        std::optional<command_result> result;
        c.command(std::move(args), [&](command_result r) { result = std::move(r); });
        EXPECT_TRUE(run_until(
            context_, [&] { return result.has_value(); }, timeout));
        return result.value_or(command_result{reply::make_nil(), "test: timed out"});
    }

    const std::vector<std::uint16_t>& ports() const { return cluster_->ports(); }

    static inline std::unique_ptr<gyre::test::redis_cluster> cluster_;
    static inline std::string start_error_;
    static inline std::chrono::milliseconds startup_{};

    std::vector<std::shared_ptr<cluster_connection>> clusters_;
};

TEST_F(RedisCluster, KeySlotMatchesClusterKeyslot) {
    const std::vector<std::string> keys{"123456789",
                                        "foo",
                                        "{user1000}.following",
                                        "foo{}{bar}",
                                        "foo{{bar}}zap",
                                        "foo{bar}{zap}",
                                        "centrifugo.stream.{news:1}",
                                        "centrifugo.presence.expire.{чат}",
                                        std::string("bin\0ary{k}", 11)};
    for (const auto& key : keys) {
        auto r = admin_command(ports()[0], {"CLUSTER", "KEYSLOT", key});
        ASSERT_TRUE(r.ok && !r.error) << r.text;
        EXPECT_EQ(key_slot(key), r.integer) << key;
    }
}

TEST_F(RedisCluster, ManyKeysFromOneSeedReachEveryMasterInOneWriteEach) {
    auto c = make_client({local(ports()[1])}); // one seed only: others come from CLUSTER SLOTS
    ASSERT_TRUE(run(*c, {"PING"}).ok());
    EXPECT_EQ(c->master_count(), 3u);
    std::set<std::uint16_t> master_ports;
    for (const auto& a : c->master_addresses()) {
        master_ports.insert(a.port);
    }
    EXPECT_EQ(master_ports, std::set<std::uint16_t>(ports().begin(), ports().end()));
    constexpr int count = 3000;
    std::set<std::string> owners;
    for (int i = 0; i < count; ++i) {
        owners.insert(c->owner_of(key_slot("many:" + std::to_string(i))));
    }
    EXPECT_EQ(owners.size(), 3u) << "keys should spread over all masters";

    const auto writes_before = c->write_count();
    int ok = 0;
    for (int i = 0; i < count; ++i) { // one turn
        c->command({"SET", "many:" + std::to_string(i), "v" + std::to_string(i)},
                   [&](command_result r) { ok += r.ok() && r.value.text == "OK" ? 1 : 0; });
    }
    ASSERT_TRUE(run_until(
        context_, [&] { return ok == count; }, 10s))
        << ok;
    EXPECT_LE(c->write_count() - writes_before, 3u) << "one write per master for one turn";

    std::vector<std::string> got(count);
    int replies = 0;
    for (int i = 0; i < count; ++i) {
        c->command({"GET", "many:" + std::to_string(i)}, [&, i](command_result r) {
            got[static_cast<std::size_t>(i)] = r.ok() ? r.value.text : "failure: " + r.failure;
            ++replies;
        });
    }
    ASSERT_TRUE(run_until(
        context_, [&] { return replies == count; }, 10s));
    for (int i = 0; i < count; ++i) {
        ASSERT_EQ(got[static_cast<std::size_t>(i)], "v" + std::to_string(i));
    }
    EXPECT_EQ(c->refresh_count(), 1u) << "a correct map never sees MOVED";

    // The value really lives on the owner the client chose: a plain GET there is not redirected.
    auto owners_map = cluster_->owner_map();
    for (int i = 0; i < count; i += 97) {
        const auto key = "many:" + std::to_string(i);
        const auto owner = owners_map[key_slot(key)];
        ASSERT_GE(owner, 0);
        auto r = admin_command(ports()[static_cast<std::size_t>(owner)], {"GET", key});
        EXPECT_FALSE(r.error) << r.text;
        EXPECT_EQ(r.text, "v" + std::to_string(i));
    }
}

TEST_F(RedisCluster, EvalWithKeysSharingAChannelHashTag) {
    auto c = make_client(seeds_of(ports()));
    ASSERT_TRUE(run(*c, {"PING"}).ok()); // slot map loaded
    const std::string script = "redis.call('SET', KEYS[1], ARGV[1]); "
                               "redis.call('HSET', KEYS[2], 's', ARGV[1]); "
                               "return redis.call('HGET', KEYS[2], 's')";
    std::set<std::string> owners;
    for (int i = 0; i < 12; ++i) {
        const auto channel = "chat:" + std::to_string(i);
        const auto stream = "gyre.stream.{" + channel + "}";
        const auto meta = "gyre.stream.meta.{" + channel + "}";
        owners.insert(c->owner_of(key_slot(channel)));
        auto r = run(*c, {"EVAL", script, "2", stream, meta, "x" + channel});
        ASSERT_TRUE(r.ok()) << r.failure;
        ASSERT_FALSE(r.value.is_error()) << r.value.text;
        EXPECT_EQ(r.value.text, "x" + channel);
    }
    EXPECT_EQ(owners.size(), 3u) << "channels should land on every master";
    // Without the tag the keys hash apart: Redis refuses, and the error arrives as a value.
    auto cross = run(*c, {"EVAL", script, "2", "gyre.stream.a", "gyre.stream.meta.a", "v"});
    ASSERT_TRUE(cross.ok()) << cross.failure;
    ASSERT_TRUE(cross.value.is_error());
    EXPECT_NE(cross.value.text.find("CROSSSLOT"), std::string::npos) << cross.value.text;
}

TEST_F(RedisCluster, PublishOnAnyNodeReachesSubscriberOnAnother) {
    // Plain SUBSCRIBE on node 0; PUBLISH through nodes 1 and 2 and through the cluster client.
    auto sub = track(subscriber::create(context_, local(ports()[0])));
    std::vector<std::string> got;
    sub->on_message([&](std::string_view, std::string_view data) { got.emplace_back(data); });
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->state() == link_state::connected; }, 5s));
    std::optional<bool> subscribed;
    sub->subscribe("gyre.client.{news}", [&](bool ok) { subscribed = ok; });
    ASSERT_TRUE(run_until(
        context_, [&] { return subscribed.has_value(); }, 5s));
    ASSERT_TRUE(*subscribed);

    auto c = make_client(seeds_of(ports()));
    for (std::size_t i = 1; i < 3; ++i) {
        auto direct = track(connection::create(context_, local(ports()[i])));
        std::optional<command_result> r;
        direct->command({"PUBLISH", "gyre.client.{news}", "via-node-" + std::to_string(i)},
                        [&](command_result res) { r = std::move(res); });
        ASSERT_TRUE(run_until(
            context_, [&] { return r.has_value(); }, 5s));
        ASSERT_TRUE(r->ok()) << r->failure;
    }
    ASSERT_TRUE(run(*c, {"PUBLISH", "gyre.client.{news}", "via-cluster-client"}).ok());
    ASSERT_TRUE(run_until(
        context_, [&] { return got.size() == 3; }, 5s))
        << got.size();
    EXPECT_EQ(got, (std::vector<std::string>{"via-node-1", "via-node-2", "via-cluster-client"}));
}

TEST_F(RedisCluster, AskThenMovedDuringSlotMigration) {
    auto owners = cluster_->owner_map();
    const auto key = key_on_node(owners, 0, "migrating:");
    ASSERT_FALSE(key.empty());
    const auto slot = key_slot(key);
    const auto slot_text = std::to_string(slot);
    const std::size_t from = 0;
    const std::size_t to = 1;
    const auto from_id = cluster_->node_id(from);
    const auto to_id = cluster_->node_id(to);

    auto c = make_client(seeds_of(ports()));
    ASSERT_TRUE(run(*c, {"SET", key, "before"}).ok());
    ASSERT_EQ(c->owner_of(slot), "127.0.0.1:" + std::to_string(ports()[from]));
    ASSERT_EQ(c->refresh_count(), 1u);

    // Half-way through a migration the key already sits on the target: the source answers -ASK.
    auto admin = [&](std::size_t node, std::vector<std::string> args) {
        auto r = admin_command(ports()[node], args);
        EXPECT_TRUE(r.ok && !r.error) << args[0] << " " << args[1] << ": " << r.text;
    };
    admin(to, {"CLUSTER", "SETSLOT", slot_text, "IMPORTING", from_id});
    admin(from, {"CLUSTER", "SETSLOT", slot_text, "MIGRATING", to_id});
    admin(from,
          {"MIGRATE", "127.0.0.1", std::to_string(ports()[to]), "", "0", "5000", "KEYS", key});
    auto asked = run(*c, {"GET", key});
    ASSERT_TRUE(asked.ok()) << asked.failure;
    EXPECT_EQ(asked.value.text, "before") << "ASK should be followed with ASKING on the target";
    EXPECT_EQ(c->refresh_count(), 1u) << "ASK is one-off: no map refresh";

    // Migration done: now every command for the slot gets -MOVED; one burst, one refresh.
    for (std::size_t node = 0; node < 3; ++node) {
        admin(node, {"CLUSTER", "SETSLOT", slot_text, "NODE", to_id});
    }
    constexpr int burst = 50;
    int values = 0;
    for (int i = 0; i < burst; ++i) {
        c->command({"GET", key},
                   [&](command_result r) { values += r.ok() && r.value.text == "before" ? 1 : 0; });
    }
    ASSERT_TRUE(run_until(
        context_, [&] { return values == burst; }, 5s))
        << values;
    EXPECT_EQ(c->owner_of(slot), "127.0.0.1:" + std::to_string(ports()[to]));
    // Let any refresh the burst started finish, then count.
    run_until(
        context_, [] { return false; }, 400ms);
    EXPECT_EQ(c->refresh_count(), 2u) << "a MOVED burst reloads the map once";
    auto after = run(*c, {"SET", key, "after"});
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(admin_command(ports()[to], {"GET", key}).text, "after");
}

TEST_F(RedisCluster, DetectsClusterAndPlainServers) {
    std::optional<cluster_probe> probe;
    detect_cluster(context_, local(ports()[2]), [&](cluster_probe p) { probe = std::move(p); });
    ASSERT_TRUE(run_until(
        context_, [&] { return probe.has_value(); }, 5s));
    EXPECT_TRUE(probe->reachable) << probe->failure;
    EXPECT_TRUE(probe->cluster_enabled);

    gyre::test::redis_process plain;
    const auto port = gyre::test::free_loopback_port();
    ASSERT_TRUE(plain.start(*gyre::test::find_on_path("redis-server"), port));
    probe.reset();
    detect_cluster(context_, local(port), [&](cluster_probe p) { probe = std::move(p); });
    ASSERT_TRUE(run_until(
        context_, [&] { return probe.has_value(); }, 5s));
    EXPECT_TRUE(probe->reachable) << probe->failure;
    EXPECT_FALSE(probe->cluster_enabled);

    // A cluster client pointed at a plain server fails its commands with the server's reason.
    auto c = make_client({local(port)});
    auto r = run(*c, {"GET", "k"});
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.failure.find("cluster support disabled"), std::string::npos) << r.failure;
}

TEST(RedisClusterUnreachable, CommandsFailCleanlyAndLater) {
    boost::asio::io_context context{1};
    std::vector<address> seeds{local(gyre::test::free_loopback_port()),
                               local(gyre::test::free_loopback_port())};
    auto c = cluster_connection::create(context, seeds);
    bool inside_call = true;
    std::optional<command_result> result;
    c->command({"GET", "k"}, [&](command_result r) {
        EXPECT_FALSE(inside_call);
        result = std::move(r);
    });
    inside_call = false;
    ASSERT_TRUE(run_until(
        context, [&] { return result.has_value(); }, 2s));
    EXPECT_FALSE(result->ok()) << "not started yet";

    c->start();
    result.reset();
    inside_call = true;
    c->command({"GET", "k"}, [&](command_result r) {
        EXPECT_FALSE(inside_call);
        result = std::move(r);
    });
    inside_call = false;
    const auto begin = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(
        context, [&] { return result.has_value(); }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
    EXPECT_FALSE(result->ok());
    EXPECT_NE(result->failure.find("cannot load the slot map"), std::string::npos)
        << result->failure;
    EXPECT_EQ(c->state(), cluster_connection::map_state::unavailable);
    c->stop();
    context.restart();
    context.poll();
}

/// Each test here gets its own cluster: they take nodes and slots away.
class RedisClusterFailure : public RedisCluster {
protected:
    static void SetUpTestSuite() {}

    static void TearDownTestSuite() {}

    void SetUp() override {
        if (!gyre::test::find_on_path("redis-server") || !gyre::test::find_on_path("redis-cli")) {
            GTEST_SKIP() << "redis-server/redis-cli not on PATH";
        }
        own_ = std::make_unique<gyre::test::redis_cluster>();
        const auto begin = std::chrono::steady_clock::now();
        // Without full coverage the surviving masters keep serving their own slots.
        ASSERT_TRUE(own_->start(3, /*require_full_coverage=*/false)) << own_->error();
        const auto took = std::chrono::steady_clock::now() - begin;
        // Recorded, not asserted: timing belongs in benchmarks (a loaded CI machine is slow).
        RecordProperty(
            "cluster_startup_ms",
            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    }

    void TearDown() override {
        RedisCluster::TearDown();
        own_.reset();
    }

    std::unique_ptr<gyre::test::redis_cluster> own_;
};

TEST_F(RedisClusterFailure, ClusterDownIsRetriedUntilTheSlotIsServedAgain) {
    auto owners = own_->owner_map();
    const auto key = key_on_node(owners, 2, "down:");
    const auto slot = std::to_string(key_slot(key));
    cluster_options options;
    options.retry_delay = 100ms;
    options.max_retries = 30;
    auto c = make_client(seeds_of(own_->ports()), options);
    ASSERT_TRUE(run(*c, {"SET", key, "v"}).ok());
    ASSERT_EQ(admin_command(own_->ports()[2], {"DEL", key}).integer, 1);

    // Unassign the slot everywhere: every node answers -CLUSTERDOWN Hash slot not served.
    for (auto p : own_->ports()) {
        auto r = admin_command(p, {"CLUSTER", "DELSLOTS", slot});
        ASSERT_FALSE(r.error) << r.text;
    }
    std::optional<command_result> result;
    c->command({"SET", key, "again"}, [&](command_result r) { result = std::move(r); });
    run_until(
        context_, [] { return false; }, 350ms); // a few CLUSTERDOWN answers and retries
    ASSERT_FALSE(result.has_value()) << "should still be retrying";
    ASSERT_FALSE(admin_command(own_->ports()[2], {"CLUSTER", "ADDSLOTS", slot}).error);
    ASSERT_TRUE(run_until(
        context_, [&] { return result.has_value(); }, 5s));
    ASSERT_TRUE(result->ok()) << result->failure;
    EXPECT_EQ(result->value.text, "OK");
    EXPECT_EQ(admin_command(own_->ports()[2], {"GET", key}).text, "again");

    // With retries used up the last -CLUSTERDOWN comes back as the reply.
    cluster_options few;
    few.retry_delay = 20ms;
    few.max_retries = 2;
    auto d = make_client(seeds_of(own_->ports()), few);
    ASSERT_TRUE(run(*d, {"PING"}).ok());
    // The owner must drop it; the others may not have heard of the ADDSLOTS yet ("already
    // unassigned").
    ASSERT_FALSE(admin_command(own_->ports()[2], {"CLUSTER", "DELSLOTS", slot}).error);
    for (std::size_t i = 0; i < 2; ++i) {
        (void)admin_command(own_->ports()[i], {"CLUSTER", "DELSLOTS", slot});
    }
    auto r = run(*d, {"GET", key});
    ASSERT_TRUE(r.ok()) << r.failure;
    ASSERT_TRUE(r.value.is_error());
    EXPECT_NE(r.value.text.find("CLUSTERDOWN"), std::string::npos) << r.value.text;
}

TEST_F(RedisClusterFailure, StoppedMasterFailsItsSlotsQuicklyWhileOthersWork) {
    auto owners = own_->owner_map();
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < 3; ++i) {
        keys.push_back(key_on_node(owners, i, "crash:"));
        ASSERT_FALSE(keys.back().empty());
    }
    auto c = make_client(seeds_of(own_->ports()));
    for (const auto& k : keys) {
        ASSERT_TRUE(run(*c, {"SET", k, "v"}).ok());
    }
    own_->kill_node(2);
    // Several rounds, across the 2 s node timeout after which the cluster marks the node failed.
    const auto end = std::chrono::steady_clock::now() + 3s;
    int rounds = 0;
    while (std::chrono::steady_clock::now() < end) {
        std::vector<std::optional<command_result>> results(keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i) {
            c->command({"GET", keys[i]}, [&, i](command_result r) { results[i] = std::move(r); });
        }
        const auto begin = std::chrono::steady_clock::now();
        ASSERT_TRUE(run_until(
            context_,
            [&] {
                for (auto& r : results) {
                    if (!r) {
                        return false;
                    }
                }
                return true;
            },
            5s))
            << "a command hung after the master died";
        EXPECT_LT(std::chrono::steady_clock::now() - begin, 2500ms) << "bounded by timeouts";
        for (std::size_t i = 0; i < 2; ++i) {
            ASSERT_TRUE(results[i]->ok()) << "round " << rounds << ": " << results[i]->failure;
            EXPECT_EQ(results[i]->value.text, "v");
        }
        EXPECT_FALSE(results[2]->ok() && !results[2]->value.is_error())
            << "the dead master's slot cannot answer";
        ++rounds;
        run_until(
            context_, [] { return false; }, 100ms);
    }
    EXPECT_GE(rounds, 2);
}

} // namespace
