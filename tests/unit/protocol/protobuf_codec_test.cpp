// Golden bytes come from `protoc --encode=gyre.test.<Message> client_test.proto` run on the
// text shown next to each constant (see client_test.proto); protoc is not needed at run time.
#include "protocol/client/codes.hpp"
#include "protocol/client/protobuf_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gyre::protocol::client {
namespace {

namespace pb = protobuf;
using pb::framing;

std::string from_hex(std::string_view hex) {
    std::string out;
    out.reserve(hex.size() / 2);
    const auto nibble = [](char c) {
        return c <= '9' ? c - '0' : c - 'a' + 10;
    };
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
    }
    return out;
}

std::string to_hex(std::string_view bytes) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xF]);
    }
    return out;
}

std::string bare(const reply& r) {
    return to_hex(pb::encode_reply(r, framing::bare));
}

std::string bare_push(const push& p, push_form form) {
    std::string out;
    pb::append_push(out, p, form, framing::bare);
    return to_hex(out);
}

std::string delimited(std::string_view hex) {
    std::string out;
    const std::string bytes = from_hex(hex);
    pb::append_varint(out, bytes.size());
    out += bytes;
    return out;
}

command decode_one(std::string_view hex) {
    auto res = pb::decode_commands(delimited(hex));
    EXPECT_TRUE(res.has_value()) << hex;
    if (!res || res->size() != 1) {
        ADD_FAILURE() << "expected one command";
        return {};
    }
    return std::move(res->front());
}

client_info info_42() {
    return client_info{"42", "c1", "", ""};
}

// ---- Golden encodings -----------------------------------------------------------------------

TEST(ProtobufEncode, SpecExampleConnectReply) {
    // protocol.md §2.10: Reply{id:1, connect:{client:"c"}} = 07 08 01 2a 03 0a 01 63
    connect_result res;
    res.client = "c";
    const reply r{1, res};
    EXPECT_EQ(to_hex(pb::encode_reply(r, framing::delimited)), "0708012a030a0163");
    EXPECT_EQ(bare(r), "08012a030a0163");
}

TEST(ProtobufEncode, PingIsSingleZeroByte) {
    EXPECT_EQ(to_hex(pb::encode_reply(reply{}, framing::delimited)), "00");
    EXPECT_EQ(bare(reply{}), "");
    std::string uni;
    pb::append_push(uni, push{}, push_form::unidirectional, framing::delimited);
    EXPECT_EQ(to_hex(uni), "00");
}

TEST(ProtobufEncode, EmptyResultsAreStillWritten) {
    EXPECT_EQ(bare(reply{2, subscribe_result{}}), "08023200");      // id: 2 subscribe {}
    EXPECT_EQ(bare(reply{3, publish_result{}}), "08034200");        // id: 3 publish {}
    EXPECT_EQ(bare(reply{11, unsubscribe_result{}}), "080b3a00");   // id: 11 unsubscribe {}
    EXPECT_EQ(bare(reply{5, presence_result{}}), "08054a00");       // id: 5 presence {}
    EXPECT_EQ(bare(reply{7, history_result{}}), "08075a00");        // id: 7 history {}
    EXPECT_EQ(bare(reply{8, rpc_result{}}), "08086a00");            // id: 8 rpc {}
    EXPECT_EQ(bare(reply{10, sub_refresh_result{}}), "080a7a00");   // id: 10 sub_refresh {}
    EXPECT_EQ(bare(reply{6, presence_stats_result{}}), "08065200"); // not from protoc: tag 10
    EXPECT_EQ(bare(reply{12, refresh_result{}}), "080c7200");       // not from protoc: tag 14
    EXPECT_EQ(bare(reply{1, connect_result{}}), "08012a00");        // not from protoc: tag 5
}

TEST(ProtobufEncode, Errors) {
    // id: 4 error { code: 108 message: "not available" }
    EXPECT_EQ(bare(reply{4, errors::not_available.to_error()}),
              "08041211086c120d6e6f7420617661696c61626c65");
    // id: 4 error { code: 100 message: "internal server error" temporary: true }
    EXPECT_EQ(bare(reply{4, errors::internal.to_error()}),
              "0804121b08641215696e7465726e616c20736572766572206572726f721801");
}

