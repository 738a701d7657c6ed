#include "proxy/http_proxy.hpp"

#include <gtest/gtest.h>

namespace gyre::proxy {
namespace {

client_context context() {
    client_context c;
    c.client = "c1";
    c.transport = "websocket";
    c.protocol = "json";
    c.encoding = "json";
    c.user = "u\"1";
    return c;
}

TEST(http_proxy, request_bodies_embed_raw_json_and_omit_empty_fields) {
    EXPECT_EQ(
        encode_http_request(context(), connect_request{"js", "5.0", R"({"a":1.0})", {"x"}}, false),
        R"({"client":"c1","transport":"websocket","protocol":"json","encoding":"json",)"
        R"("name":"js","version":"5.0","data":{"a":1.0},"channels":["x"]})")
        << "payload bytes kept exactly (1.0 stays 1.0); connect has no user";
    auto ctx = context();
    ctx.meta = R"({"tenant":7})";
    EXPECT_EQ(encode_http_request(ctx, publish_request{"ch", "[1]"}, false),
              R"({"client":"c1","transport":"websocket","protocol":"json","encoding":"json",)"
              R"("user":"u\"1","meta":{"tenant":7},"channel":"ch","data":[1]})");
    EXPECT_EQ(encode_http_request(context(), rpc_request{"m", "\x01\x02"}, true),
              R"({"client":"c1","transport":"websocket","protocol":"json","encoding":"json",)"
              R"("user":"u\"1","method":"m","b64data":"AQI="})")
        << "binary_encoding sends base64";
    EXPECT_EQ(encode_http_request(context(), refresh_request{}, false),
              R"({"client":"c1","transport":"websocket","protocol":"json","encoding":"json",)"
              R"("user":"u\"1"})")
        << "user is always sent, even when empty in Centrifugo";
}

TEST(http_proxy, answers_become_results_errors_and_disconnects) {
    const request connect = connect_request{};
    auto r = decode_http_response(connect,
                                  R"({"result":{"user":"42","expire_at":99,"info":{"x": 1.50},
                                      "data":"hi","channels":["a"],"subs":{"b":{"data":{"d":1}}},
                                      "meta":{"m":true}}})",
                                  false);
    const auto& c = std::get<connect_result>(std::get<result>(r));
    EXPECT_EQ(c.user, "42");
    EXPECT_EQ(c.expire_at, 99);
    EXPECT_EQ(c.info, R"({"x": 1.50})") << "raw bytes, never re-serialised";
    EXPECT_EQ(c.data, R"("hi")");
    EXPECT_EQ(c.channels, std::vector<std::string>{"a"});
    ASSERT_TRUE(c.subs.contains("b"));
    EXPECT_EQ(c.subs.at("b").data, R"({"d":1})");
    EXPECT_EQ(c.meta, R"({"m":true})");

    const request publish = publish_request{};
    const auto published = decode_http_response(publish, R"({"result":{"b64data":"e30="}})", false);
    const auto& p = std::get<publish_result>(std::get<result>(published));
    EXPECT_EQ(p.data, "{}");
    EXPECT_FALSE(
        std::get<publish_result>(std::get<result>(decode_http_response(publish, "{}", false)))
            .data.has_value())
        << "no result: the client's data stays";

    const auto e = std::get<error>(decode_http_response(
        publish, R"({"error":{"code":1001,"message":"no","temporary":true}})", false));
    EXPECT_EQ(e.code, 1001U);
    EXPECT_EQ(e.message, "no");
    EXPECT_TRUE(e.temporary);
    const auto d = std::get<disconnect>(decode_http_response(
        publish, R"({"error":{"code":1},"disconnect":{"code":4501,"reason":"bye"}})", false));
    EXPECT_EQ(d.code, 4501U) << "a disconnect wins over an error";
    EXPECT_EQ(d.reason, "bye");
    EXPECT_TRUE(std::holds_alternative<failure>(decode_http_response(publish, "not json", false)));
    EXPECT_TRUE(std::holds_alternative<failure>(decode_http_response(connect, "{}", false)))
        << "a connect answer without a result grants nothing";
    const auto refreshed = decode_http_response(refresh_request{}, "{}", false);
    EXPECT_TRUE(std::get<refresh_result>(std::get<result>(refreshed)).expired);
    EXPECT_TRUE(std::holds_alternative<failure>(decode_http_response(publish, "[1]", false)));

    const request sub = subscribe_request{};
    const auto subscribed = decode_http_response(
        sub, R"({"result":{"override":{"presence":{"value":true}},"expire_at":5}})", false);
    const auto& s = std::get<subscribe_result>(std::get<result>(subscribed));
    EXPECT_EQ(s.override_options.presence, true);
    EXPECT_EQ(s.expire_at, 5);
}

} // namespace
} // namespace gyre::proxy
