// File: api/errors.hpp
// The errors the server API can answer with (Centrifugo's codes and messages) and the HTTP
// status each maps to in the transport error mode.
#pragma once

#include <cstdint>
#include <string_view>

namespace gyre::api {

struct error {
    std::uint32_t code = 0;
    std::string_view message;

    bool operator==(const error&) const = default;
};

namespace errors {
inline constexpr error internal{100, "internal server error"};
inline constexpr error unknown_channel{102, "unknown channel"};
inline constexpr error not_found{104, "not found"};
inline constexpr error bad_request{107, "bad request"};
inline constexpr error not_available{108, "not available"};
inline constexpr error unrecoverable_position{112, "unrecoverable position"};
inline constexpr error conflict{113, "conflict"};
} // namespace errors

/// The HTTP status of an error in the transport error mode.
constexpr unsigned http_status(const error& e) noexcept {
    switch (e.code) {
    case 102:
    case 104:
        return 404;
    case 107:
    case 108:
        return 400;
    case 112:
        return 416;
    case 113:
        return 409;
    default:
        return 500;
    }
}

} // namespace gyre::api
