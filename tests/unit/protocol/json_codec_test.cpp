// Expected bytes are the worked examples of protocol.md §2.4 / §2.10 and the emission rules of
// §2.6 (Centrifuge's generated JSON writer).
#include "protocol/client/codes.hpp"
#include "protocol/client/json_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gyre::protocol::client {
namespace {

std::string enc(const reply& r) {
    auto res = json::encode_reply(r);
    EXPECT_TRUE(res.has_value());
    return res ? *res : std::string();
}

std::string enc_push(const push& p, push_form form = push_form::bidirectional) {
    std::string out;
    auto res = json::append_push(out, p, form);
    EXPECT_TRUE(res.has_value());
    return out;
}

std::vector<command> decode_ok(std::string_view frame) {
    auto res = json::decode_commands(frame);
    EXPECT_TRUE(res.has_value()) << frame << ": " << (res ? "" : to_string(res.error()));
    return res ? std::move(*res) : std::vector<command>{};
}

codec_error decode_error(std::string_view frame) {
    auto res = json::decode_commands(frame);
    EXPECT_FALSE(res.has_value()) << frame;
    return res ? codec_error{} : res.error();
}

client_info info(std::string user, std::string client) {
    return client_info{std::move(user), std::move(client), "", ""};
}

// ---- §2.10 worked examples ------------------------------------------------------------------

TEST(JsonDecode, SpecExampleConnectAndSubscribeInOneFrame) {
    const auto cmds = decode_ok(R"({"connect":{"token":"eyJhbGc","name":"js"},"id":1})"
                                "\n"
                                R"({"subscribe":{"channel":"news","flag":1},"id":2})");
    ASSERT_EQ(cmds.size(), 2U);
    EXPECT_EQ(cmds[0].id, 1U);
    ASSERT_EQ(cmds[0].kind(), method::connect);
    EXPECT_EQ(std::get<connect_request>(cmds[0].request).token, "eyJhbGc");
    EXPECT_EQ(std::get<connect_request>(cmds[0].request).name, "js");
    EXPECT_EQ(cmds[1].id, 2U);
    ASSERT_EQ(cmds[1].kind(), method::subscribe);
    EXPECT_EQ(std::get<subscribe_request>(cmds[1].request).channel, "news");
    EXPECT_EQ(std::get<subscribe_request>(cmds[1].request).flag, 1);
}

TEST(JsonDecode, SpecExamplePongPublishHistoryRecover) {
    const auto pong = decode_ok("{}");
    ASSERT_EQ(pong.size(), 1U);
    EXPECT_TRUE(pong[0].is_pong());

    const auto pub = decode_ok(R"({"publish":{"channel":"news","data":{"text":"hi"}},"id":3})");
    ASSERT_EQ(pub.size(), 1U);
    EXPECT_EQ(std::get<publish_request>(pub[0].request).data, R"({"text":"hi"})");

    const auto hist = decode_ok(R"({"history":{"channel":"news","limit":10},"id":4})");
    EXPECT_EQ(std::get<history_request>(hist[0].request).limit, 10);
    EXPECT_FALSE(std::get<history_request>(hist[0].request).since.has_value());

    const auto rec = decode_ok(
        R"({"subscribe":{"channel":"chat:1","recover":true,"offset":5,"epoch":"ab12","flag":1},)"
        R"("id":9})");
    const auto& s = std::get<subscribe_request>(rec[0].request);
    EXPECT_TRUE(s.recover);
    EXPECT_EQ(s.offset, 5U);
    EXPECT_EQ(s.epoch, "ab12");
}

TEST(JsonEncode, SpecExampleReplies) {
    connect_result c;
    c.client = "5c5b";
    c.version = "6.9.1";
    c.ping = 25;
    c.pong = true;
    EXPECT_EQ(enc(reply{1, c}),
              R"({"id":1,"connect":{"client":"5c5b","version":"6.9.1","ping":25,"pong":true}})");
    EXPECT_EQ(enc(reply{2, subscribe_result{}}), R"({"id":2,"subscribe":{}})");
    EXPECT_EQ(enc(reply{}), "{}");
    EXPECT_EQ(json::ping_frame, "{}");
    EXPECT_EQ(enc(reply{4, errors::not_available.to_error()}),
              R"({"id":4,"error":{"code":108,"message":"not available"}})");
    EXPECT_EQ(enc(reply{3, errors::permission_denied.to_error()}),
              R"({"id":3,"error":{"code":103,"message":"permission denied"}})");

    c.session = "9f";
    c.node = "a1";
    EXPECT_EQ(enc(reply{1, c}),
              R"({"id":1,"connect":{"client":"5c5b","version":"6.9.1","ping":25,"pong":true,)"
              R"("session":"9f","node":"a1"}})");
}

TEST(JsonEncode, SpecExamplePublishReplyAndPushInOneFrame) {
    std::string frame;
    ASSERT_TRUE(json::append_reply(frame, reply{3, publish_result{}}).has_value());
    frame.push_back('\n');
    publication pub{.data = R"({"text":"hi"})", .info = info("42", "5c5b")};
    ASSERT_TRUE(
        json::append_publication_push(frame, "news", pub, push_form::bidirectional).has_value());
    EXPECT_EQ(frame,
              R"({"id":3,"publish":{}})"
              "\n"
              R"({"push":{"channel":"news","pub":{"data":{"text":"hi"},"info":{"user":"42",)"
              R"("client":"5c5b"}}}})");
}

TEST(JsonEncode, SpecExampleRecovery) {
    subscribe_result s;
    s.recoverable = true;
    s.epoch = "ab12";
    s.publications = {publication{.data = R"({"n":6})", .offset = 6},
                      publication{.data = R"({"n":7})", .offset = 7}};
    s.recovered = true;
    s.offset = 5;
    s.positioned = true;
    s.was_recovering = true;
    EXPECT_EQ(enc(reply{9, s}),
              R"({"id":9,"subscribe":{"recoverable":true,"epoch":"ab12","publications":[)"
              R"({"data":{"n":6},"offset":6},{"data":{"n":7},"offset":7}],"recovered":true,)"
              R"("offset":5,"positioned":true,"was_recovering":true}})");

    subscribe_result failed;
    failed.recoverable = true;
    failed.epoch = "zz99";
    failed.offset = 42;
    failed.positioned = true;
    failed.was_recovering = true;
    EXPECT_EQ(enc(reply{9, failed}),
              R"({"id":9,"subscribe":{"recoverable":true,"epoch":"zz99","offset":42,)"
              R"("positioned":true,"was_recovering":true}})");
}

// ---- §2.4 push examples ---------------------------------------------------------------------

TEST(JsonEncode, SpecExamplePushes) {
    EXPECT_EQ(enc_push(push{0, "news", publication{.data = R"({"text":"hi"})", .offset = 7}}),
              R"({"push":{"channel":"news","pub":{"data":{"text":"hi"},"offset":7}}})");
    EXPECT_EQ(enc_push(push{0, "chat", join_push{info("42", "c1")}}),
              R"({"push":{"channel":"chat","join":{"info":{"user":"42","client":"c1"}}}})");
    EXPECT_EQ(enc_push(push{0, "chat", leave_push{info("42", "c1")}}),
              R"({"push":{"channel":"chat","leave":{"info":{"user":"42","client":"c1"}}}})");
    EXPECT_EQ(
        enc_push(push{0, "chat", unsubscribe_codes::server.to_push()}),
        R"({"push":{"channel":"chat","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}})");
    EXPECT_EQ(enc_push(push{0, "", message_push{R"({"any":"thing"})"}}),
              R"({"push":{"message":{"data":{"any":"thing"}}}})");
    EXPECT_EQ(
        enc_push(push{0, "#42", subscribe_push{true, "xyz", 3, true, ""}}),
        R"({"push":{"channel":"#42","subscribe":{"recoverable":true,"epoch":"xyz","offset":3,)"
        R"("positioned":true}}})");
    EXPECT_EQ(enc_push(push{0, "", to_push(model::disconnects::shutdown)}),
              R"({"push":{"disconnect":{"code":3001,"reason":"shutdown"}}})");
    EXPECT_EQ(enc_push(push{0, "", refresh_push{true, 10}}),
              R"({"push":{"refresh":{"expires":true,"ttl":10}}})");
    // The same push inside a Reply value.
    EXPECT_EQ(enc(reply{0, push{0, "", to_push(model::disconnects::shutdown)}}),
              R"({"push":{"disconnect":{"code":3001,"reason":"shutdown"}}})");
}

