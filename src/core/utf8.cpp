#include "core/utf8.hpp"

namespace gyre::utf8 {

namespace {

constexpr unsigned char byte_at(std::string_view s, std::size_t i) noexcept {
    return static_cast<unsigned char>(s[i]);
}

} // namespace

std::size_t sequence_length(std::string_view s, std::size_t i) noexcept {
    // The lead byte gives the length and the range the second byte must fall in (which
    // excludes overlong forms, surrogates and code points above U+10FFFF).
    const unsigned char b0 = byte_at(s, i);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;
        hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        lo = b0 == 0xF0 ? 0x90 : 0x80;
        hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0; // a continuation byte, an overlong lead (C0, C1) or F5..FF
    }
    if (s.size() - i < len) {
        return 0;
    }
    const unsigned char b1 = byte_at(s, i + 1);
    if (b1 < lo || b1 > hi) {
        return 0;
    }
    for (std::size_t k = 2; k < len; ++k) {
        const unsigned char b = byte_at(s, i + k);
        if (b < 0x80 || b > 0xBF) {
            return 0;
        }
    }
    return len;
}

bool valid(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        if (byte_at(text, i) < 0x80) {
            ++i;
            continue;
        }
        const auto len = sequence_length(text, i);
        if (len == 0) {
            return false;
        }
        i += len;
    }
    return true;
}

} // namespace gyre::utf8