TEST(ProtobufEncode, SubscribeRecovered) {
    // id: 9 subscribe { recoverable: true epoch: "ab12" publications { data: "{\"n\":6}"
    // offset: 6 } publications { data: "{\"n\":7}" offset: 7 } recovered: true offset: 5
    // positioned: true was_recovering: true }
    subscribe_result s;
    s.recoverable = true;
    s.epoch = "ab12";
    s.publications.push_back(publication{.data = R"({"n":6})", .offset = 6});
    s.publications.push_back(publication{.data = R"({"n":7})", .offset = 7});
    s.recovered = true;
    s.offset = 5;
    s.positioned = true;
    s.was_recovering = true;
    EXPECT_EQ(bare(reply{9, s}),
              "0809322a18013204616231323a0b22077b226e223a367d30063a0b22077b226e223a377d3007400148"
              "0550016001");
}

TEST(ProtobufEncode, ConnectResultWithSubsMap) {
    // id: 1 connect { client: "5c5b" version: "6.9.1" expires: true ttl: 3600
    // data: "{\"x\":1}" subs { key: "#42" value { recoverable: true epoch: "e" offset: 3
    // positioned: true } } subs { key: "a" value {} } ping: 25 pong: true session: "s"
    // node: "n" time: 1700000000000 }
    connect_result c;
    c.client = "5c5b";
    c.version = "6.9.1";
    c.expires = true;
    c.ttl = 3600;
    c.data = R"({"x":1})";
    subscribe_result s;
    s.recoverable = true;
    s.epoch = "e";
    s.offset = 3;
    s.positioned = true;
    c.subs["#42"] = s;
    c.subs["a"] = subscribe_result{};
    c.ping = 25;
    c.pong = true;
    c.session = "s";
    c.node = "n";
    c.time = 1700000000000;
    EXPECT_EQ(bare(reply{1, c}),
              "08012a450a04356335621205362e392e31180120901c2a077b2278223a317d32100a0323343212"
              "0918013201654803500132050a01611200381940014a017352016e5880d095ffbc31");
}

TEST(ProtobufEncode, PresenceAndStats) {
    // id: 5 presence { presence { key: "c1" value { user: "42" client: "c1"
    // conn_info: "{\"a\":1}" chan_info: "[]" } } presence { key: "c2" value { client: "c2" } } }
    presence_result p;
    p.presence["c1"] = client_info{"42", "c1", R"({"a":1})", "[]"};
    p.presence["c2"] = client_info{"", "c2", "", ""};
    EXPECT_EQ(bare(reply{5, p}),
              "08054a290a1b0a02633112150a023432120263311a077b2261223a317d22025b5d0a0a0a02633212"
              "0412026332");
    // id: 6 presence_stats { num_clients: 3 num_users: 2 }
    EXPECT_EQ(bare(reply{6, presence_stats_result{3, 2}}), "0806520408031002");
}

TEST(ProtobufEncode, HistoryWithTags) {
    // id: 7 history { publications { data: "1" offset: 1 tags { key: "k" value: "v" }
    // tags { key: "a" value: "" } time: 1 } epoch: "e" offset: 1 }
    publication pub;
    pub.data = "1";
    pub.offset = 1;
    pub.tags = {{"k", "v"}, {"a", ""}};
    pub.time = 1;
    history_result h{{pub}, "e", 1};
    // protoc wrote the map in insertion order (k, a); std::map writes sorted (a, k). Both are
    // valid encodings of the same map, so compare after decoding instead of byte-for-byte.
    const std::string golden =
        from_hex("08075a1d0a1622013130013a060a016b1201763a050a0161120048011201"
                 "651801");
    auto decoded = pb::decode_replies(delimited(to_hex(golden)));
    ASSERT_TRUE(decoded.has_value());
    ASSERT_EQ(decoded->size(), 1U);
    EXPECT_EQ(decoded->front(), (reply{7, h}));
    EXPECT_EQ(pb::encode_reply(reply{7, h}, framing::bare).size(), golden.size());
}

TEST(ProtobufEncode, RpcRefreshSubRefresh) {
    EXPECT_EQ(bare(reply{8, rpc_result{R"({"r":true})"}}), "08086a0c0a0a7b2272223a747275657d");
    EXPECT_EQ(bare(reply{9, refresh_result{"c", "", true, 60}}), "080972070a01631801203c");
    EXPECT_EQ(bare(reply{10, sub_refresh_result{true, 60, {}}}), "080a7a040801103c");
}