TEST(JsonEncode, UnidirectionalPushesAreBare) {
    connect_push c;
    c.client = "c";
    c.version = "v";
    c.ping = 25;
    c.session = "s";
    EXPECT_EQ(enc_push(push{0, "", c}, push_form::unidirectional),
              R"({"connect":{"client":"c","version":"v","ping":25,"session":"s"}})");
    EXPECT_EQ(enc_push(push{}, push_form::unidirectional), "{}");
    EXPECT_EQ(
        enc_push(push{0, "", to_push(model::disconnects::bad_request)}, push_form::unidirectional),
        R"({"disconnect":{"code":3501,"reason":"bad request"}})");
    publication pub{.data = "1", .offset = 2};
    auto uni = json::encode_publication_push("n", pub, push_form::unidirectional);
    ASSERT_TRUE(uni.has_value());
    EXPECT_EQ(*uni, R"({"channel":"n","pub":{"data":1,"offset":2}})");
    auto bidi = json::encode_publication_push("n", pub, push_form::bidirectional);
    ASSERT_TRUE(bidi.has_value());
    EXPECT_EQ(*bidi, R"({"push":{"channel":"n","pub":{"data":1,"offset":2}}})");
    EXPECT_EQ(*bidi, enc_push(push{0, "n", pub}));
}

