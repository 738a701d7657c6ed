// File: tests/unit/engine/redis_client_test.cpp
// Integration tests of the Redis connection and subscriber against a real redis-server.
#include "engine/redis/connection.hpp"
#include "engine/redis/subscriber.hpp"
#include "redis_server_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace gyre::engine::redis;
using namespace std::chrono_literals;
using gyre::test::run_until;

address local(std::uint16_t port, std::string password = {}, std::string user = {}) {
    address a;
    a.host = "127.0.0.1";
    a.port = port;
    a.password = std::move(password);
    a.user = std::move(user);
    return a;
}

class RedisClient : public ::testing::Test, protected gyre::test::redis_links {
protected:
    void SetUp() override {
        auto binary = gyre::test::find_on_path("redis-server");
        if (!binary) {
            GTEST_SKIP() << "redis-server not on PATH (scripts/install-deps.sh installs it)";
        }
        binary_ = *binary;
    }

    void start_server(std::vector<std::string> extra = {}) {
        port_ = port_ != 0 ? port_ : gyre::test::free_loopback_port();
        extra_ = std::move(extra);
        ASSERT_TRUE(server_.start(binary_, port_, extra_)) << "redis-server did not start";
    }

    void restart_server() {
        ASSERT_TRUE(server_.start(binary_, port_, extra_)) << "redis-server did not restart";
    }

    void TearDown() override {
        stop_links();
        server_.stop();
    }

    std::string binary_;
    std::uint16_t port_ = 0;
    std::vector<std::string> extra_;
    gyre::test::redis_process server_;
};

TEST_F(RedisClient, SetGetRoundTripAndErrorReplies) {
    start_server();
    auto c = track(connection::create(context_, local(port_)));
    auto set = run_command(*c, {"SET", "greeting", std::string("hi\0there", 8)});
    ASSERT_TRUE(set.ok()) << set.failure;
    EXPECT_EQ(set.value.text, "OK");
    auto get = run_command(*c, {"GET", "greeting"});
    ASSERT_TRUE(get.ok()) << get.failure;
    EXPECT_EQ(get.value.type, reply::kind::bulk);
    EXPECT_EQ(get.value.text, std::string("hi\0there", 8));
    EXPECT_TRUE(run_command(*c, {"GET", "missing"}).value.is_nil());
    auto bad = run_command(*c, {"NOSUCHCOMMAND"});
    ASSERT_TRUE(bad.ok()) << "a Redis error reply is not a transport failure";
    EXPECT_TRUE(bad.value.is_error());
    EXPECT_EQ(c->state(), link_state::connected);
}

TEST_F(RedisClient, TenThousandIncrsLeaveInFewWritesAndReplyInOrder) {
    start_server();
    auto c = track(connection::create(context_, local(port_)));
    ASSERT_TRUE(run_until(
        context_, [&] { return c->state() == link_state::connected; }, 5s));
    const auto writes_before = c->write_count();
    constexpr int count = 10'000;
    std::vector<std::int64_t> seen;
    seen.reserve(count);
    for (int i = 0; i < count; ++i) { // all queued in this one turn
        c->command({"INCR", "counter"},
                   [&](command_result r) { seen.push_back(r.ok() ? r.value.integer : -1); });
    }
    ASSERT_TRUE(run_until(
        context_, [&] { return seen.size() == count; }, 10s));
    for (int i = 0; i < count; ++i) {
        ASSERT_EQ(seen[static_cast<std::size_t>(i)], i + 1) << "callbacks out of order at " << i;
    }
    const auto writes = c->write_count() - writes_before;
    EXPECT_GE(writes, 1u);
    EXPECT_LE(writes, 2u) << "10,000 commands queued in one turn should leave in one write";
}

