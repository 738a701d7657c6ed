#include "transport/ws_frame.hpp"

#include "core/base64.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace gyre::transport::ws {

std::string accept_key(std::string_view client_key) {
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string text;
    text.reserve(client_key.size() + guid.size());
    text.append(client_key).append(guid);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    return base64::encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool valid_client_key(std::string_view client_key) {
    const auto decoded = base64::decode(client_key);
    return decoded && decoded->size() == 16;
}

std::size_t write_header(opcode op, std::uint64_t payload_size, char* out) noexcept {
    out[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
    if (payload_size < 126) {
        out[1] = static_cast<char>(payload_size);
        return 2;
    }
    if (payload_size <= 0xFFFF) {
        out[1] = 126;
        out[2] = static_cast<char>(payload_size >> 8);
        out[3] = static_cast<char>(payload_size);
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; ++i) {
        out[2 + i] = static_cast<char>(payload_size >> (56 - 8 * i));
    }
    return 10;
}

std::string control_frame(opcode op, std::string_view payload) {
    payload = payload.substr(0, 125);
    std::string frame(max_header_size, '\0');
    frame.resize(write_header(op, payload.size(), frame.data()));
    frame.append(payload);
    return frame;
}

std::string close_frame(std::uint16_t code, std::string_view reason) {
    if (code == 0) {
        return control_frame(opcode::close, {});
    }
    std::string body;
    body.push_back(static_cast<char>(code >> 8));
    body.push_back(static_cast<char>(code & 0xFF));
    // A control frame carries at most 125 bytes; a cut inside a character would make the
    // reason invalid UTF-8, which the peer must treat as a protocol error.
    std::size_t n = std::min<std::size_t>(reason.size(), 123);
    while (n < reason.size() && n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) {
        --n;
    }
    body.append(reason.substr(0, n));
    return control_frame(opcode::close, body);
}

void unmask(char* data, std::size_t size, const char mask[4]) noexcept {
    // Eight bytes at a time: the payload of a large message is the only byte loop on the
    // read path.
    std::uint64_t wide;
    char pattern[8];
    for (int i = 0; i < 8; ++i) {
        pattern[i] = mask[i % 4];
    }
    std::memcpy(&wide, pattern, 8);
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t chunk;
        std::memcpy(&chunk, data + i, 8);
        chunk ^= wide;
        std::memcpy(data + i, &chunk, 8);
    }
    for (; i < size; ++i) {
        data[i] = static_cast<char>(data[i] ^ mask[i % 4]);
    }
}

frame_reader::parse frame_reader::parse_header(std::span<const char> data, header& h) noexcept {
    if (data.size() < 2) {
        return parse::need_more;
    }
    const auto b0 = static_cast<unsigned char>(data[0]);
    const auto b1 = static_cast<unsigned char>(data[1]);
    if ((b0 & 0x70) != 0) {
        return parse::violation; // RSV bits: no extension was negotiated
    }
    if ((b1 & 0x80) == 0) {
        return parse::violation; // client frames must be masked
    }
    h.fin = (b0 & 0x80) != 0;
    const auto op = b0 & 0x0F;
    switch (op) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
        h.op = static_cast<opcode>(op);
        break;
    default:
        return parse::violation;
    }
    std::size_t pos = 2;
    std::uint64_t len = b1 & 0x7F;
    if (len == 126 || len == 127) {
        const std::size_t extra = len == 126 ? 2 : 8;
        if (data.size() < pos + extra) {
            return parse::need_more;
        }
        len = 0;
        for (std::size_t i = 0; i < extra; ++i) {
            len = (len << 8) | static_cast<unsigned char>(data[pos + i]);
        }
        pos += extra;
        if (extra == 8 && (len >> 63) != 0) {
            return parse::violation;
        }
    }
    if (data.size() < pos + 4) {
        return parse::need_more;
    }
    std::memcpy(h.mask, data.data() + pos, 4);
    h.header_size = pos + 4;
    h.payload_size = len;
    return parse::ok;
}

std::uint16_t frame_reader::check(const header& h) const noexcept {
    const bool control = (static_cast<std::uint8_t>(h.op) & 0x8) != 0;
    if (control) {
        return (!h.fin || h.payload_size > 125) ? close_protocol_error : 0;
    }
    if (h.op == opcode::continuation ? !in_message_ : in_message_) {
        return close_protocol_error; // a continuation out of nowhere, or a message inside one
    }
    const std::uint64_t so_far = h.op == opcode::continuation ? fragments_.size() : 0;
    if (h.payload_size > max_message_ || so_far + h.payload_size > max_message_) {
        return close_too_big;
    }
    return 0;
}

} // namespace gyre::transport::ws