// ---- §2.6 emission rules --------------------------------------------------------------------

TEST(JsonEncode, EverySuccessReplyCarriesItsResult) {
    EXPECT_EQ(enc(reply{1, connect_result{}}), R"({"id":1,"connect":{}})");
    EXPECT_EQ(enc(reply{2, subscribe_result{}}), R"({"id":2,"subscribe":{}})");
    EXPECT_EQ(enc(reply{3, unsubscribe_result{}}), R"({"id":3,"unsubscribe":{}})");
    EXPECT_EQ(enc(reply{4, publish_result{}}), R"({"id":4,"publish":{}})");
    EXPECT_EQ(enc(reply{5, presence_result{}}), R"({"id":5,"presence":{"presence":{}}})");
    EXPECT_EQ(enc(reply{6, presence_stats_result{}}),
              R"({"id":6,"presence_stats":{"num_clients":0,"num_users":0}})");
    EXPECT_EQ(enc(reply{7, history_result{}}),
              R"({"id":7,"history":{"publications":[],"epoch":"","offset":0}})");
    EXPECT_EQ(enc(reply{8, rpc_result{}}), R"({"id":8,"rpc":{}})");
    EXPECT_EQ(enc(reply{9, refresh_result{}}), R"({"id":9,"refresh":{}})");
    EXPECT_EQ(enc(reply{10, sub_refresh_result{}}), R"({"id":10,"sub_refresh":{}})");
    EXPECT_EQ(enc(reply{11, ping_result{}}), R"({"id":11,"ping":{}})");
}

TEST(JsonEncode, AlwaysEmittedFields) {
    presence_result p;
    p.presence["c2"] = info("", "c2");
    p.presence["c1"] = client_info{"42", "c1", R"({"a":1})", "[]"};
    EXPECT_EQ(
        enc(reply{5, p}),
        R"({"id":5,"presence":{"presence":{"c1":{"user":"42","client":"c1","conn_info":{"a":1},)"
        R"("chan_info":[]},"c2":{"user":"","client":"c2"}}}})");
    EXPECT_EQ(enc(reply{6, presence_stats_result{3, 2}}),
              R"({"id":6,"presence_stats":{"num_clients":3,"num_users":2}})");
}

TEST(JsonEncode, PublicationFieldOrderAndOmission) {
    publication pub;
    pub.data = R"("x")";
    pub.info = info("u", "c");
    pub.offset = 18446744073709551615ULL;
    pub.tags = {{"b", "2"}, {"a", "1"}};
    pub.delta = true;
    pub.time = -1;
    pub.channel = "ch";
    pub.key = "k";
    pub.removed = true;
    pub.score = -5;
    pub.epoch = "e";
    pub.version = 3;
    EXPECT_EQ(enc_push(push{0, "ch", pub}, push_form::unidirectional),
              R"({"channel":"ch","pub":{"data":"x","info":{"user":"u","client":"c"},)"
              R"("offset":18446744073709551615,"tags":{"a":"1","b":"2"},"delta":true,"time":-1,)"
              R"("channel":"ch","key":"k","removed":true,"score":-5,"epoch":"e","version":3}})");
    EXPECT_EQ(enc_push(push{0, "ch", publication{}}, push_form::unidirectional),
              R"({"channel":"ch","pub":{}})");
}

TEST(JsonEncode, DeltaPublicationCarriesDataAsJsonString) {
    // §7: for a delta subscriber every publication's data is a JSON string.
    std::string data;
    ASSERT_TRUE(json::append_string(data, R"({"score":1})"));
    auto out = json::encode_publication_push(
        "ex", publication{.data = data, .offset = 5}, push_form::bidirectional);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, R"({"push":{"channel":"ex","pub":{"data":"{\"score\":1}","offset":5}}})");
    std::string lossy;
    EXPECT_FALSE(json::append_string(lossy, "\xff"));
    EXPECT_EQ(lossy, R"("\ufffd")");
}