TEST_F(RedisClient, PublishReachesSubscriberAndSubscribesAreBatched) {
    start_server();
    auto pub = track(connection::create(context_, local(port_)));
    auto sub = track(subscriber::create(context_, local(port_)));
    std::vector<std::pair<std::string, std::string>> messages;
    sub->on_message([&](std::string_view channel, std::string_view data) {
        messages.emplace_back(channel, data);
    });
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->state() == link_state::connected; }, 5s));
    const auto writes_before = sub->write_count();
    std::vector<std::string> channels;
    for (int i = 0; i < 1200; ++i) {
        channels.push_back("ch" + std::to_string(i));
    }
    sub->subscribe(channels); // one turn: 3 SUBSCRIBE commands (512 + 512 + 176) in one write
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->confirmed_count() == 1200; }, 5s));
    EXPECT_EQ(sub->write_count() - writes_before, 1u);

    auto published = run_command(*pub, {"PUBLISH", "ch7", std::string("bin\0ary", 7)});
    ASSERT_TRUE(published.ok()) << published.failure;
    EXPECT_EQ(published.value.integer, 1);
    ASSERT_TRUE(run_until(
        context_, [&] { return messages.size() == 1; }, 5s));
    EXPECT_EQ(messages[0].first, "ch7");
    EXPECT_EQ(messages[0].second, std::string("bin\0ary", 7));

    sub->unsubscribe({"ch7"});
    EXPECT_FALSE(sub->is_subscribed("ch7")); // at once: only a new SUBSCRIBE confirms it
    EXPECT_EQ(sub->confirmed_count(), 1199u);
    std::int64_t receivers = 1;
    for (int i = 0; i < 100 && receivers != 0; ++i) { // until Redis has the UNSUBSCRIBE
        receivers = run_command(*pub, {"PUBLISH", "ch7", "x"}).value.integer;
    }
    EXPECT_EQ(receivers, 0);
}

TEST_F(RedisClient, ResubscribeRightAfterUnsubscribeIsConfirmedOnlyOnceRedisHasIt) {
    // The last subscriber of a channel leaves and a new one arrives at once: the UNSUBSCRIBE
    // and the new SUBSCRIBE both go out, and the newcomer hears "ready" only after the latter.
    start_server();
    auto pub = track(connection::create(context_, local(port_)));
    auto sub = track(subscriber::create(context_, local(port_)));
    std::vector<std::string> messages;
    sub->on_message([&](std::string_view, std::string_view data) { messages.emplace_back(data); });
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->state() == link_state::connected; }, 5s));
    std::optional<bool> first;
    sub->subscribe("room", [&](bool ok) { first = ok; });
    ASSERT_TRUE(run_until(
        context_, [&] { return first.has_value(); }, 5s));
    ASSERT_TRUE(*first);
    for (int round = 0; round < 2; ++round) {
        std::optional<bool> again;
        sub->unsubscribe({"room"});
        if (round == 1) {
            run_until(
                context_, [] { return false; }, 20ms); // this time the UNSUBSCRIBE leaves first
        }
        sub->subscribe("room", [&](bool ok) { again = ok; });
        EXPECT_FALSE(again.has_value());
        ASSERT_TRUE(run_until(
            context_, [&] { return again.has_value(); }, 5s));
        ASSERT_TRUE(*again);
        EXPECT_EQ(run_command(*pub, {"PUBLISH", "room", "hello"}).value.integer, 1) << round;
    }
    ASSERT_TRUE(run_until(
        context_, [&] { return messages.size() == 2; }, 5s));
}

TEST_F(RedisClient, RestartFailsInFlightFastThenReconnectsAndResubscribes) {
    start_server();
    auto c = track(connection::create(context_, local(port_)));
    auto sub = track(subscriber::create(context_, local(port_)));
    std::vector<std::string> messages;
    sub->on_message([&](std::string_view, std::string_view data) { messages.emplace_back(data); });
    sub->subscribe({"news"});
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->is_subscribed("news"); }, 5s));
    ASSERT_TRUE(run_command(*c, {"PING"}).ok());

    // A blocking command is in flight (server side for 3 s) when Redis dies.
    std::vector<command_result> results;
    c->command({"BLPOP", "never", "3"}, [&](command_result r) { results.push_back(r); });
    c->command({"GET", "k"}, [&](command_result r) { results.push_back(r); });
    run_until(
        context_, [] { return false; }, 100ms); // let them leave
    const auto killed_at = std::chrono::steady_clock::now();
    server_.kill_now();
    ASSERT_TRUE(run_until(
        context_, [&] { return results.size() == 2; }, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 1s);
    for (const auto& r : results) {
        EXPECT_FALSE(r.ok());
        EXPECT_NE(r.failure.find("redis 127.0.0.1:"), std::string::npos) << r.failure;
    }
    ASSERT_TRUE(run_until(
        context_, [&] { return c->state() != link_state::connected; }, 2s));

    // While Redis is down new commands fail fast instead of hanging.
    auto down = run_command(*c, {"GET", "k"});
    EXPECT_FALSE(down.ok());

    restart_server();
    ASSERT_TRUE(run_until(
        context_,
        [&] { return c->state() == link_state::connected && sub->is_subscribed("news"); },
        10s));
    EXPECT_GE(c->connect_count(), 2u);
    auto published = run_command(*c, {"PUBLISH", "news", "after-restart"});
    ASSERT_TRUE(published.ok()) << published.failure;
    EXPECT_EQ(published.value.integer, 1);
    ASSERT_TRUE(run_until(
        context_, [&] { return !messages.empty(); }, 5s));
    EXPECT_EQ(messages.back(), "after-restart");
}