TEST(ProtobufEncode, PushesInsideReply) {
    // push { channel: "news" pub { data: "{\"text\":\"hi\"}" info { user: "42" client: "c1" }
    // offset: 7 } }
    publication pub{.data = R"({"text":"hi"})", .info = info_42(), .offset = 7};
    EXPECT_EQ(bare(reply{0, push{0, "news", pub}}),
              "222312046e657773221b220d7b2274657874223a226869227d2a080a0234321202633130"
              "07");
    EXPECT_EQ(bare_push(push{0, "news", pub}, push_form::bidirectional),
              "222312046e657773221b220d7b2274657874223a226869227d2a080a0234321202633130"
              "07");
    EXPECT_EQ(bare_push(push{0, "chat", join_push{info_42()}}, push_form::bidirectional),
              "22121204636861742a0a0a080a02343212026331");
    EXPECT_EQ(bare_push(push{0, "chat", leave_push{info_42()}}, push_form::bidirectional),
              "2212120463686174320a0a080a02343212026331");
    EXPECT_EQ(
        bare_push(push{0, "chat", unsubscribe_codes::server.to_push()}, push_form::bidirectional),
        "221f1204636861743a1710d00f1a1273657276657220756e737562736372696265");
    EXPECT_EQ(bare_push(push{0, "", message_push{R"({"any":"thing"})"}}, push_form::bidirectional),
              "221342110a0f7b22616e79223a227468696e67227d");
    EXPECT_EQ(bare_push(push{0, "#42", subscribe_push{true, "xyz", 3, true, ""}},
                        push_form::bidirectional),
              "221212032334324a0b0801220378797a28033001");
    EXPECT_EQ(
        bare_push(push{0, "", to_push(model::disconnects::shutdown)}, push_form::bidirectional),
        "220f5a0d08b917120873687574646f776e");
    EXPECT_EQ(bare_push(push{0, "", refresh_push{true, 10}}, push_form::bidirectional),
              "220662040801100a");
}

TEST(ProtobufEncode, UnidirectionalPushes) {
    // connect { client: "c" version: "v" data: "{}" subs { key: "ch" value { recoverable: true
    // offset: 1 } } expires: true ttl: 5 ping: 25 session: "s" time: 12 }
    connect_push c;
    c.client = "c";
    c.version = "v";
    c.data = "{}";
    subscribe_result s;
    s.recoverable = true;
    s.offset = 1;
    c.subs["ch"] = s;
    c.expires = true;
    c.ttl = 5;
    c.ping = 25;
    c.session = "s";
    c.time = 12;
    EXPECT_EQ(bare_push(push{0, "", c}, push_form::unidirectional),
              "52210a01631201761a027b7d220a0a0263681204180148012801300538194a0173580c");
}

TEST(ProtobufEncode, PublicationAllFieldsZigzagAndNegatives) {
    // channel: "x" pub { data: "\000\001\377" offset: 18446744073709551615 delta: true
    // time: -5 channel: "x:1" key: "k" removed: true score: -3 epoch: "ep" version: 9 }
    publication pub;
    pub.data = std::string("\x00\x01\xff", 3);
    pub.offset = UINT64_MAX;
    pub.delta = true;
    pub.time = -5;
    pub.channel = "x:1";
    pub.key = "k";
    pub.removed = true;
    pub.score = -3;
    pub.epoch = "ep";
    pub.version = 9;
    const std::string golden = "120178223022030001ff30ffffffffffffffffff01400148fbffffffffffffffff"
                               "015203783a315a016b6001680572026570800109";
    EXPECT_EQ(bare_push(push{0, "x", pub}, push_form::unidirectional), golden);
    EXPECT_EQ(
        to_hex(pb::encode_publication_push("x", pub, push_form::unidirectional, framing::bare)),
        golden);
    auto back = pb::decode_push(from_hex(golden));
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(back->kind(), push_kind::pub);
    const auto& got = std::get<publication>(back->body);
    EXPECT_EQ(back->channel, "x");
    EXPECT_EQ(got.data, pub.data);
    EXPECT_EQ(got.offset, pub.offset);
    EXPECT_EQ(got.time, pub.time);
    EXPECT_EQ(got.score, pub.score);
    EXPECT_EQ(got.channel, pub.channel);
    EXPECT_EQ(got.key, pub.key);
    EXPECT_EQ(got.epoch, pub.epoch);
    EXPECT_EQ(got.version, pub.version);
    EXPECT_EQ(got.delta, pub.delta);
    EXPECT_EQ(got.removed, pub.removed);
    EXPECT_EQ(got, pub);
}