TEST(JsonEncode, StringEscapingMatchesCentrifuge) {
    const std::string channel = std::string("a<b>&\"\\\n\r\t\x01/") + "\xe2\x80\xa8\xe2\x80\xa9" +
                                "\xc3\xa9" + "\xf0\x9f\x98\x80" + "\xff" + "\xed\xa0\x80";
    const std::string got = enc_push(push{0, channel, unsubscribe_push{}});
    EXPECT_EQ(got,
              R"({"push":{"channel":"a\u003cb\u003e\u0026\"\\\n\r\t\u0001/\u2028\u2029)"
              "\xc3\xa9\xf0\x9f\x98\x80"
              R"(\ufffd\ufffd\ufffd\ufffd","unsubscribe":{}}})");
}

// ---- Raw payloads ---------------------------------------------------------------------------

TEST(JsonRaw, PayloadBytesSurviveUnchanged) {
    const std::string payloads[] = {
        R"({"a":1.0,"b":[1e5]})",
        R"({ "spaced" : [ 1 , 2.50 , -0.0 ] , "u":"\u00e9\ud83d\ude00" })",
        R"("just a string")",
        "12345678901234567890123",
        "-1.5E+300",
        "true",
        "[]",
        R"({"nested":{"deep":[{"x":null}]}})",
    };
    for (const auto& p : payloads) {
        const std::string frame = R"({"id":7,"publish":{"channel":"c","data":)" + p + "}}";
        const auto cmds = decode_ok(frame);
        ASSERT_EQ(cmds.size(), 1U);
        const auto& data = std::get<publish_request>(cmds[0].request).data;
        EXPECT_EQ(data, p);
        auto out =
            json::encode_publication_push("c", publication{.data = data}, push_form::bidirectional);
        ASSERT_TRUE(out.has_value());
        EXPECT_EQ(*out, R"({"push":{"channel":"c","pub":{"data":)" + p + "}}}");
    }
}

TEST(JsonRaw, AllPayloadFieldsAreRaw) {
    const auto cmds =
        decode_ok(R"({"id":1,"connect":{"data":{"d":1.0},"subs":{"ch":{"data":[1.0]}}}})"
                  "\n"
                  R"({"id":2,"rpc":{"method":"m","data":{"r":2.0}}})"
                  "\n"
                  R"({"send":{"data":"3.0"}})"
                  "\n"
                  R"({"id":4,"subscribe":{"channel":"x","data":4.0}})");
    ASSERT_EQ(cmds.size(), 4U);
    const auto& conn = std::get<connect_request>(cmds[0].request);
    EXPECT_EQ(conn.data, R"({"d":1.0})");
    EXPECT_EQ(conn.subs.at("ch").data, "[1.0]");
    EXPECT_EQ(std::get<rpc_request>(cmds[1].request).data, R"({"r":2.0})");
    EXPECT_EQ(std::get<send_request>(cmds[2].request).data, R"("3.0")");
    EXPECT_EQ(cmds[2].id, 0U);
    EXPECT_FALSE(cmds[2].is_pong());
    EXPECT_EQ(std::get<subscribe_request>(cmds[3].request).data, "4.0");
}

TEST(JsonRaw, RawNewlinesAreDroppedOnEncode) {
    auto out = json::encode_reply(reply{1, rpc_result{"{\n  \"a\": [1,\n 2]\n}\n"}});
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, "{\"id\":1,\"rpc\":{\"data\":{  \"a\": [1, 2]}}}");
}

TEST(JsonRaw, InvalidPayloadIsAnErrorAndLeavesOutputUntouched) {
    const std::string bad[] = {std::string("\x00\x01\xff", 3),
                               "{",
                               "[1,]",
                               "{\"a\" 1}",
                               "01",
                               "1.",
                               "tru",
                               "\"\xff\"",
                               "{} {}",
                               "\"a\x01\""};
    for (const auto& b : bad) {
        std::string out = "keep";
        auto res = json::append_publication_push(
            out, "c", publication{.data = b}, push_form::bidirectional);
        ASSERT_FALSE(res.has_value()) << b;
        EXPECT_EQ(res.error(), codec_error::invalid_payload);
        EXPECT_EQ(out, "keep");
        auto r = json::append_reply(out, reply{1, rpc_result{b}});
        EXPECT_FALSE(r.has_value());
        EXPECT_EQ(out, "keep");
        EXPECT_FALSE(json::is_valid_json(b)) << b;
    }
    EXPECT_TRUE(json::is_valid_json(" {\"a\":[1,2,{}]} "));
}