TEST_F(RedisClient, NoReplyWithinIoTimeoutFailsTheConnection) {
    start_server();
    auto a = local(port_);
    a.io_timeout = 300ms;
    auto c = track(connection::create(context_, a));
    const auto started = std::chrono::steady_clock::now();
    auto r = run_command(*c, {"BLPOP", "never", "2"}); // the server stays silent for 2 s
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.failure.find("io_timeout"), std::string::npos) << r.failure;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

TEST_F(RedisClient, ConnectionRefusedFailsQueuedCommands) {
    const auto port = gyre::test::free_loopback_port(); // nothing listens there
    auto c = track(connection::create(context_, local(port)));
    auto r = run_command(*c, {"PING"});
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.failure.find("connect failed"), std::string::npos) << r.failure;
}

TEST_F(RedisClient, AuthWithPasswordAndDb) {
    start_server({"--requirepass", "s3cret"});
    auto good_address = local(port_, "s3cret", "default");
    good_address.db = 2;
    auto good = track(connection::create(context_, good_address));
    ASSERT_TRUE(run_command(*good, {"SET", "k", "in-db-2"}).ok());
    auto where = run_command(*good, {"CLIENT", "INFO"});
    ASSERT_TRUE(where.ok());
    EXPECT_NE(where.value.text.find("db=2"), std::string::npos) << where.value.text;

    auto wrong = track(connection::create(context_, local(port_, "wrong")));
    auto r = run_command(*wrong, {"GET", "k"});
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.failure.find("AUTH failed"), std::string::npos) << r.failure;
    EXPECT_NE(r.failure.find("WRONGPASS"), std::string::npos) << r.failure;
    EXPECT_NE(wrong->state(), link_state::connected);

    auto anonymous = track(connection::create(context_, local(port_)));
    auto noauth = run_command(*anonymous, {"GET", "k"});
    ASSERT_TRUE(noauth.ok());
    EXPECT_TRUE(noauth.value.is_error());
    EXPECT_NE(noauth.value.text.find("NOAUTH"), std::string::npos);
}

TEST_F(RedisClient, ClientNameIsSetOnCommandAndSubscriberConnections) {
    start_server();
    auto named = local(port_);
    named.client_name = "gyre-unit";
    auto conn = track(connection::create(context_, named));
    auto info = run_command(*conn, {"CLIENT", "GETNAME"});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info.value.text, "gyre-unit");

    auto sub = track(subscriber::create(context_, named));
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->state() == link_state::connected; }, 5s));
    sub->subscribe({"names"});
    ASSERT_TRUE(run_until(
        context_, [&] { return sub->confirmed_count() == 1; }, 5s));
    auto list = run_command(*conn, {"CLIENT", "LIST"});
    ASSERT_TRUE(list.ok());
    // Both connections carry the name; the subscriber is the one subscribed to a channel.
    EXPECT_NE(list.value.text.find("name=gyre-unit"), std::string::npos) << list.value.text;
    std::size_t named_count = 0;
    for (auto at = list.value.text.find("name=gyre-unit"); at != std::string::npos;
         at = list.value.text.find("name=gyre-unit", at + 1)) {
        ++named_count;
    }
    EXPECT_EQ(named_count, 2U) << list.value.text;
}

} // namespace
