// node/control: user commands as they travel between nodes over the broker's control channel.
#include "node/control.hpp"

#include <gtest/gtest.h>

namespace gyre::node {
namespace {

TEST(control, every_user_command_survives_the_trip) {
    user_command sub;
    sub.user = "42";
    sub.client = "c1";
    sub.whitelist = {"keep-me"};
    subscribe_action s;
    s.channel = "news";
    s.chan_info = R"({"role":"reader"})";
    s.data = R"({"hello":1.0})";
    s.expire_at = 1700000000;
    s.override_options.presence = true;
    s.override_options.force_recovery = false;
    s.recover_since = protocol::client::stream_position{7, "abcdefgh"};
    sub.action = s;
    const auto back = decode_user_command(encode_user_command(sub));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->user, "42");
    EXPECT_EQ(back->client, "c1");
    EXPECT_EQ(back->whitelist, std::vector<std::string>{"keep-me"});
    const auto& bs = std::get<subscribe_action>(back->action);
    EXPECT_EQ(bs.channel, "news");
    EXPECT_EQ(bs.data, R"({"hello":1.0})"); // raw bytes, not re-serialised
    EXPECT_EQ(bs.chan_info, s.chan_info);
    EXPECT_EQ(bs.expire_at, 1700000000);
    EXPECT_EQ(bs.override_options.presence, std::optional<bool>(true));
    EXPECT_EQ(bs.override_options.force_recovery, std::optional<bool>(false));
    EXPECT_FALSE(bs.override_options.join_leave.has_value());
    ASSERT_TRUE(bs.recover_since.has_value());
    EXPECT_EQ(bs.recover_since->offset, 7U);

    user_command dis;
    dis.user = "u";
    dis.action = disconnect_action{4501, "bye"};
    const auto d = decode_user_command(encode_user_command(dis));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(std::get<disconnect_action>(d->action).code, 4501U);
    EXPECT_EQ(std::get<disconnect_action>(d->action).reason, "bye");

    user_command ref;
    ref.action = refresh_action{true, 0, ""};
    EXPECT_TRUE(
        std::get<refresh_action>(decode_user_command(encode_user_command(ref))->action).expired);

    user_command un;
    un.action = unsubscribe_action{"news"};
    EXPECT_EQ(
        std::get<unsubscribe_action>(decode_user_command(encode_user_command(un))->action).channel,
        "news");
}

TEST(control, garbage_is_refused) {
    EXPECT_FALSE(decode_user_command("not json").has_value());
    EXPECT_FALSE(decode_user_command(R"({"user":"u"})").has_value());
    EXPECT_FALSE(decode_user_command(R"({"action":{"type":"explode"}})").has_value());
}

} // namespace
} // namespace gyre::node

namespace gyre::node {
namespace {

TEST(control, node_info_survives_the_trip) {
    peer_info p;
    p.uid = "u-1";
    p.name = "node-b";
    p.version = "0.1.0";
    p.stats = {3, 2, 5, 7};
    p.uptime = 42;
    const auto back = decode_peer_info(encode_peer_info(p));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->uid, "u-1");
    EXPECT_EQ(back->name, "node-b");
    EXPECT_EQ(back->stats.num_clients, 3U);
    EXPECT_EQ(back->stats.num_subs, 7U);
    EXPECT_EQ(back->uptime, 42U);
    EXPECT_FALSE(decode_peer_info(R"({"name":"no uid"})").has_value());
}

} // namespace
} // namespace gyre::node
