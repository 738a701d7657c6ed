// Channel naming rules (session/channel_rules.hpp) over configs built the way config::load
// builds them: the default tree, a JSON fragment merged with merge_checked, bind_and_validate.
#include "config_fixture.hpp"
#include "session/channel_rules.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace gyre::session {
namespace {

using test_support::make_config;

/// Three namespaces: plain, regex-restricted, user-limited; channels up to 24 bytes.
const config::config& rules_config() {
    static const config::config cfg = make_config(R"({"channel":{
        "max_length": 24,
        "without_namespace": {"presence": true},
        "namespaces": [
            {"name": "chat", "history_size": 10, "history_ttl": "60s"},
            {"name": "strict", "channel_regex": "^[a-z0-9_]+$"},
            {"name": "dialog", "allow_user_limited_channels": true}
        ]}})");
    return cfg;
}

TEST(channel_rules, namespace_of_takes_the_part_before_the_boundary) {
    const auto& cfg = rules_config();
    EXPECT_EQ(namespace_of(cfg, "news"), "");
    EXPECT_EQ(namespace_of(cfg, "chat:room"), "chat");
    EXPECT_EQ(namespace_of(cfg, "chat:room:sub"), "chat"); // only the first boundary counts
    EXPECT_EQ(namespace_of(cfg, "$chat:room"), "chat");    // private prefix stripped first
    EXPECT_EQ(namespace_of(cfg, ":room"), "");
    EXPECT_EQ(namespace_of(cfg, "unknown:x"), "unknown");
}

TEST(channel_rules, options_come_from_the_namespace) {
    const auto& cfg = rules_config();
    const auto* top = channel_options_for(cfg, "news");
    ASSERT_NE(top, nullptr);
    EXPECT_EQ(top, &cfg.channel.without_namespace);
    EXPECT_TRUE(top->presence);

    const auto* chat = channel_options_for(cfg, "chat:room");
    ASSERT_NE(chat, nullptr);
    EXPECT_EQ(chat, cfg.find_namespace("chat"));
    EXPECT_EQ(chat->history_size, 10);
    EXPECT_FALSE(chat->presence);

    EXPECT_EQ(channel_options_for(cfg, "dialog:a#1,2"), cfg.find_namespace("dialog"));
}

TEST(channel_rules, unknown_namespace_has_no_options) {
    const auto& cfg = rules_config();
    EXPECT_EQ(channel_options_for(cfg, "unknown:room"), nullptr);
    EXPECT_EQ(channel_options_for(cfg, "$unknown:room"), nullptr);
    EXPECT_EQ(channel_options_for(cfg, "Chat:room"), nullptr); // names are case-sensitive
}

TEST(channel_rules, private_prefix_is_stripped_before_the_namespace_lookup) {
    const auto& cfg = rules_config();
    EXPECT_EQ(channel_options_for(cfg, "$chat:x"), cfg.find_namespace("chat"));
    EXPECT_EQ(channel_options_for(cfg, "$news"), &cfg.channel.without_namespace);
    // Only one leading prefix is stripped: "$$chat" has namespace "$chat", which is unknown.
    EXPECT_EQ(channel_options_for(cfg, "$$chat:x"), nullptr);
}

TEST(channel_rules, private_channels_start_with_the_prefix) {
    const auto& cfg = rules_config();
    EXPECT_TRUE(is_private_channel(cfg, "$chat:x"));
    EXPECT_TRUE(is_private_channel(cfg, "$news"));
    EXPECT_FALSE(is_private_channel(cfg, "chat:$x"));
    EXPECT_FALSE(is_private_channel(cfg, "news"));
    EXPECT_FALSE(is_private_channel(cfg, ""));
}

TEST(channel_rules, empty_private_prefix_disables_private_channels) {
    const auto cfg = make_config(R"({"channel":{"private_prefix":""}})");
    EXPECT_FALSE(is_private_channel(cfg, "$news"));
    EXPECT_EQ(namespace_of(cfg, "$chat:x"), "$chat");
}

TEST(channel_rules, max_length_is_inclusive) {
    const auto& cfg = rules_config();
    const auto& opts = cfg.channel.without_namespace;
    EXPECT_TRUE(is_valid_channel_name(cfg, opts, std::string(24, 'a')));
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, std::string(25, 'a')));
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, ""));
    // The private prefix and the namespace count towards the length.
    EXPECT_TRUE(is_valid_channel_name(cfg, opts, "$" + std::string(23, 'a')));
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, "$" + std::string(24, 'a')));
}

TEST(channel_rules, default_max_length_is_255) {
    const auto cfg = make_config("{}");
    const auto& opts = cfg.channel.without_namespace;
    EXPECT_TRUE(is_valid_channel_name(cfg, opts, std::string(255, 'c')));
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, std::string(256, 'c')));
}

TEST(channel_rules, non_ascii_names_are_invalid) {
    const auto& cfg = rules_config();
    const auto& opts = cfg.channel.without_namespace;
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, "caf\xc3\xa9"));    // UTF-8 e-acute
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, "\xff"));           // not UTF-8 at all
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, "news\x80"));       // lone continuation
    EXPECT_TRUE(is_valid_channel_name(cfg, opts, "news~!@%^&*()=+")); // any ASCII is fine
    EXPECT_TRUE(is_valid_channel_name(cfg, opts, std::string("a\x7f", 2)));
}

