// File: core/utf8.hpp
// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), shared
// by the JSON codecs (strings in and out) and the WebSocket reader (close reasons). No Asio.
#pragma once

#include <cstddef>
#include <string_view>

namespace gyre::utf8 {

/// Length of the well-formed sequence that starts with the non-ASCII byte s[i], or 0 when it is
/// malformed or cut short.
std::size_t sequence_length(std::string_view s, std::size_t i) noexcept;

/// True when all of `text` is well-formed UTF-8.
bool valid(std::string_view text) noexcept;

} // namespace gyre::utf8