// ---- Framing and dispatch -------------------------------------------------------------------

TEST(JsonDecode, FramingRules) {
    EXPECT_EQ(decode_ok("{}\n").size(), 1U); // one trailing newline is tolerated
    EXPECT_EQ(decode_ok("{\"id\":1,\"presence\":{\"channel\":\"a\"}}\n{}\n").size(), 2U);
    EXPECT_EQ(decode_ok(" {} \r").size(), 1U); // JSON whitespace around a command
    EXPECT_EQ(decode_error(""), codec_error::empty_frame);
    EXPECT_EQ(decode_error("\n"), codec_error::empty_frame);
    EXPECT_EQ(decode_error("{}\n\n"), codec_error::empty_frame);
    EXPECT_EQ(decode_error("{}\n\n{}"), codec_error::empty_frame);
    EXPECT_EQ(decode_error("\n{}"), codec_error::empty_frame);
    EXPECT_EQ(decode_error("{}{}"), codec_error::invalid_json);
}

TEST(JsonDecode, DispatchSelection) {
    // id 0 without send: a pong whatever else it carries.
    EXPECT_TRUE(decode_ok(R"({"subscribe":{"channel":"a"}})")[0].is_pong());
    // Deprecated ping with an id: decoded as method::ping, so the session can reject it.
    EXPECT_EQ(decode_ok(R"({"id":5,"ping":{}})")[0].kind(), method::ping);
    // Nothing recognised and an id: method::none (bad request for the session).
    const auto none = decode_ok(R"({"id":5,"unknown":{"x":[1,2]}})");
    EXPECT_EQ(none[0].kind(), method::none);
    EXPECT_FALSE(none[0].is_pong());
    // Several requests: Centrifuge's order (rpc before send, publish before rpc).
    EXPECT_EQ(decode_ok(R"({"id":5,"send":{},"rpc":{}})")[0].kind(), method::rpc);
    EXPECT_EQ(decode_ok(R"({"id":5,"rpc":{},"publish":{}})")[0].kind(), method::publish);
    EXPECT_EQ(decode_ok(R"({"id":5,"ping":{},"refresh":{}})")[0].kind(), method::refresh);
    // send with id 0 is a send.
    EXPECT_EQ(decode_ok(R"({"send":{"data":1}})")[0].kind(), method::send);
}

TEST(JsonDecode, NullMeansAbsentAndUnknownKeysAreSkipped) {
    const auto cmds = decode_ok(
        R"({"id":3,"future":{"a":[1,{"b":null}]},"publish":{"channel":"c","data":null,"x":1},)"
        R"("ping":null})");
    ASSERT_EQ(cmds[0].kind(), method::publish);
    EXPECT_TRUE(std::get<publish_request>(cmds[0].request).data.empty());
    const auto h = decode_ok(R"({"id":4,"history":{"channel":"c","since":null,"limit":null}})");
    EXPECT_FALSE(std::get<history_request>(h[0].request).since.has_value());
    // Escaped keys are matched after unescaping.
    const auto esc = decode_ok(R"({"\u0069d":9,"pres\u0065nce":{"channel":"\u00e9"}})");
    EXPECT_EQ(esc[0].id, 9U);
    EXPECT_EQ(std::get<presence_request>(esc[0].request).channel, "\xc3\xa9");
}