TEST(ProtobufEncode, PublicationPushOnceMatchesGenericPush) {
    // channel: "big" pub { data: "x" * 300 offset: 1 } -- lengths above 127 need 2-byte varints.
    publication pub{.data = std::string(300, 'x'), .offset = 1};
    std::string golden = "120362696722b10222ac02";
    for (int i = 0; i < 300; ++i) {
        golden += "78";
    }
    golden += "3001";
    EXPECT_EQ(
        to_hex(pb::encode_publication_push("big", pub, push_form::unidirectional, framing::bare)),
        golden);
    for (const auto form : {push_form::bidirectional, push_form::unidirectional}) {
        for (const auto f : {framing::bare, framing::delimited}) {
            std::string generic;
            pb::append_push(generic, push{0, "big", pub}, form, f);
            EXPECT_EQ(pb::encode_publication_push("big", pub, form, f), generic);
        }
    }
    // Bidirectional and delimited: Reply{push} with a 2-byte length prefix.
    const std::string framed =
        pb::encode_publication_push("big", pub, push_form::bidirectional, framing::delimited);
    auto replies = pb::decode_replies(framed);
    ASSERT_TRUE(replies.has_value());
    ASSERT_EQ(replies->size(), 1U);
    EXPECT_EQ(replies->front(), (reply{0, push{0, "big", pub}}));
}

TEST(ProtobufEncode, AppendsWithoutTouchingExistingBytes) {
    std::string out = "prefix";
    pb::append_reply(out, reply{2, subscribe_result{}}, framing::delimited);
    pb::append_reply(out, reply{}, framing::delimited);
    EXPECT_EQ(out.substr(0, 6), "prefix");
    EXPECT_EQ(to_hex(out.substr(6)), "040802320000");
}

TEST(ProtobufEncode, NegativeInt32UsesTenBytes) {
    command c{4, history_request{"news", -1, stream_position{}, false}};
    std::string out;
    pb::append_command(out, c, framing::bare);
    // id: 4 history { channel: "news" limit: -1 since { } }
    EXPECT_EQ(to_hex(out), "080452130a046e65777338ffffffffffffffffff014200");
}

// ---- Decoding commands ----------------------------------------------------------------------

TEST(ProtobufDecode, Connect) {
    // id: 1 connect { token: "eyJ" data: "{\"a\":1.0}" subs { key: "#42" value { recover: true
    // offset: 5 epoch: "ab12" } } name: "js" version: "1.0" headers { key: "h" value: "v" } }
    const command c = decode_one("080122340a0365794a12097b2261223a312e307d1a110a03233432120a1801"
                                 "320461623132380522026a732a03312e3032060a0168120176");
    EXPECT_EQ(c.id, 1U);
    ASSERT_EQ(c.kind(), method::connect);
    const auto& req = std::get<connect_request>(c.request);
    EXPECT_EQ(req.token, "eyJ");
    EXPECT_EQ(req.data, R"({"a":1.0})");
    EXPECT_EQ(req.name, "js");
    EXPECT_EQ(req.version, "1.0");
    ASSERT_EQ(req.subs.count("#42"), 1U);
    EXPECT_TRUE(req.subs.at("#42").recover);
    EXPECT_EQ(req.subs.at("#42").offset, 5U);
    EXPECT_EQ(req.subs.at("#42").epoch, "ab12");
    EXPECT_EQ(req.headers.at("h"), "v");
}

TEST(ProtobufDecode, SubscribeWithFilterAndNegativeType) {
    // id: 2 subscribe { channel: "news" token: "t" data: "{}" positioned: true recoverable: true
    // join_leave: true delta: "fossil" tf { op: "and" nodes { key: "a" cmp: "eq" val: "1" }
    // nodes { key: "b" cmp: "in" vals: "x" vals: "y" } } flag: 1 type: -1 }
    const command c = decode_one("08022a4a0a046e65777312017442027b7d4801500158016206666f7373696c"
                                 "6a200a03616e64320a1201611a026571220131320d1201621a02696e2a0178"
                                 "2a0179700178ffffffffffffffffff01");
    ASSERT_EQ(c.kind(), method::subscribe);
    const auto& s = std::get<subscribe_request>(c.request);
    EXPECT_EQ(s.channel, "news");
    EXPECT_EQ(s.token, "t");
    EXPECT_EQ(s.data, "{}");
    EXPECT_TRUE(s.positioned);
    EXPECT_TRUE(s.recoverable);
    EXPECT_TRUE(s.join_leave);
    EXPECT_EQ(s.delta, "fossil");
    EXPECT_EQ(s.flag, 1);
    EXPECT_EQ(s.type, -1);
    ASSERT_TRUE(s.tf.has_value());
    EXPECT_EQ(s.tf->op, "and");
    ASSERT_EQ(s.tf->nodes.size(), 2U);
    EXPECT_EQ(s.tf->nodes[0].cmp, "eq");
    EXPECT_EQ(s.tf->nodes[1].vals, (std::vector<std::string>{"x", "y"}));
}

