// File: protocol/client/codes.hpp
// Every code the client protocol defines (spec protocol.md §4): Reply.error codes with their
// messages and temporary flags, Unsubscribe push codes, and disconnect codes with their reason
// text and reconnect advice. Use the constexpr values; never invent reason strings elsewhere.
#pragma once

#include "model/disconnect.hpp"
#include "protocol/client/messages.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace gyre::protocol::client {

/// One Reply.error kind (§4.1). `to_error()` gives the value to put into a reply.
struct error_code_info {
    std::uint32_t code;
    std::string_view message;
    bool temporary;

    error to_error() const { return error{code, std::string(message), temporary}; }
};

namespace errors {
inline constexpr error_code_info internal{100, "internal server error", true};
inline constexpr error_code_info unauthorized{101, "unauthorized", false};
inline constexpr error_code_info unknown_channel{102, "unknown channel", false};
inline constexpr error_code_info permission_denied{103, "permission denied", false};
inline constexpr error_code_info method_not_found{104, "method not found", false};
inline constexpr error_code_info already_subscribed{105, "already subscribed", false};
inline constexpr error_code_info limit_exceeded{106, "limit exceeded", false};
inline constexpr error_code_info bad_request{107, "bad request", false};
inline constexpr error_code_info not_available{108, "not available", false};
inline constexpr error_code_info token_expired{109, "token expired", false};
inline constexpr error_code_info expired{110, "expired", false};
inline constexpr error_code_info too_many_requests{111, "too many requests", true};
inline constexpr error_code_info unrecoverable_position{112, "unrecoverable position", false};
/// Map-subscription pagination (Centrifugo >= 6.8 only).
inline constexpr error_code_info concurrent_pagination{113, "concurrent pagination", true};

/// The entry for `code`, or nullptr when the code is not one of the library codes above
/// (applications may use 400-1999).
constexpr const error_code_info* find(std::uint32_t code) noexcept {
    constexpr std::array<const error_code_info*, 14> all = {&internal,
                                                            &unauthorized,
                                                            &unknown_channel,
                                                            &permission_denied,
                                                            &method_not_found,
                                                            &already_subscribed,
                                                            &limit_exceeded,
                                                            &bad_request,
                                                            &not_available,
                                                            &token_expired,
                                                            &expired,
                                                            &too_many_requests,
                                                            &unrecoverable_position,
                                                            &concurrent_pagination};
    for (const auto* e : all) {
        if (e->code == code) {
            return e;
        }
    }
    return nullptr;
}
} // namespace errors

/// One Unsubscribe push kind (§4.2). Codes >= 2500 make the client resubscribe.
struct unsubscribe_code_info {
    std::uint32_t code;
    std::string_view reason;

    constexpr bool resubscribe() const noexcept { return code >= 2500; }

    unsubscribe_push to_push() const { return unsubscribe_push{code, std::string(reason)}; }
};

namespace unsubscribe_codes {
/// Server-internal (never sent on the wire).
inline constexpr unsubscribe_code_info client_unsubscribed{0, "client unsubscribed"};
/// Server-internal (never sent on the wire).
inline constexpr unsubscribe_code_info client_disconnected{1, "client disconnected"};
inline constexpr unsubscribe_code_info server{2000, "server unsubscribe"};
inline constexpr unsubscribe_code_info insufficient_state{2500, "insufficient state"};
inline constexpr unsubscribe_code_info expired{2501, "subscription expired"};
/// JS >= 5.6 / Centrifugo >= 6.8: client drops token and position, then resubscribes.
inline constexpr unsubscribe_code_info state_invalidated{2502, "state invalidated"};
} // namespace unsubscribe_codes

/// The disconnect push for emulation and unidirectional transports. The codes and reasons
/// themselves live in model/disconnect.hpp (one list for every layer).
inline disconnect_push to_push(const model::disconnect& d) {
    return disconnect_push{d.code, std::string(d.reason), false};
}

} // namespace gyre::protocol::client
