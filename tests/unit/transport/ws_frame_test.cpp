// transport/ws_frame: the RFC 6455 pieces of the WebSocket transport (accept key, server frame
// headers, the incremental reader of masked client frames and its protocol checks).
#include "transport/ws_frame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gyre::transport::ws {
namespace {

/// A client frame as a browser sends it: masked with `mask`.
std::string client_frame(std::uint8_t first_byte,
                         std::string_view payload,
                         std::string mask = "\x11\x22\x33\x44") {
    std::string f;
    f.push_back(static_cast<char>(first_byte));
    const auto n = payload.size();
    if (n < 126) {
        f.push_back(static_cast<char>(0x80 | n));
    } else if (n <= 0xFFFF) {
        f.push_back(static_cast<char>(0x80 | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n & 0xFF));
    } else {
        f.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) {
            f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
        }
    }
    f += mask;
    for (std::size_t i = 0; i < n; ++i) {
        f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    }
    return f;
}

struct collected {
    std::vector<event::kind> kinds;
    std::vector<std::string> payloads;
    std::vector<bool> binary;
    std::uint16_t close_code = 0;
};

frame_reader::result feed(frame_reader& r, std::string& bytes, collected& out) {
    return r.read(std::span<char>(bytes.data(), bytes.size()), [&](const event& e) {
        out.kinds.push_back(e.what);
        out.payloads.emplace_back(e.payload);
        out.binary.push_back(e.binary);
        if (e.what == event::kind::close) {
            out.close_code = e.close_code;
        }
        return true;
    });
}

TEST(ws_frame, accept_key_matches_the_rfc_example) {
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_TRUE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_FALSE(valid_client_key("c2hvcnQ="));    // "short": not 16 bytes
    EXPECT_FALSE(valid_client_key("not base64!")); // not base64 at all
}

TEST(ws_frame, server_headers_use_the_shortest_length_form) {
    char h[max_header_size];
    EXPECT_EQ(write_header(opcode::text, 5, h), 2U);
    EXPECT_EQ(static_cast<unsigned char>(h[0]), 0x81);
    EXPECT_EQ(h[1], 5);
    EXPECT_EQ(write_header(opcode::binary, 300, h), 4U);
    EXPECT_EQ(static_cast<unsigned char>(h[0]), 0x82);
    EXPECT_EQ(static_cast<unsigned char>(h[1]), 126);
    EXPECT_EQ((static_cast<unsigned char>(h[2]) << 8) | static_cast<unsigned char>(h[3]), 300);
    EXPECT_EQ(write_header(opcode::text, 70000, h), 10U);
    EXPECT_EQ(static_cast<unsigned char>(h[1]), 127);
    EXPECT_EQ(static_cast<unsigned char>(h[7]), 0x01); // 70000 = 0x011170
    EXPECT_EQ(static_cast<unsigned char>(h[8]), 0x11);
    EXPECT_EQ(static_cast<unsigned char>(h[9]), 0x70);
}

TEST(ws_frame, close_frame_carries_code_and_reason) {
    const auto f = close_frame(3501, "bad request");
    ASSERT_EQ(f.size(), 2U + 2U + 11U);
    EXPECT_EQ(static_cast<unsigned char>(f[0]), 0x88);
    EXPECT_EQ((static_cast<unsigned char>(f[2]) << 8) | static_cast<unsigned char>(f[3]), 3501);
    EXPECT_EQ(f.substr(4), "bad request");
    EXPECT_EQ(close_frame(1000, std::string(300, 'x')).size(), 2U + 125U); // cut to fit
}

TEST(ws_frame, reads_masked_messages_of_every_length_form) {
    frame_reader r(1 << 20);
    for (const std::size_t n : {0UL, 5UL, 125UL, 126UL, 65535UL, 65536UL, 100000UL}) {
        std::string payload(n, 'a');
        for (std::size_t i = 0; i < n; ++i) {
            payload[i] = static_cast<char>('a' + i % 26);
        }
        auto bytes = client_frame(0x81, payload);
        collected c;
        const auto res = feed(r, bytes, c);
        EXPECT_EQ(res.error, 0);
        EXPECT_EQ(res.consumed, bytes.size());
        ASSERT_EQ(c.payloads.size(), 1U) << n;
        EXPECT_EQ(c.payloads[0], payload) << n;
        EXPECT_FALSE(c.binary[0]);
    }
}

