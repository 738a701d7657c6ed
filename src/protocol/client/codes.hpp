// File: protocol/client/codes.hpp
// Every code the client protocol defines (spec protocol.md §4): Reply.error codes with their
// messages and temporary flags, Unsubscribe push codes, and disconnect codes with their reason
// text and reconnect advice. Use the constexpr values; never invent reason strings elsewhere.
#pragma once

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

/// One disconnect kind (§4.3): sent as the WebSocket close code + reason, or as a disconnect
/// push on emulation and unidirectional transports. `reconnect` is the advice implied by the
/// code range (3000-3499 and 4000-4499 reconnect, 3500-3999 and 4500-4999 do not).
struct disconnect_code_info {
    std::uint32_t code;
    std::string_view reason;
    bool reconnect;

    disconnect_push to_push() const { return disconnect_push{code, std::string(reason), false}; }
};

/// Reconnect advice for any disconnect code, as the SDKs compute it (§4.3, §10.7).
constexpr bool disconnect_reconnects(std::uint32_t code) noexcept {
    return code < 3500 || code >= 5000 || (code >= 4000 && code < 4500);
}

namespace disconnects {
/// Plain close: no close frame / code is sent, the connection is just dropped.
inline constexpr disconnect_code_info connection_closed{3000, "connection closed", true};
inline constexpr disconnect_code_info shutdown{3001, "shutdown", true};
inline constexpr disconnect_code_info server_error{3004, "internal server error", true};
inline constexpr disconnect_code_info expired{3005, "connection expired", true};
inline constexpr disconnect_code_info subscription_expired{3006, "subscription expired", true};
/// Outgoing queue above client.queue_max_size.
inline constexpr disconnect_code_info slow{3008, "slow", true};
inline constexpr disconnect_code_info write_error{3009, "write error", true};
inline constexpr disconnect_code_info insufficient_state{3010, "insufficient state", true};
inline constexpr disconnect_code_info force_reconnect{3011, "force reconnect", true};
inline constexpr disconnect_code_info no_pong{3012, "no pong", true};
inline constexpr disconnect_code_info too_many_requests{3013, "too many requests", true};
/// JS >= 5.6 / Centrifugo >= 6.8: client also drops its token and cached positions.
inline constexpr disconnect_code_info state_invalidated{3014, "state invalidated", true};
inline constexpr disconnect_code_info invalid_token{3500, "invalid token", false};
inline constexpr disconnect_code_info bad_request{3501, "bad request", false};
inline constexpr disconnect_code_info stale{3502, "stale", false};
/// Centrifuge's default when a disconnect is requested without a code.
inline constexpr disconnect_code_info force_no_reconnect{3503, "force disconnect", false};
inline constexpr disconnect_code_info connection_limit{3504, "connection limit", false};
inline constexpr disconnect_code_info channel_limit{3505, "channel limit", false};
/// E.g. a JSON client would receive a payload that is not valid JSON.
inline constexpr disconnect_code_info inappropriate_protocol{3506, "inappropriate protocol", false};
inline constexpr disconnect_code_info permission_denied{3507, "permission denied", false};
inline constexpr disconnect_code_info not_available{3508, "not available", false};
inline constexpr disconnect_code_info too_many_errors{3509, "too many errors", false};
} // namespace disconnects

} // namespace gyre::protocol::client