TEST(JsonDecode, EveryRequestKindAndField) {
    const auto cmds = decode_ok(
        R"({"id":1,"connect":{"token":"t","data":{},"subs":{"#1":{"recover":true,"offset":9,)"
        R"("epoch":"e"}},"name":"js","version":"1","headers":{"h":"v"},"flag":1,"dict":"d",)"
        R"("profile":"p"}})"
        "\n"
        R"({"id":2,"subscribe":{"channel":"c","token":"t","recover":true,"epoch":"e",)"
        R"("offset":18446744073709551615,"data":[],"positioned":true,"recoverable":true,)"
        R"("join_leave":true,"delta":"fossil","tf":{"op":"or","nodes":[{"key":"k","cmp":"in",)"
        R"("vals":["a","b"]},{"op":"not","nodes":[{"key":"z","cmp":"ex"}]}]},"flag":3,"type":0,)"
        R"("phase":-1,"cursor":"x","limit":-2147483648,"asc":true}})"
        "\n"
        R"({"id":3,"unsubscribe":{"channel":"c"}})"
        "\n"
        R"({"id":4,"history":{"channel":"c","limit":-1,"since":{"offset":3,"epoch":"e"},)"
        R"("reverse":true}})"
        "\n"
        R"({"id":5,"presence_stats":{"channel":"c"}})"
        "\n"
        R"({"id":6,"refresh":{"token":"t"}})"
        "\n"
        R"({"id":7,"sub_refresh":{"channel":"c","token":"t","type":1,"track":[{"signature":"s",)"
        R"("items":[{"key":"k","version":2}]}],"untrack":["u"]}})"
        "\n"
        R"({"id":4294967295,"publish":{"channel":"c","data":"d","type":1,"key":"k",)"
        R"("removed":true}})");
    ASSERT_EQ(cmds.size(), 8U);
    const auto& conn = std::get<connect_request>(cmds[0].request);
    EXPECT_EQ(conn.subs.at("#1").offset, 9U);
    EXPECT_EQ(conn.headers.at("h"), "v");
    EXPECT_EQ(conn.profile, "p");
    const auto& sub = std::get<subscribe_request>(cmds[1].request);
    EXPECT_EQ(sub.offset, UINT64_MAX);
    EXPECT_EQ(sub.limit, INT32_MIN);
    EXPECT_EQ(sub.phase, -1);
    ASSERT_TRUE(sub.tf.has_value());
    EXPECT_EQ(sub.tf->nodes.at(0).vals, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(sub.tf->nodes.at(1).nodes.at(0).cmp, "ex");
    const auto& hist = std::get<history_request>(cmds[3].request);
    EXPECT_EQ(hist.limit, -1);
    EXPECT_EQ(hist.since->epoch, "e");
    const auto& sr = std::get<sub_refresh_request>(cmds[6].request);
    EXPECT_EQ(sr.track.at(0).items.at(0).version, 2U);
    EXPECT_EQ(sr.untrack, (std::vector<std::string>{"u"}));
    EXPECT_EQ(cmds[7].id, 4294967295U);
    EXPECT_TRUE(std::get<publish_request>(cmds[7].request).removed);
}

// ---- Malformed input ------------------------------------------------------------------------

TEST(JsonDecode, MalformedInputIsAnError) {
    struct bad_case {
        std::string_view text;
        codec_error expected;
    };

    const bad_case cases[] = {
        {R"({"id":1,"subscribe":{"channel":"a"})", codec_error::invalid_json}, // truncated
        {R"({"id":1)", codec_error::invalid_json},
        {R"({"id")", codec_error::invalid_json},
        {R"({)", codec_error::invalid_json},
        {R"([{"id":1}])", codec_error::not_object},
        {R"("{}")", codec_error::not_object},
        {"null", codec_error::not_object},
        {"42", codec_error::not_object},
        {"hello", codec_error::invalid_json},
        {R"({"id":"1"})", codec_error::wrong_type},
        {R"({"id":true})", codec_error::wrong_type},
        {R"({"id":1,"subscribe":"news"})", codec_error::wrong_type},
        {R"({"id":1,"subscribe":{"channel":5}})", codec_error::wrong_type},
        {R"({"id":1,"subscribe":{"channel":"a","recover":"yes"}})", codec_error::wrong_type},
        {R"({"id":1,"connect":{"subs":[]}})", codec_error::wrong_type},
        {R"({"id":1,"connect":{"headers":{"h":1}}})", codec_error::wrong_type},
        {R"({"id":1,"sub_refresh":{"untrack":"u"}})", codec_error::wrong_type},
        {R"({"id":4294967296})", codec_error::out_of_range},
        {R"({"id":-1})", codec_error::out_of_range},
        {R"({"id":1.0})", codec_error::out_of_range},
        {R"({"id":1e2})", codec_error::out_of_range},
        {R"({"id":1,"history":{"limit":2147483648}})", codec_error::out_of_range},
        {R"({"id":1,"subscribe":{"offset":18446744073709551616}})", codec_error::out_of_range},
        {R"({"id":01})", codec_error::invalid_json},
        {R"({"id":1,"publish":{"data":{"a" 1}}})", codec_error::invalid_json},
        {R"({"id":1,"publish":{"data":[1 2]}})", codec_error::invalid_json},
        {R"({"id":1,"publish":{"data":1.2.3}})", codec_error::invalid_json},
        {R"({"id":1,"publish":{"data":nul}})", codec_error::invalid_json},
        {R"({"id":1,"publish":{"data":"\x"}})", codec_error::invalid_json},
        {R"({"id":1,"publish":{"data":"\u12"}})", codec_error::invalid_json},
        {R"({"id":1,"unknown":[1,,2]})", codec_error::invalid_json},
        {R"({"id":1,})", codec_error::invalid_json},
        {R"({"id":1 "x":2})", codec_error::invalid_json},
        {R"({'id':1})", codec_error::invalid_json},
        {"{\"id\":1,\"publish\":{\"channel\":\"a\tb\"}}", codec_error::invalid_json},
        {"{\"id\":1,\"publish\":{\"channel\":\"\xc0\xaf\"}}", codec_error::invalid_json},
        {"{\"id\":1,\"publish\":{\"channel\":\"\xed\xa0\x80\"}}", codec_error::invalid_json},
        {"{\"id\":1,\"publish\":{\"channel\":\"\xf4\x90\x80\x80\"}}", codec_error::invalid_json},
        {"{\"id\":1,\"publish\":{\"channel\":\"\xe2\x82\"}}", codec_error::invalid_json},
    };
    for (const auto& bc : cases) {
        EXPECT_EQ(decode_error(bc.text), bc.expected) << bc.text;
    }
}

TEST(JsonDecode, HostileNestingIsBounded) {
    std::string deep_payload = R"({"id":1,"publish":{"data":)";
    deep_payload += std::string(100000, '[');
    deep_payload += std::string(100000, ']');
    deep_payload += "}}";
    EXPECT_EQ(decode_error(deep_payload), codec_error::too_deep);

    std::string deep_filter = R"({"id":1,"subscribe":{"channel":"c","tf":)";
    for (int i = 0; i < 500; ++i) {
        deep_filter += R"({"nodes":[)";
    }
    deep_filter += "{}";
    for (int i = 0; i < 500; ++i) {
        deep_filter += "]}";
    }
    deep_filter += "}}";
    EXPECT_EQ(decode_error(deep_filter), codec_error::too_deep);

    // 1000 levels are fine for a raw payload (the limit is 1024).
    std::string ok_payload = R"({"id":1,"publish":{"data":)";
    ok_payload += std::string(1000, '[') + std::string(1000, ']') + "}}";
    EXPECT_EQ(decode_ok(ok_payload).size(), 1U);
}

TEST(JsonDecode, MutatedInputNeverCrashes) {
    // Cheap in-process fuzzing (the real fuzzer is fuzz/protocol_json_fuzz.cpp).
    const std::string seeds[] = {
        R"({"connect":{"token":"eyJ","name":"js","subs":{"#1":{"recover":true}}},"id":1})"
        "\n"
        R"({"subscribe":{"channel":"news","flag":1,"tf":{"op":"and","nodes":[{"key":"a"}]}},)"
        R"("id":2})",
        R"({"publish":{"channel":"news","data":{"text":"h\u00e9\"i","n":[1.5e3,-0,true,null]}},)"
        R"("id":3})",
        R"({"history":{"channel":"n","limit":-1,"since":{"offset":1,"epoch":"e"}},"id":4})",
    };
    std::mt19937 rng(2024);
    const std::string alphabet = "{}[]\":,\\ntrufals0123456789.-eE \n\x01\xff\xc3";
    std::size_t decoded = 0;
    for (const auto& seed : seeds) {
        for (int round = 0; round < 3000; ++round) {
            std::string s = seed;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits && !s.empty(); ++e) {
                const std::size_t at = rng() % s.size();
                const char c = alphabet[rng() % alphabet.size()];
                switch (rng() % 3) {
                case 0:
                    s[at] = c;
                    break;
                case 1:
                    s.erase(at, 1 + rng() % 4);
                    break;
                default:
                    s.insert(at, 1, c);
                    break;
                }
            }
            auto res = json::decode_commands(s);
            if (res) {
                ++decoded;
                // Whatever decodes must re-encode to something that decodes the same.
                std::string again;
                bool encodable = true;
                for (const auto& c : *res) {
                    if (!again.empty()) {
                        again.push_back('\n');
                    }
                    encodable = encodable && json::append_command(again, c).has_value();
                }
                if (encodable && !res->empty()) {
                    auto twice = json::decode_commands(again);
                    ASSERT_TRUE(twice.has_value()) << again;
                }
            }
        }
    }
    EXPECT_GT(decoded, 0U);
}