TEST(ws_frame, an_incomplete_frame_is_left_for_the_next_read) {
    frame_reader r(1024);
    const auto whole = client_frame(0x82, "hello") + client_frame(0x81, "second");
    // Byte by byte: every prefix either completes a frame or consumes nothing of the next.
    std::string pending;
    collected c;
    for (const char b : whole) {
        pending.push_back(b);
        const auto res = feed(r, pending, c);
        ASSERT_EQ(res.error, 0);
        pending.erase(0, res.consumed);
    }
    EXPECT_TRUE(pending.empty());
    ASSERT_EQ(c.payloads.size(), 2U);
    EXPECT_EQ(c.payloads[0], "hello");
    EXPECT_TRUE(c.binary[0]);
    EXPECT_EQ(c.payloads[1], "second");
}

TEST(ws_frame, fragments_are_joined_and_control_frames_may_come_between) {
    frame_reader r(1024);
    auto bytes = client_frame(0x01, "{\"id\":") + client_frame(0x89, "are you there") +
                 client_frame(0x00, "1,") + client_frame(0x80, "\"ping\":{}}");
    collected c;
    const auto res = feed(r, bytes, c);
    EXPECT_EQ(res.error, 0);
    ASSERT_EQ(c.kinds.size(), 2U);
    EXPECT_EQ(c.kinds[0], event::kind::ping);
    EXPECT_EQ(c.payloads[0], "are you there");
    EXPECT_EQ(c.kinds[1], event::kind::message);
    EXPECT_EQ(c.payloads[1], "{\"id\":1,\"ping\":{}}");
    EXPECT_TRUE(r.idle());
}

TEST(ws_frame, close_frame_reports_the_peer_code) {
    frame_reader r(1024);
    auto bytes = client_frame(0x88, std::string("\x0b\xb8", 2) + "bye"); // 3000
    collected c;
    EXPECT_EQ(feed(r, bytes, c).error, 0);
    ASSERT_EQ(c.kinds.size(), 1U);
    EXPECT_EQ(c.kinds[0], event::kind::close);
    EXPECT_EQ(c.close_code, 3000);
    EXPECT_TRUE(valid_close_code(3000));
    EXPECT_FALSE(valid_close_code(1005)); // reserved: never on the wire
}

/// A close frame carrying `code` and `reason`.
std::string close_with(std::uint16_t code, std::string_view reason = {}) {
    std::string body;
    body.push_back(static_cast<char>(code >> 8));
    body.push_back(static_cast<char>(code & 0xFF));
    body.append(reason);
    return client_frame(0x88, body);
}