TEST(ProtobufDecode, PongIsTheZeroByte) {
    auto res = pb::decode_commands(from_hex("00"));
    ASSERT_TRUE(res.has_value());
    ASSERT_EQ(res->size(), 1U);
    EXPECT_TRUE(res->front().is_pong());
}

TEST(ProtobufDecode, EveryRequestKind) {
    struct golden_case {
        std::string_view hex;
        method kind;
        std::uint32_t id;
    };

    const golden_case cases[] = {
        {"08033a150a046e657773120d7b2274657874223a226869227d", method::publish, 3},
        {"080452110a046e657773380a420508031201654801", method::history, 4},
        {"08056a070a0200ff12016d", method::rpc, 5},
        {"62030a0178", method::send, 0},
        {"080672030a0174", method::refresh, 6},
        {"08077a060a0163120174", method::sub_refresh, 7},
        {"080842030a0163", method::presence, 8},
        {"08094a030a0163", method::presence_stats, 9},
        {"080a32030a0163", method::unsubscribe, 10},
        {"080b5a00", method::ping, 11},
    };
    for (const auto& gc : cases) {
        const command c = decode_one(gc.hex);
        EXPECT_EQ(c.kind(), gc.kind) << gc.hex;
        EXPECT_EQ(c.id, gc.id) << gc.hex;
    }
    const command pub = decode_one("08033a150a046e657773120d7b2274657874223a226869227d");
    EXPECT_EQ(std::get<publish_request>(pub.request).data, R"({"text":"hi"})");
    const command hist = decode_one("080452110a046e657773380a420508031201654801");
    const auto& h = std::get<history_request>(hist.request);
    EXPECT_EQ(h.limit, 10);
    ASSERT_TRUE(h.since.has_value());
    EXPECT_EQ(h.since->offset, 3U);
    EXPECT_EQ(h.since->epoch, "e");
    EXPECT_TRUE(h.reverse);
    const command rpc = decode_one("08056a070a0200ff12016d");
    EXPECT_EQ(std::get<rpc_request>(rpc.request).data, std::string("\x00\xff", 2));
    EXPECT_EQ(std::get<rpc_request>(rpc.request).method, "m");
    const command send = decode_one("62030a0178");
    EXPECT_FALSE(send.is_pong());
    EXPECT_EQ(std::get<send_request>(send.request).data, "x");
}

TEST(ProtobufDecode, UnknownFieldsAreSkipped) {
    // id: 12 publish { channel: "c" } future: "zzz"   (field 99 is not in the schema)
    const command c = decode_one("080c3a030a01639a06037a7a7a");
    ASSERT_EQ(c.kind(), method::publish);
    EXPECT_EQ(std::get<publish_request>(c.request).channel, "c");
    // Unknown varint (field 50), fixed64 (51), fixed32 (52) and a group (53) are skipped too.
    const std::string extra = from_hex("9003019903"
                                       "0102030405060708"
                                       "a503"
                                       "01020304"
                                       "ab03"
                                       "0801"
                                       "ac03");
    auto res = pb::decode_command(from_hex("080c") + extra + from_hex("3a030a0163"));
    ASSERT_TRUE(res.has_value()) << to_string(res.error());
    EXPECT_EQ(res->kind(), method::publish);
}

TEST(ProtobufDecode, DispatchOrderFollowsCentrifuge) {
    // id: 13 subscribe { channel: "c" } ping {} -> subscribe wins over ping.
    EXPECT_EQ(decode_one("080d2a030a01635a00").kind(), method::subscribe);
    // id 0 without send is a pong whatever else it carries.
    EXPECT_TRUE(decode_one("2a030a0163").is_pong());
}

TEST(ProtobufDecode, SeveralCommandsPerFrame) {
    const std::string frame = delimited("08033a150a046e657773120d7b2274657874223a226869227d") +
                              from_hex("00") + delimited("080a32030a0163");
    auto res = pb::decode_commands(frame);
    ASSERT_TRUE(res.has_value());
    ASSERT_EQ(res->size(), 3U);
    EXPECT_EQ((*res)[0].kind(), method::publish);
    EXPECT_TRUE((*res)[1].is_pong());
    EXPECT_EQ((*res)[2].kind(), method::unsubscribe);
}