// ---- Other entry points ---------------------------------------------------------------------

TEST(JsonDecode, UnidirectionalConnectRequest) {
    auto empty = json::decode_connect_request("null");
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(*empty, connect_request{});
    auto braces = json::decode_connect_request("{}");
    ASSERT_TRUE(braces.has_value());
    auto full = json::decode_connect_request(
        R"({"token":"t","subs":{"ch":{"recover":true,"offset":3,"epoch":"e"}},"data":{"x":1.0}})");
    ASSERT_TRUE(full.has_value());
    EXPECT_EQ(full->token, "t");
    EXPECT_EQ(full->data, R"({"x":1.0})");
    EXPECT_EQ(full->subs.at("ch").offset, 3U);
    EXPECT_FALSE(json::decode_connect_request("").has_value());
    EXPECT_FALSE(json::decode_connect_request("[]").has_value());
    EXPECT_FALSE(json::decode_connect_request("{").has_value());
}

TEST(JsonDecode, EmulationRequestDataIsUnescaped) {
    auto em = json::decode_emulation_request(
        R"({"session":"9f","node":"a1","data":"{\"subscribe\":{\"channel\":\"news\",\"flag\":1},)"
        R"(\"id\":2}"})");
    ASSERT_TRUE(em.has_value());
    EXPECT_EQ(em->session, "9f");
    EXPECT_EQ(em->node, "a1");
    EXPECT_EQ(em->data, R"({"subscribe":{"channel":"news","flag":1},"id":2})");
    const auto cmds = decode_ok(em->data);
    ASSERT_EQ(cmds.size(), 1U);
    EXPECT_EQ(cmds[0].kind(), method::subscribe);
    EXPECT_FALSE(json::decode_emulation_request(R"({"data":{}})").has_value());
}

