// Which channels of a connect request's `subs` a client gets (session/connect_channels.hpp),
// over configs built the way config::load builds them.
#include "config_fixture.hpp"
#include "session/connect_channels.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace gyre::session {
namespace {

namespace pc = protocol::client;

using test_support::make_config;

const config::config& open_config() {
    static const config::config cfg = make_config(R"({"channel":{
        "without_namespace": {"allow_subscribe_for_client": true},
        "namespaces": [
            {"name": "closed"},
            {"name": "anon", "allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true},
            {"name": "strict", "allow_subscribe_for_client": true, "channel_regex": "^[a-z]+$"},
            {"name": "dialog", "allow_user_limited_channels": true, "allow_subscribe_for_client": true},
            {"name": "proxied", "allow_subscribe_for_client": true, "subscribe_proxy_enabled": true}
        ]}})");
    return cfg;
}

std::map<std::string, pc::subscribe_request> subs(std::initializer_list<const char*> channels) {
    std::map<std::string, pc::subscribe_request> out;
    for (const char* ch : channels) {
        out[ch] = pc::subscribe_request{};
    }
    return out;
}

std::vector<std::string> granted(const config::config& cfg,
                                 std::initializer_list<const char*> channels,
                                 std::string_view user) {
    const auto r = grant_connect_channels(cfg, subs(channels), user);
    EXPECT_FALSE(r.unknown_namespace);
    return r.granted;
}

using names = std::vector<std::string>;

TEST(connect_channels, only_channels_the_client_may_subscribe_to_itself) {
    const auto& cfg = open_config();
    EXPECT_EQ(
        granted(cfg, {"news", "closed:x", "$news", "proxied:x", "strict:ok", "strict:NO1"}, "u1"),
        (names{"news", "strict:ok"}));
}

TEST(connect_channels, anonymous_clients_need_allow_subscribe_for_anonymous) {
    const auto& cfg = open_config();
    EXPECT_EQ(granted(cfg, {"news", "anon:x"}, ""), (names{"anon:x"}));
}

TEST(connect_channels, user_limited_channels_need_the_user_listed) {
    const auto& cfg = open_config();
    EXPECT_EQ(granted(cfg, {"dialog:a#u1,u2", "dialog:b#u2", "dialog:plain"}, "u1"),
              (names{"dialog:a#u1,u2", "dialog:plain"}));
    EXPECT_EQ(granted(cfg, {"dialog:a#u1,u2"}, ""), names{});
}

TEST(connect_channels, insecure_grants_any_known_channel) {
    const auto cfg = make_config(R"({"client": {"insecure": true},
        "channel": {"namespaces": [{"name": "closed"}]}})");
    EXPECT_EQ(granted(cfg, {"news", "closed:x"}, ""), (names{"closed:x", "news"}));
}

TEST(connect_channels, an_unknown_namespace_refuses_the_connect) {
    const auto r = grant_connect_channels(open_config(), subs({"news", "nosuch:x"}), "u1");
    EXPECT_TRUE(r.unknown_namespace);
    EXPECT_TRUE(r.granted.empty());
}

} // namespace
} // namespace gyre::session
