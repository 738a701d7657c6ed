// File: core/strings.hpp
// Small string helpers shared by config, CLI and HTTP code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::strings {

std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::vector<std::string> split_whitespace(std::string_view s);

/// Centrifugo's origin patterns: '*' matches any run of characters, comparison is case-insensitive.
bool glob_match(std::string_view pattern, std::string_view text);

/// The value of a hexadecimal digit, or -1.
constexpr int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// Decodes %XX escapes and '+' (form encoding) in a URL query component.
std::string percent_decode(std::string_view s);

/// The first parameter `name` of a URL query string (the part after '?'), percent-decoded;
/// nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

/// Compares in time independent of where the inputs first differ (API keys, passwords).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace gyre::strings