// ---- Round trips ----------------------------------------------------------------------------

TEST(JsonRoundTrip, CommandsAndReplies) {
    subscribe_request sub;
    sub.channel = "news";
    sub.recover = true;
    sub.offset = 42;
    sub.epoch = "ep";
    sub.data = R"({"k":[1.0,2e-3]})";
    sub.tf = filter_node{.op = "and", .nodes = {filter_node{.key = "k", .cmp = "eq", .val = "v"}}};
    sub.flag = 1;
    const std::vector<command> cmds = {
        command{1,
                connect_request{.token = "t", .data = "{}", .name = "js", .headers = {{"a", "b"}}}},
        command{2, sub},
        command{3, history_request{"h", 10, stream_position{5, "e"}, true}},
        command{4, rpc_request{R"(["x"])", "m"}},
        command{0, send_request{"1"}},
        command{5, sub_refresh_request{"c", "t", 0, {}, {}}},
        command{},
    };
    std::string frame;
    for (const auto& c : cmds) {
        if (!frame.empty()) {
            frame.push_back('\n');
        }
        ASSERT_TRUE(json::append_command(frame, c).has_value());
    }
    EXPECT_EQ(decode_ok(frame), cmds);

    publication pub{.data = R"({"a":1.0})",
                    .info = client_info{"u", "c", "[1]", "{}"},
                    .offset = 9,
                    .tags = {{"t", "v"}},
                    .time = 12};
    subscribe_result sres;
    sres.recoverable = true;
    sres.epoch = "e";
    sres.publications = {pub};
    sres.offset = 9;
    sres.positioned = true;
    sres.data = "null";
    connect_result cres;
    cres.client = "c";
    cres.subs["ch"] = sres;
    cres.ping = 25;
    cres.pong = true;
    const std::vector<reply> replies = {
        reply{1, cres},
        reply{2, sres},
        reply{3, history_result{{pub, pub}, "e", 9}},
        reply{4, errors::limit_exceeded.to_error()},
        reply{5, presence_result{{{"c", client_info{"u", "c", "", ""}}}}},
        reply{0, push{0, "ch", pub}},
        reply{0, push{0, "ch", leave_push{client_info{"u", "c", "", ""}}}},
        reply{},
    };
    std::string out;
    for (const auto& r : replies) {
        if (!out.empty()) {
            out.push_back('\n');
        }
        ASSERT_TRUE(json::append_reply(out, r).has_value());
    }
    auto back = json::decode_replies(out);
    ASSERT_TRUE(back.has_value());
    // "null" is not kept as a payload: null means absent (§2.6).
    auto expected = replies;
    std::get<connect_result>(expected[0].body).subs["ch"].data.clear();
    std::get<subscribe_result>(expected[1].body).data.clear();
    EXPECT_EQ(*back, expected);

    auto uni = json::decode_push(R"({"channel":"ch","pub":{"data":{"a":1.0},"offset":9}})");
    ASSERT_TRUE(uni.has_value());
    EXPECT_EQ(uni->channel, "ch");
    EXPECT_EQ(std::get<publication>(uni->body).data, R"({"a":1.0})");
}

} // namespace
} // namespace gyre::protocol::client
