// The server API's JSON format: request decoding (Go's rules: case-insensitive keys, null as
// zero, wrong types fail), the legacy command stream, and reply shapes byte for byte.
#include "api/json.hpp"

#include <gtest/gtest.h>

namespace gyre::api {
namespace {

template <class T>
const T& body_of(const request& q) {
    return std::get<T>(q.body);
}

std::string encode(const reply& r) {
    std::string out;
    EXPECT_TRUE(json::append_reply(out, r));
    return out;
}

TEST(ApiJson, PublishKeepsDataBytesExactly) {
    const auto q = json::decode_request(
        method::publish,
        R"({"channel":"chat","data":{"a":1.0, "b":"<x>"},"tags":{"k":"v"},"skip_history":true,)"
        R"("idempotency_key":"id1","unknown":[1,{"x":null}]})");
    ASSERT_TRUE(q);
    const auto& p = body_of<publish_request>(*q);
    EXPECT_EQ(p.channel, "chat");
    EXPECT_EQ(p.pub.data, R"({"a":1.0, "b":"<x>"})");
    EXPECT_EQ(p.pub.tags.at("k"), "v");
    EXPECT_TRUE(p.pub.skip_history);
    EXPECT_EQ(p.pub.idempotency_key, "id1");
}

TEST(ApiJson, KeysMatchCaseInsensitivelyAndNullMeansZero) {
    const auto q =
        json::decode_request(method::publish, R"({"Channel":"c","DATA":"x","tags":null})");
    ASSERT_TRUE(q);
    EXPECT_EQ(body_of<publish_request>(*q).channel, "c");
    EXPECT_EQ(body_of<publish_request>(*q).pub.data, R"("x")");
    const auto n = json::decode_request(method::publish, "null");
    ASSERT_TRUE(n);
    EXPECT_TRUE(body_of<publish_request>(*n).channel.empty());
}

TEST(ApiJson, WrongTypesAndBadJsonFailTheBody) {
    EXPECT_FALSE(json::decode_request(method::publish, R"({"channel":5})"));
    EXPECT_FALSE(json::decode_request(method::publish, R"({"channel":"a")"));
    EXPECT_FALSE(json::decode_request(method::publish, ""));
    EXPECT_FALSE(json::decode_request(method::publish, "[]"));
    EXPECT_FALSE(json::decode_request(method::publish, R"({"channel":"a"} x)"));
    EXPECT_FALSE(json::decode_request(method::history, R"({"channel":"a","limit":1.5})"));
    EXPECT_FALSE(json::decode_request(method::broadcast, R"({"channels":"a"})"));
}

TEST(ApiJson, SubscribeOverridesAndPositions) {
    const auto q = json::decode_request(
        method::subscribe,
        R"({"user":"u","channel":"c","info":{"i":1},"override":{"presence":{"value":false},)"
        R"("join_leave":{"value":true}},"recover_since":{"offset":5,"epoch":"e"},"expire_at":9})");
    ASSERT_TRUE(q);
    const auto& s = body_of<subscribe_request>(*q);
    EXPECT_EQ(s.info, R"({"i":1})");
    EXPECT_EQ(s.override_options.presence, false);
    EXPECT_EQ(s.override_options.join_leave, true);
    EXPECT_FALSE(s.override_options.force_recovery.has_value());
    ASSERT_TRUE(s.recover_since);
    EXPECT_EQ(s.recover_since->offset, 5U);
    EXPECT_EQ(s.expire_at, 9);
}

TEST(ApiJson, DisconnectWithCustomCode) {
    const auto q = json::decode_request(
        method::disconnect,
        R"({"user":"u","whitelist":["a","b"],"disconnect":{"code":4500,"reason":"bye"}})");
    ASSERT_TRUE(q);
    const auto& d = body_of<disconnect_request>(*q);
    ASSERT_TRUE(d.disconnect);
    EXPECT_EQ(d.disconnect->first, 4500U);
    EXPECT_EQ(d.disconnect->second, "bye");
    EXPECT_EQ(d.whitelist.size(), 2U);
}

TEST(ApiJson, BatchTakesTheFirstMethodInExecutorOrder) {
    const auto q = json::decode_request(
        method::batch,
        R"({"parallel":true,"commands":[{"presence":{"channel":"p"},"publish":{"channel":"x"}},)"
        R"({},null,{"connections":{}},{"info":null,"channels":{}}]})");
    ASSERT_TRUE(q);
    const auto& b = *std::get<std::shared_ptr<batch_request>>(q->body);
    EXPECT_TRUE(b.parallel);
    ASSERT_EQ(b.commands.size(), 5U);
    EXPECT_EQ(std::get<request>(b.commands[0]).kind, method::publish);
    EXPECT_EQ(std::get<error>(b.commands[1]), errors::not_found);
    EXPECT_EQ(std::get<error>(b.commands[2]), errors::bad_request);
    EXPECT_EQ(std::get<error>(b.commands[3]), errors::not_found); // PRO-only
    EXPECT_EQ(std::get<request>(b.commands[4]).kind, method::channels);
}

TEST(ApiJson, LegacyStream) {
    const auto cmds = json::decode_legacy(
        "{\"method\":\"publish\",\"params\":{\"channel\":\"c\",\"data\":1}}\n"
        "{\"id\":2,\"method\":\"PRESENCE_STATS\",\"params\":{\"channel\":\"c\"}}\n"
        "{\"id\":3,\"method\":99}\n"
        "{\"id\":4,\"method\":5,\"params\":{\"channel\":5}}\n"
        "{\"id\":5,\"method\":\"connections\",\"params\":{}}\n"
        "{\"id\":6,\"method\":9}\n"
        "{\"id\":7,\"method\":0}\n");
    ASSERT_TRUE(cmds);
    ASSERT_EQ(cmds->size(), 7U);
    EXPECT_EQ(std::get<request>((*cmds)[0].what).kind, method::publish);
    EXPECT_EQ((*cmds)[1].id, 2U);
    EXPECT_EQ(std::get<request>((*cmds)[1].what).kind, method::presence_stats);
    EXPECT_EQ(std::get<error>((*cmds)[2].what), errors::not_found);
    EXPECT_EQ(std::get<error>((*cmds)[3].what), errors::bad_request); // params do not decode
    EXPECT_EQ(std::get<error>((*cmds)[4].what), errors::not_found);
    EXPECT_EQ(std::get<request>((*cmds)[5].what).kind, method::info); // info needs no params
    EXPECT_EQ(std::get<error>((*cmds)[6].what), errors::bad_request); // no params at all
}

TEST(ApiJson, LegacyUnknownMethodStringOrBadLineFailsTheBody) {
    EXPECT_FALSE(json::decode_legacy(R"({"method":"foo","params":{}})"));
    EXPECT_FALSE(json::decode_legacy(R"({"method":"batch","params":{}})"));
    EXPECT_FALSE(json::decode_legacy("{\"method\":0,\"params\":{}}\n{oops"));
    EXPECT_FALSE(json::decode_legacy("[1]"));
}

TEST(ApiJson, ReplyShapes) {
    reply r;
    r.kind = method::publish;
    EXPECT_EQ(encode(r), R"({"result":{}})");
    r.result = publish_result{7, "ep"};
    EXPECT_EQ(encode(r), R"({"result":{"offset":7,"epoch":"ep"}})");
    r.err = errors::unknown_channel;
    EXPECT_EQ(encode(r), R"({"error":{"code":102,"message":"unknown channel"}})");

    reply stats;
    stats.kind = method::presence_stats;
    stats.result = presence_stats_result{};
    EXPECT_EQ(encode(stats), R"({"result":{"num_clients":0,"num_users":0}})");

    reply pres;
    pres.kind = method::presence;
    presence_result p;
    p.presence["c1"] = {"u", "c1", R"({"n":1})", ""};
    pres.result = p;
    EXPECT_EQ(encode(pres),
              R"({"result":{"presence":{"c1":{"user":"u","client":"c1","conn_info":{"n":1}}}}})");

    reply chans;
    chans.kind = method::channels;
    chans.result = channels_result{{{"b", 2}, {"a<", 1}}};
    EXPECT_EQ(encode(chans),
              R"({"result":{"channels":{"a\u003c":{"num_clients":1},"b":{"num_clients":2}}}})");
}

TEST(ApiJson, BatchAndBroadcastReplies) {
    reply pub;
    pub.kind = method::publish;
    reply err;
    err.err = errors::not_found;
    reply batch;
    batch.kind = method::batch;
    batch.result = batch_result{{pub, err}};
    EXPECT_EQ(encode(batch),
              R"({"replies":[{"publish":{}},{"error":{"code":104,"message":"not found"}}]})");

    reply bc;
    bc.kind = method::broadcast;
    bc.result = broadcast_result{{pub, err}};
    EXPECT_EQ(
        encode(bc),
        R"({"result":{"responses":[{"result":{}},{"error":{"code":104,"message":"not found"}}]}})");
}

TEST(ApiJson, LegacyReplyLines) {
    reply r;
    r.kind = method::presence_stats;
    r.result = presence_stats_result{2, 1};
    std::string out;
    ASSERT_TRUE(json::append_legacy_reply(out, 3, r));
    EXPECT_EQ(out, R"({"id":3,"result":{"num_clients":2,"num_users":1}})");
    out.clear();
    r.err = errors::not_available;
    ASSERT_TRUE(json::append_legacy_reply(out, 0, r));
    EXPECT_EQ(out, R"({"error":{"code":108,"message":"not available"}})");
}

TEST(ApiJson, InvalidStoredPayloadFailsTheReply) {
    reply r;
    r.kind = method::rpc;
    r.result = rpc_result{"\x01binary"};
    std::string out = "keep";
    EXPECT_FALSE(json::append_reply(out, r));
    EXPECT_EQ(out, "keep");
}

TEST(ApiJson, TransportModeStatuses) {
    EXPECT_EQ(http_status(errors::internal), 500U);
    EXPECT_EQ(http_status(errors::unknown_channel), 404U);
    EXPECT_EQ(http_status(errors::not_found), 404U);
    EXPECT_EQ(http_status(errors::bad_request), 400U);
    EXPECT_EQ(http_status(errors::not_available), 400U);
    EXPECT_EQ(http_status(errors::unrecoverable_position), 416U);
    EXPECT_EQ(http_status(errors::conflict), 409U);
    EXPECT_EQ(http_status(error{999, "x"}), 500U);
}

} // namespace
} // namespace gyre::api
