// File: core/base64.hpp
// Standard and URL-safe base64 (RFC 4648). Decoding accepts input with or without padding
// and reports malformed input as std::nullopt, so callers turn it into their own error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gyre::base64 {

std::string encode(std::string_view bytes);
std::string encode_url(std::string_view bytes); ///< no padding, as JWTs use
std::optional<std::string> decode(std::string_view text);
std::optional<std::string> decode_url(std::string_view text);

} // namespace gyre::base64