TEST(ws_frame, close_codes_forbidden_on_the_wire_are_protocol_errors) {
    // RFC 6455 §7.4: 0-999 unused, 1004 reserved, 1005/1006/1015 never sent, 1016-2999
    // unassigned (reserved for the protocol), 5000+ undefined.
    for (const std::uint16_t code : std::initializer_list<std::uint16_t>{
             0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        frame_reader r(1024);
        auto bytes = close_with(code);
        collected c;
        const auto res = feed(r, bytes, c);
        EXPECT_EQ(res.error, close_protocol_error) << code;
        EXPECT_TRUE(res.peer_closed) << code;
        EXPECT_TRUE(c.kinds.empty()) << code; // never echoed
        EXPECT_FALSE(valid_close_code(code)) << code;
    }
    for (const std::uint16_t code : std::initializer_list<std::uint16_t>{
             1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999}) {
        frame_reader r(1024);
        auto bytes = close_with(code, "bye");
        collected c;
        EXPECT_EQ(feed(r, bytes, c).error, 0) << code;
        EXPECT_EQ(c.close_code, code);
    }
    // No code at all is a normal close without one.
    frame_reader r(1024);
    auto empty = client_frame(0x88, "");
    collected c;
    EXPECT_EQ(feed(r, empty, c).error, 0);
    ASSERT_EQ(c.kinds.size(), 1U);
    EXPECT_EQ(c.close_code, 0);
}

TEST(ws_frame, a_close_reason_must_be_utf8) {
    for (const std::string_view bad : {std::string_view("\xff"),
                                       std::string_view("\x80"),
                                       std::string_view("\xc0\xaf"),         // overlong '/'
                                       std::string_view("\xe0\x80\xaf"),     // overlong
                                       std::string_view("\xed\xa0\x80"),     // surrogate
                                       std::string_view("\xf4\x90\x80\x80"), // > U+10FFFF
                                       std::string_view("ok\xe2\x82")}) {    // truncated
        EXPECT_FALSE(utf8::valid(bad)) << bad;
        frame_reader r(1024);
        auto bytes = close_with(1000, bad);
        collected c;
        const auto res = feed(r, bytes, c);
        EXPECT_EQ(res.error, close_protocol_error);
        EXPECT_TRUE(res.peer_closed);
    }
    for (const std::string_view good : {std::string_view(""),
                                        std::string_view("bye"),
                                        std::string_view("h\xc3\xa9llo \xe2\x82\xac"),
                                        std::string_view("\xf0\x9d\x84\x9e"),
                                        std::string_view("\xef\xbf\xbf\xf4\x8f\xbf\xbf")}) {
        EXPECT_TRUE(utf8::valid(good)) << good;
    }
}

TEST(ws_frame, a_long_close_reason_is_cut_at_a_character_boundary) {
    std::string reason(122, 'x');
    reason += "\xe2\x82\xac\xe2\x82\xac"; // the first euro sign straddles byte 123
    const auto f = close_frame(4000, reason);
    const auto body = f.substr(2 + 2);
    EXPECT_EQ(body, std::string(122, 'x'));
    EXPECT_TRUE(utf8::valid(body));
}

TEST(ws_frame, protocol_violations_name_the_close_code) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"unmasked frame", std::string("\x81\x02hi", 4)},
        {"reserved bit", client_frame(0xC1, "x")},
        {"unknown opcode", client_frame(0x83, "x")},
        {"fragmented ping", client_frame(0x09, "x")},
        {"continuation without a message", client_frame(0x80, "x")},
        {"message inside a message", client_frame(0x01, "a") + client_frame(0x81, "b")},
        {"one-byte close payload", client_frame(0x88, "x")},
        {"control frame over 125 bytes", client_frame(0x89, std::string(126, 'p'))},
    };
    for (const auto& [name, frame] : cases) {
        frame_reader r(1024);
        auto bytes = frame;
        collected c;
        EXPECT_EQ(feed(r, bytes, c).error, close_protocol_error) << name;
    }
}

TEST(ws_frame, a_message_over_the_limit_is_refused_from_its_header) {
    frame_reader r(100);
    auto big = client_frame(0x81, std::string(101, 'x')).substr(0, 6); // header only
    collected c;
    EXPECT_EQ(feed(r, big, c).error, close_too_big);
    // Fragments count together.
    frame_reader f(100);
    auto parts =
        client_frame(0x01, std::string(60, 'a')) + client_frame(0x80, std::string(60, 'b'));
    collected d;
    EXPECT_EQ(feed(f, parts, d).error, close_too_big);
    EXPECT_TRUE(d.kinds.empty());
}

TEST(ws_frame, the_reader_stops_when_the_connection_closes) {
    frame_reader r(1024);
    auto bytes = client_frame(0x81, "one") + client_frame(0x81, "two");
    int seen = 0;
    const auto res = r.read(std::span<char>(bytes.data(), bytes.size()), [&](const event&) {
        ++seen;
        return false; // the session closed the connection on the first message
    });
    EXPECT_EQ(seen, 1);
    EXPECT_LT(res.consumed, bytes.size());
}

} // namespace
} // namespace gyre::transport::ws