TEST(ProtobufDecode, UnidirectionalConnectAndEmulation) {
    // token: "t" name: "n" subs { key: "ch" value { recover: true offset: 7 epoch: "e" } }
    auto req = pb::decode_connect_request(from_hex("0a01741a0d0a02636812071801320165380722016e"));
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(req->token, "t");
    EXPECT_EQ(req->name, "n");
    EXPECT_EQ(req->subs.at("ch").offset, 7U);
    // node: "a1" session: "9f" data: "\002\010\001"  (data = one delimited Command{id:1})
    auto em = pb::decode_emulation_request(from_hex("0a026131120239661a03020801"));
    ASSERT_TRUE(em.has_value());
    EXPECT_EQ(em->node, "a1");
    EXPECT_EQ(em->session, "9f");
    auto cmds = pb::decode_commands(em->data);
    ASSERT_TRUE(cmds.has_value());
    ASSERT_EQ(cmds->size(), 1U);
    EXPECT_EQ(cmds->front().id, 1U);
}

// ---- Malformed input ------------------------------------------------------------------------

TEST(ProtobufDecode, MalformedInputIsAnError) {
    struct bad_case {
        std::string bytes;
        codec_error expected;
    };

    const bad_case cases[] = {
        {"", codec_error::empty_frame},
        {from_hex("ffffffffffffffffffff01"), codec_error::bad_varint}, // 11-byte varint
        {from_hex("80"), codec_error::truncated},                      // cut inside the prefix
        {from_hex("05080a"), codec_error::truncated},                  // declares 5, has 2
        {from_hex("0208"), codec_error::truncated},                    // id varint cut
        {from_hex("0300010a"), codec_error::bad_tag},                  // field number 0
        {from_hex("020f00"), codec_error::bad_tag},                    // wire type 7
        {from_hex("029403"), codec_error::bad_tag},                    // end-group alone
        {from_hex("020a01"), codec_error::wrong_type},                 // id as bytes
        {from_hex("02"
                  "20"
                  "01"),
         codec_error::wrong_type},                        // connect as varint
        {from_hex("042a020a05"), codec_error::truncated}, // nested string cut
        {from_hex("043a0218ff"), codec_error::truncated}, // varint cut
        {from_hex("03"
                  "ab03"
                  "08"),
         codec_error::truncated}, // unterminated group
        {from_hex("04"
                  "ab03"
                  "ac04"),
         codec_error::bad_tag}, // mismatched group end
        {from_hex("0b"
                  "08ffffffffffffffffff02"),
         codec_error::bad_varint}, // above 64 bits
    };
    for (const auto& bc : cases) {
        auto res = pb::decode_commands(bc.bytes);
        ASSERT_FALSE(res.has_value()) << to_hex(bc.bytes);
        EXPECT_EQ(res.error(), bc.expected) << to_hex(bc.bytes) << ": " << to_string(res.error());
    }
}

TEST(ProtobufDecode, DeclaredLengthIsBoundedBeforeUse) {
    std::string frame;
    pb::append_varint(frame, 1U << 30); // 1 GiB declared, nothing follows
    auto res = pb::decode_commands(frame);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error(), codec_error::too_large);
    std::string ok_frame = delimited("080a32030a0163");
    EXPECT_FALSE(pb::decode_commands(ok_frame, 3).has_value());
    EXPECT_TRUE(pb::decode_commands(ok_frame, 7).has_value());
}

TEST(ProtobufDecode, DeepNestingIsRefused) {
    // subscribe { tf { nodes { nodes { ... } } } } nested 200 deep.
    std::string node; // innermost: empty FilterNode
    for (int i = 0; i < 200; ++i) {
        std::string outer = "\x32"; // nodes = 6, wire type 2
        pb::append_varint(outer, node.size());
        node = outer + node;
    }
    std::string tf = "\x6a";
    pb::append_varint(tf, node.size());
    tf += node;
    std::string cmd = from_hex("0801") + "\x2a";
    pb::append_varint(cmd, tf.size());
    cmd += tf;
    auto res = pb::decode_command(cmd);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error(), codec_error::too_deep);
}