TEST(channel_rules, channel_regex_applies_to_the_part_after_the_namespace) {
    const auto& cfg = rules_config();
    const auto* strict = cfg.find_namespace("strict");
    ASSERT_NE(strict, nullptr);
    ASSERT_EQ(strict->channel_regex, "^[a-z0-9_]+$");
    // "^" anchors at the start of "room_1", not at the start of "strict:room_1".
    EXPECT_TRUE(is_valid_channel_name(cfg, *strict, "strict:room_1"));
    EXPECT_TRUE(is_valid_channel_name(cfg, *strict, "$strict:room_1"));
    EXPECT_FALSE(is_valid_channel_name(cfg, *strict, "strict:Room"));
    EXPECT_FALSE(is_valid_channel_name(cfg, *strict, "strict:room-1"));
    EXPECT_FALSE(is_valid_channel_name(cfg, *strict, "strict:"));
    EXPECT_FALSE(is_valid_channel_name(cfg, *strict, "$strict:a:b")); // ':' is in the rest
    // Namespaces without a regex accept the same names.
    const auto* chat = cfg.find_namespace("chat");
    ASSERT_NE(chat, nullptr);
    EXPECT_TRUE(is_valid_channel_name(cfg, *chat, "chat:Room-1"));
}

TEST(channel_rules, channel_regex_without_namespace_sees_the_whole_name) {
    const auto cfg =
        make_config(R"({"channel":{"without_namespace":{"channel_regex":"^[a-z]+$"}}})");
    const auto& opts = cfg.channel.without_namespace;
    EXPECT_TRUE(is_valid_channel_name(cfg, opts, "news"));
    EXPECT_TRUE(is_valid_channel_name(cfg, opts, "$news")); // private prefix stripped
    EXPECT_FALSE(is_valid_channel_name(cfg, opts, "news1"));
    // Go's MatchString searches: an unanchored regex matches anywhere in the name.
    const auto search =
        make_config(R"({"channel":{"without_namespace":{"channel_regex":"[0-9]"}}})");
    EXPECT_TRUE(is_valid_channel_name(search, search.channel.without_namespace, "abc1def"));
    EXPECT_FALSE(is_valid_channel_name(search, search.channel.without_namespace, "abcdef"));
}

TEST(channel_rules, user_limited_channels_list_users_after_the_boundary) {
    const auto& cfg = rules_config();
    EXPECT_TRUE(is_user_limited(cfg, "dialog:a#1,2"));
    EXPECT_TRUE(is_user_limited(cfg, "news#42"));
    EXPECT_FALSE(is_user_limited(cfg, "dialog:a"));
    EXPECT_FALSE(is_user_limited(cfg, "news"));

    EXPECT_TRUE(user_allowed_in_channel(cfg, "dialog:a#1,2", "1"));
    EXPECT_TRUE(user_allowed_in_channel(cfg, "dialog:a#1,2", "2"));
    EXPECT_FALSE(user_allowed_in_channel(cfg, "dialog:a#1,2", "3"));
    EXPECT_FALSE(user_allowed_in_channel(cfg, "dialog:a#12,2", "1")); // whole names only
    EXPECT_FALSE(user_allowed_in_channel(cfg, "dialog:a#1,2", "1,2"));
    EXPECT_TRUE(user_allowed_in_channel(cfg, "news#42", "42"));
    EXPECT_TRUE(user_allowed_in_channel(cfg, "$dialog:a#42", "42"));
}

TEST(channel_rules, user_limited_channel_edge_cases) {
    const auto& cfg = rules_config();
    EXPECT_FALSE(user_allowed_in_channel(cfg, "news", "42"));   // not user-limited at all
    EXPECT_FALSE(user_allowed_in_channel(cfg, "news#42", ""));  // anonymous never listed
    EXPECT_FALSE(user_allowed_in_channel(cfg, "news#", ""));    // empty list, anonymous
    EXPECT_FALSE(user_allowed_in_channel(cfg, "news#,42", "")); // empty entry, anonymous
    // Users follow the last boundary, as in Centrifugo (parts[len(parts)-1]).
    EXPECT_TRUE(user_allowed_in_channel(cfg, "news#a#b,c", "b"));
    EXPECT_TRUE(user_allowed_in_channel(cfg, "news#a#b,c", "c"));
    EXPECT_FALSE(user_allowed_in_channel(cfg, "news#a#b,c", "a"));
}

TEST(channel_rules, custom_boundaries_and_separators) {
    const auto cfg = make_config(R"({"channel":{
        "private_prefix": "priv_", "namespace_boundary": "::", "user_boundary": "@",
        "user_separator": ";", "namespaces": [{"name": "chat"}]}})");
    EXPECT_EQ(namespace_of(cfg, "chat::room"), "chat");
    EXPECT_EQ(namespace_of(cfg, "chat:room"), "");
    EXPECT_EQ(namespace_of(cfg, "priv_chat::room"), "chat");
    EXPECT_EQ(channel_options_for(cfg, "priv_chat::room"), cfg.find_namespace("chat"));
    EXPECT_TRUE(is_private_channel(cfg, "priv_chat::room"));
    EXPECT_FALSE(is_private_channel(cfg, "$chat::room"));
    EXPECT_TRUE(is_user_limited(cfg, "chat::d@1;2"));
    EXPECT_FALSE(is_user_limited(cfg, "chat::d#1"));
    EXPECT_TRUE(user_allowed_in_channel(cfg, "chat::d@1;2", "2"));
    EXPECT_FALSE(user_allowed_in_channel(cfg, "chat::d@1,2", "2"));
}

} // namespace
} // namespace gyre::session
