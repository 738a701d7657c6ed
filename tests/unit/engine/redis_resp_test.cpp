// File: tests/unit/engine/redis_resp_test.cpp
#include "engine/redis/resp.hpp"

#include <gtest/gtest.h>

using namespace gyre::engine::redis;

TEST(RedisResp, EncodesCommandAsBulkArray) {
    std::string out;
    append_command(out, {"SET", "key", ""});
    EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n");
    out.clear();
    append_command(out, {"PUBLISH", "ch", std::string("a\0\r\nb", 5)});
    const char expected[] = "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\na\0\r\nb\r\n";
    EXPECT_EQ(out, std::string(expected, sizeof expected - 1));
}

TEST(RedisResp, ParsesEveryReplyKindAcrossSplitReads) {
    const std::string wire = "+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhe\r\no\r\n$-1\r\n"
                             "*3\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n";
    reply_parser parser;
    std::vector<reply> got;
    for (char c : wire) { // one byte at a time: replies must survive any split
        ASSERT_TRUE(parser.feed(std::string_view(&c, 1)));
        while (auto r = parser.next()) {
            got.push_back(std::move(*r));
        }
    }
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got[0].type, reply::kind::status);
    EXPECT_EQ(got[0].text, "OK");
    EXPECT_TRUE(got[1].is_error());
    EXPECT_EQ(got[1].text, "ERR bad");
    EXPECT_EQ(got[2].integer, 42);
    EXPECT_EQ(got[3].type, reply::kind::bulk);
    EXPECT_EQ(got[3].text, "he\r\no");
    EXPECT_TRUE(got[4].is_nil());
    ASSERT_EQ(got[5].elements.size(), 3u);
    EXPECT_EQ(got[5].elements[1].elements[0].text, "x");
    EXPECT_TRUE(got[5].elements[2].is_nil());
}

TEST(RedisResp, ReportsProtocolErrors) {
    reply_parser parser;
    ASSERT_TRUE(parser.feed("?garbage\r\n"));
    EXPECT_FALSE(parser.next().has_value());
    EXPECT_FALSE(parser.error().empty());
}