TEST(ProtobufDecode, NextDelimitedForStreams) {
    const std::string msg = delimited("080a32030a0163");
    for (std::size_t cut = 0; cut < msg.size(); ++cut) {
        auto partial = pb::next_delimited(std::string_view(msg).substr(0, cut));
        ASSERT_TRUE(partial.has_value());
        EXPECT_FALSE(partial->has_value()) << cut;
    }
    const std::string stream = msg + std::string(1, '\0'); // a pong follows
    auto whole = pb::next_delimited(stream);
    ASSERT_TRUE(whole.has_value());
    ASSERT_TRUE(whole->has_value());
    EXPECT_EQ((*whole)->consumed, msg.size());
    EXPECT_EQ(to_hex((*whole)->message), "080a32030a0163");
    auto bad = pb::next_delimited(from_hex("ffffffffffffffffffff7f"));
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), codec_error::bad_varint);
}

TEST(ProtobufDecode, MutatedInputNeverCrashes) {
    // Cheap in-process fuzzing over the golden frames (the real fuzzer is
    // fuzz/protocol_protobuf_fuzz.cpp): flip, cut and splice bytes; decoding must return.
    const std::string seeds[] = {
        delimited("080122340a0365794a12097b2261223a312e307d1a110a03233432120a1801320461623132380522"
                  "026a732a03312e3032060a0168120176"),
        delimited("08022a4a0a046e65777312017442027b7d4801500158016206666f7373696c6a200a03616e6432"
                  "0a1201611a026571220131320d1201621a02696e2a01782a0179700178ffffffffffffffffff01"),
        delimited("080452110a046e657773380a420508031201654801") + from_hex("00"),
    };
    std::mt19937 rng(12345);
    std::size_t decoded = 0;
    for (const auto& seed : seeds) {
        for (int round = 0; round < 3000; ++round) {
            std::string s = seed;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits && !s.empty(); ++e) {
                const std::size_t at = rng() % s.size();
                switch (rng() % 3) {
                case 0:
                    s[at] = static_cast<char>(rng());
                    break;
                case 1:
                    s.resize(at);
                    break;
                default:
                    s.insert(at, 1, static_cast<char>(rng()));
                    break;
                }
            }
            decoded += pb::decode_commands(s).has_value() ? 1U : 0U;
            static_cast<void>(pb::decode_replies(s));
        }
    }
    EXPECT_GT(decoded, 0U);
}

// ---- Round trips ----------------------------------------------------------------------------

std::vector<command> sample_commands() {
    connect_request conn;
    conn.token = "tok";
    conn.data = R"({"a":1.0,"b":[1e5]})";
    conn.subs["#1"] = subscribe_request{.channel = "", .recover = true, .epoch = "e", .offset = 9};
    conn.name = "js";
    conn.version = "5.7.1";
    conn.headers = {{"X-A", "1"}, {"X-B", ""}};
    conn.flag = 1;
    conn.dict = "d";
    conn.profile = "p";
    subscribe_request sub;
    sub.channel = "news";
    sub.recover = true;
    sub.offset = 42;
    sub.epoch = "ep";
    sub.tf = filter_node{.op = "not", .nodes = {filter_node{.key = "k", .cmp = "ex"}}};
    sub.flag = 3;
    sub.phase = -7;
    sub.cursor = "cur";
    sub.limit = 100;
    sub.asc = true;
    sub_refresh_request sr;
    sr.channel = "c";
    sr.token = "t";
    sr.type = 1;
    sr.track = {track_batch{"sig", {keyed_item{"k1", 1}, keyed_item{"k2", 2}}}};
    sr.untrack = {"a", ""};
    return {
        command{1, conn},
        command{2, sub},
        command{3, unsubscribe_request{"news"}},
        command{4, publish_request{"news", R"({"x":"\u00e9"})", 1, "key", true}},
        command{5, presence_request{"p"}},
        command{6, presence_stats_request{"p"}},
        command{7, history_request{"h", -1, stream_position{0, ""}, true}},
        command{8, history_request{"h", 5, std::nullopt, false}},
        command{9, ping_request{}},
        command{0, send_request{R"("bin\u0000")"}},
        command{10, rpc_request{"[1,2]", "getUser"}},
        command{11, refresh_request{"tok"}},
        command{12, sr},
        command{}, // pong
    };
}

TEST(ProtobufRoundTrip, Commands) {
    std::string frame;
    const auto cmds = sample_commands();
    for (const auto& c : cmds) {
        pb::append_command(frame, c, framing::delimited);
    }
    auto back = pb::decode_commands(frame);
    ASSERT_TRUE(back.has_value()) << to_string(back.error());
    EXPECT_EQ(*back, cmds);
}

