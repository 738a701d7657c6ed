// File: transport/ws_frame.hpp
// RFC 6455 framing for the server side of a WebSocket, without I/O: the handshake's accept key,
// server frame headers (never masked) and an incremental reader of client frames (always
// masked) that unmasks in place, joins fragments, enforces the message size limit and reports
// protocol violations as the close code to send (a close frame with a code that may not appear on
// the wire, or a reason that is not UTF-8, is one). The connection (websocket.cpp) owns the socket.
#pragma once

#include "core/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gyre::transport::ws {

enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// Close codes the framing layer itself sends (the session sends its own 3xxx/4xxx codes).
inline constexpr std::uint16_t close_normal = 1000;
inline constexpr std::uint16_t close_protocol_error = 1002;
inline constexpr std::uint16_t close_too_big = 1009;

/// True for a code a peer may send in a close frame (RFC 6455 §7.4): the defined codes (1004
/// is reserved; 1005, 1006 and 1015 only report what happened and never travel), those IANA
/// added since (1012-1014), and the ranges for libraries and applications (3000-4999). 0-999,
/// the unassigned 1016-2999 and 5000+ are protocol errors.
constexpr bool valid_close_code(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view client_key);

/// True when `client_key` is the base64 of 16 bytes, as RFC 6455 requires.
bool valid_client_key(std::string_view client_key);

/// Largest server frame header: 2 bytes + 8 bytes of extended length.
inline constexpr std::size_t max_header_size = 10;

/// Writes a final, unmasked frame header for `payload_size` bytes into `out`; returns its size.
std::size_t write_header(opcode op, std::uint64_t payload_size, char* out) noexcept;

/// A whole close frame: code (omitted when 0) and reason (cut to fit a control frame, at a
/// character boundary).
std::string close_frame(std::uint16_t code, std::string_view reason);

/// A whole control frame (ping/pong) echoing `payload` (at most 125 bytes).
std::string control_frame(opcode op, std::string_view payload);

/// What the reader found in the bytes it was given.
struct event {
    enum class kind : std::uint8_t { message, ping, pong, close };
    kind what = kind::message;
    bool binary = false;           ///< message: binary (true) or text
    std::string_view payload{};    ///< message or ping/pong payload; valid during the callback
    std::uint16_t close_code = 0;  ///< close: the peer's code (0: none given)
    std::string_view close_reason; ///< close: the peer's reason
};

class frame_reader {
public:
    explicit frame_reader(std::size_t max_message) noexcept
        : max_message_(max_message) {}

    struct result {
        std::size_t consumed = 0; ///< bytes of whole frames; the rest is an incomplete frame
        std::uint16_t error = 0;  ///< close code to send for a violation (0: none)
        bool peer_closed = false; ///< the violation was in the peer's own close frame
    };

    /// Reads every whole frame at the start of `data` (unmasking it in place) and calls
    /// `on_event(const event&)` for each complete message and control frame; `on_event`
    /// returns false to stop early (the connection closed). Bytes of an incomplete frame are
    /// left unconsumed: pass them again, followed by more, on the next call.
    template <typename OnEvent>
    result read(std::span<char> data, OnEvent&& on_event);

    /// True when no fragmented message is half received.
    bool idle() const noexcept { return !in_message_; }

private:
    struct header {
        bool fin = false;
        opcode op = opcode::continuation;
        std::size_t header_size = 0;
        std::uint64_t payload_size = 0;
        char mask[4] = {};
    };
    enum class parse { ok, need_more, violation };
    static parse parse_header(std::span<const char> data, header& h) noexcept;
    std::uint16_t check(const header& h) const noexcept;

    std::size_t max_message_;
    std::string fragments_; ///< a fragmented message so far
    bool in_message_ = false;
    bool fragments_binary_ = false;
};

void unmask(char* data, std::size_t size, const char mask[4]) noexcept;

template <typename OnEvent>
frame_reader::result frame_reader::read(std::span<char> data, OnEvent&& on_event) {
    result r;
    while (r.consumed < data.size()) {
        header h;
        const auto rest = data.subspan(r.consumed);
        switch (parse_header(rest, h)) {
        case parse::need_more:
            return r;
        case parse::violation:
            r.error = close_protocol_error;
            return r;
        case parse::ok:
            break;
        }
        if (const auto code = check(h); code != 0) {
            r.error = code;
            return r;
        }
        if (rest.size() - h.header_size < h.payload_size) {
            return r; // the payload is still on its way
        }
        char* payload = rest.data() + h.header_size;
        const auto size = static_cast<std::size_t>(h.payload_size);
        unmask(payload, size, h.mask);
        r.consumed += h.header_size + size;
        const std::string_view bytes(payload, size);
        event e;
        bool go_on = true;
        switch (h.op) {
        case opcode::text:
        case opcode::binary:
            if (h.fin) {
                e.binary = h.op == opcode::binary;
                e.payload = bytes;
                go_on = on_event(static_cast<const event&>(e));
            } else {
                in_message_ = true;
                fragments_binary_ = h.op == opcode::binary;
                fragments_.assign(bytes);
            }
            break;
        case opcode::continuation:
            fragments_.append(bytes);
            if (h.fin) {
                in_message_ = false;
                e.binary = fragments_binary_;
                e.payload = fragments_;
                go_on = on_event(static_cast<const event&>(e));
                fragments_.clear();
                fragments_.shrink_to_fit();
            }
            break;
        case opcode::ping:
        case opcode::pong:
            e.what = h.op == opcode::ping ? event::kind::ping : event::kind::pong;
            e.payload = bytes;
            go_on = on_event(static_cast<const event&>(e));
            break;
        case opcode::close:
            if (size == 1) {
                r.error = close_protocol_error;
                return r;
            }
            e.what = event::kind::close;
            if (size >= 2) {
                e.close_code =
                    static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                               static_cast<unsigned char>(payload[1]));
                e.close_reason = bytes.substr(2);
                if (!valid_close_code(e.close_code) || !utf8::valid(e.close_reason)) {
                    r.error = close_protocol_error; // the frame is consumed: the peer closed
                    r.peer_closed = true;
                    return r;
                }
            }
            go_on = on_event(static_cast<const event&>(e));
            break;
        }
        if (!go_on) {
            return r;
        }
    }
    return r;
}

} // namespace gyre::transport::ws
