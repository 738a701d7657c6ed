#include "core/base64.hpp"

#include <array>
#include <cstdint>

namespace gyre::base64 {
namespace {

constexpr std::string_view std_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode_with(std::string_view bytes, std::string_view alphabet, bool pad) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto at = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
    };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (at(i) << 16U) | (at(i + 1) << 8U) | at(i + 2);
        out += alphabet[(v >> 18U) & 63U];
        out += alphabet[(v >> 12U) & 63U];
        out += alphabet[(v >> 6U) & 63U];
        out += alphabet[v & 63U];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = at(i) << 16U;
        if (rest == 2) {
            v |= at(i + 1) << 8U;
        }
        out += alphabet[(v >> 18U) & 63U];
        out += alphabet[(v >> 12U) & 63U];
        if (rest == 2) {
            out += alphabet[(v >> 6U) & 63U];
        }
        if (pad) {
            out.append(rest == 1 ? 2 : 1, '=');
        }
    }
    return out;
}

std::optional<std::string> decode_with(std::string_view text, std::string_view alphabet) {
    std::array<int, 256> table{};
    table.fill(-1);
    for (std::size_t k = 0; k < alphabet.size(); ++k) {
        table[static_cast<unsigned char>(alphabet[k])] = static_cast<int>(k);
    }
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const int v = table[static_cast<unsigned char>(c)];
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6U) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU);
        }
    }
    return out;
}

} // namespace

std::string encode(std::string_view bytes) {
    return encode_with(bytes, std_alphabet, true);
}

std::string encode_url(std::string_view bytes) {
    return encode_with(bytes, url_alphabet, false);
}

std::optional<std::string> decode(std::string_view text) {
    return decode_with(text, std_alphabet);
}

std::optional<std::string> decode_url(std::string_view text) {
    return decode_with(text, url_alphabet);
}

} // namespace gyre::base64
