#include "core/base64.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/unique_function.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace gyre {
namespace {

TEST(base64, standard_and_url_round_trip) {
    EXPECT_EQ(base64::encode("hello"), "aGVsbG8=");
    EXPECT_EQ(base64::encode_url("\xfb\xff"), "-_8");
    EXPECT_EQ(base64::decode("aGVsbG8="), "hello");
    EXPECT_EQ(base64::decode("aGVsbG8"), "hello");
    EXPECT_EQ(base64::decode_url("-_8"), "\xfb\xff");
    for (const std::string& s :
         std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\1\2", 3)}) {
        EXPECT_EQ(base64::decode(base64::encode(s)), s);
        EXPECT_EQ(base64::decode_url(base64::encode_url(s)), s);
    }
}

TEST(base64, rejects_malformed_input) {
    EXPECT_FALSE(base64::decode("a$bc"));
    EXPECT_FALSE(base64::decode("a"));
    EXPECT_FALSE(base64::decode_url("ab+c")); // '+' is not in the URL alphabet
}

TEST(strings, glob_match_like_centrifugo_origins) {
    EXPECT_TRUE(strings::glob_match("*", "http://anything"));
    EXPECT_TRUE(strings::glob_match("http://*.example.com", "http://a.b.example.com"));
    EXPECT_TRUE(strings::glob_match("HTTP://LOCALHOST:3000", "http://localhost:3000"));
    EXPECT_FALSE(strings::glob_match("http://*.example.com", "http://example.org"));
    EXPECT_FALSE(strings::glob_match("http://localhost:3000", "http://localhost:30001"));
}

TEST(strings, query_param_decodes_and_tells_absent_from_empty) {
    EXPECT_EQ(strings::query_param("cf_connect=%7B%22a%22%3A1%7D&x=1", "cf_connect"), R"({"a":1})");
    EXPECT_EQ(strings::query_param("a=b+c", "a"), "b c");
    EXPECT_EQ(strings::query_param("flag&x=1", "flag"), "");
    EXPECT_EQ(strings::query_param("x=1", "cf_connect"), std::nullopt);
    EXPECT_EQ(strings::query_param("", "x"), std::nullopt);
    EXPECT_EQ(strings::percent_decode("%zz%4"), "%zz%4") << "broken escapes stay as they are";
}

TEST(strings, constant_time_equal) {
    EXPECT_TRUE(strings::constant_time_equal("secret", "secret"));
    EXPECT_FALSE(strings::constant_time_equal("secret", "secreT"));
    EXPECT_FALSE(strings::constant_time_equal("secret", "secret1"));
    EXPECT_FALSE(strings::constant_time_equal("", "x"));
    EXPECT_TRUE(strings::constant_time_equal("", ""));
}

TEST(strings, split_helpers) {
    EXPECT_EQ(strings::split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
    EXPECT_EQ(strings::split_whitespace("  a \t b\nc "), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(unique_function, holds_move_only_state) {
    auto p = std::make_unique<int>(41);
    unique_function<int(int)> f([p = std::move(p)](int x) { return *p + x; });
    unique_function<int(int)> g = std::move(f);
    EXPECT_EQ(g(1), 42);
}

std::vector<std::string>& captured() {
    static std::vector<std::string> lines;
    return lines;
}

TEST(log, level_filter_and_formatting) {
    log::set_sink([](log::level, std::string_view line) { captured().emplace_back(line); });
    log::set_level(log::level::warn);
    GYRE_LOG_INFO("hidden n={}", 1);
    GYRE_LOG_WARN("shown n={}", 2);
    log::set_level(log::level::info);
    log::set_sink(nullptr);
    ASSERT_EQ(captured().size(), 1U);
    EXPECT_EQ(captured()[0], "shown n=2");
    log::level l{};
    EXPECT_TRUE(log::parse_level("debug", l));
    EXPECT_EQ(l, log::level::debug);
    EXPECT_FALSE(log::parse_level("loud", l));
}

} // namespace
} // namespace gyre

#include "core/glob.hpp"
#include "core/uuid.hpp"

namespace gyre {
namespace {

TEST(Glob, GobwasSyntax) {
    EXPECT_TRUE(glob::match("*", "anything:at/all"));
    EXPECT_TRUE(glob::match("", ""));
    EXPECT_FALSE(glob::match("", "a"));
    EXPECT_TRUE(glob::match("chat:*", "chat:room1"));
    EXPECT_FALSE(glob::match("chat:*", "news:room1"));
    EXPECT_TRUE(glob::match("room?", "room1"));
    EXPECT_FALSE(glob::match("room?", "room12"));
    EXPECT_TRUE(glob::match("r[a-c]t", "rbt"));
    EXPECT_FALSE(glob::match("r[!a-c]t", "rbt"));
    EXPECT_TRUE(glob::match("{chat,news}:*", "news:1"));
    EXPECT_FALSE(glob::match("{chat,news}:*", "sport:1"));
    EXPECT_TRUE(glob::match("a{b,c{d,e}}f", "acef"));
    EXPECT_TRUE(glob::match("a\\*b", "a*b"));
    EXPECT_FALSE(glob::match("a\\*b", "axb"));
    EXPECT_FALSE(glob::match("Chat", "chat")); // case-sensitive
    EXPECT_TRUE(glob::match("*a*b*", "xxaxxbxx"));
}

TEST(Glob, MalformedPatterns) {
    EXPECT_FALSE(glob::valid("[abc"));
    EXPECT_FALSE(glob::valid("{a,b"));
    EXPECT_FALSE(glob::valid("a\\"));
    EXPECT_FALSE(glob::valid("[]"));
    EXPECT_FALSE(glob::match("[abc", "a"));
    EXPECT_TRUE(glob::valid("a*b?[xy]{c,d}"));
}

TEST(Uuid, Version4Format) {
    const auto a = random_uuid();
    const auto b = random_uuid();
    ASSERT_EQ(a.size(), 36U);
    EXPECT_EQ(a[8], '-');
    EXPECT_EQ(a[14], '4');
    EXPECT_NE(a, b);
}

} // namespace
} // namespace gyre