std::vector<reply> sample_replies() {
    publication pub;
    pub.data = std::string("\x00\x01\x02", 3);
    pub.info = client_info{"u", "c", "{}", "[]"};
    pub.offset = 77;
    pub.tags = {{"t", "v"}};
    pub.delta = true;
    pub.time = 1700000000123;
    pub.channel = "ch";
    pub.score = INT64_MIN;
    subscribe_result sres;
    sres.expires = true;
    sres.ttl = 30;
    sres.recoverable = true;
    sres.epoch = "e";
    sres.publications = {pub, publication{}};
    sres.offset = 78;
    sres.data = "d";
    sres.delta = true;
    sres.id = -9;
    sres.type = 2;
    sres.cursor = "c";
    sres.state = {publication{.key = "k", .version = 3}};
    sres.publish_debounce = 250;
    connect_result cres;
    cres.client = "id";
    cres.subs["s"] = sres;
    cres.flag = 1;
    cres.dict = dictionary{"id", "bytes", ""};
    presence_result pres;
    pres.presence["c"] = client_info{"u", "c", "", ""};
    return {
        reply{1, cres},
        reply{2, sres},
        reply{3, unsubscribe_result{}},
        reply{4, publish_result{}},
        reply{5, pres},
        reply{6, presence_stats_result{1, 1}},
        reply{7, history_result{{pub}, "e", 77}},
        reply{8, rpc_result{"r"}},
        reply{9, refresh_result{"c", "v", true, 5}},
        reply{10, sub_refresh_result{true, 6, {pub}}},
        reply{11, errors::too_many_requests.to_error()},
        reply{0, push{0, "ch", pub}},
        reply{0, push{5, "", join_push{client_info{"u", "c", "", ""}}}},
        reply{0, push{0, "ch", leave_push{}}},
        reply{0, push{0, "ch", unsubscribe_codes::insufficient_state.to_push()}},
        reply{0, push{0, "", message_push{"m"}}},
        reply{0, push{0, "ch", subscribe_push{true, "e", 1, true, "d"}}},
        reply{0, push{0, "", connect_push{.client = "c", .subs = {{"x", sres}}, .pong = true}}},
        reply{0, push{0, "", to_push(model::disconnects::no_pong)}},
        reply{0, push{0, "", refresh_push{true, 1}}},
        reply{},
    };
}

TEST(ProtobufRoundTrip, Replies) {
    std::string frame;
    const auto replies = sample_replies();
    for (const auto& r : replies) {
        pb::append_reply(frame, r, framing::delimited);
    }
    auto back = pb::decode_replies(frame);
    ASSERT_TRUE(back.has_value()) << to_string(back.error());
    EXPECT_EQ(*back, replies);
}

} // namespace
} // namespace gyre::protocol::client

namespace gyre::protocol::client {
namespace {

// The bare Publication nodes exchange through a broker.
TEST(ProtobufPublication, EncodesTheBareMessage) {
    publication pub;
    pub.data = R"({"a":1})";
    pub.offset = 5;
    std::string out;
    protobuf::append_publication(out, pub);
    // Publication{data: '{"a":1}', offset: 5}: field 4 (bytes), field 6 (varint).
    std::string hex;
    for (const char c : out) {
        static constexpr std::string_view digits = "0123456789abcdef";
        hex.push_back(digits[static_cast<unsigned char>(c) >> 4]);
        hex.push_back(digits[static_cast<unsigned char>(c) & 0xF]);
    }
    EXPECT_EQ(hex, "22077b2261223a317d3005");
}

TEST(ProtobufPublication, RoundTripsEveryBrokerField) {
    publication pub;
    pub.data = std::string("\x00\x01binary", 8);
    pub.info = client_info{"user-1", "client-1", R"({"c":1})", R"({"ch":2})"};
    pub.offset = 1234567;
    pub.tags = {{"k", "v"}, {"x", ""}};
    pub.time = 1700000000123;
    std::string out;
    protobuf::append_publication(out, pub);
    const auto back = protobuf::decode_publication(out);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, pub);
    EXPECT_FALSE(protobuf::decode_publication(std::string("\x22\x09short", 7)).has_value());
}

} // namespace
} // namespace gyre::protocol::client

namespace gyre::protocol::client {
namespace {

TEST(ProtobufClientInfo, RoundTripsAPresenceEntry) {
    const client_info info{"user-1", "client-1", R"({"c":1})", R"({"ch":2})"};
    std::string out;
    protobuf::append_client_info(out, info);
    const auto back = protobuf::decode_client_info(out);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, info);
}

} // namespace
} // namespace gyre::protocol::client
