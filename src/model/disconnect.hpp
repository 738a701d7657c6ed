// File: model/disconnect.hpp
// Why a connection is closed: Centrifugo's disconnect code and reason, sent in the close frame
// (WebSocket) or a disconnect push. Codes 3500+ tell clients not to reconnect.
#pragma once

#include <cstdint>
#include <string_view>

namespace gyre::model {

struct disconnect {
    std::uint32_t code = 3000;
    std::string_view reason = "connection closed";

    bool reconnect() const noexcept {
        return code < 3500 || code >= 5000 || (code >= 4000 && code < 4500);
    }
};

namespace disconnects {
inline constexpr disconnect connection_closed{3000, "connection closed"};
inline constexpr disconnect shutdown{3001, "shutdown"};
inline constexpr disconnect server_error{3004, "internal server error"};
inline constexpr disconnect expired{3005, "connection expired"};
inline constexpr disconnect subscription_expired{3006, "subscription expired"};
inline constexpr disconnect slow{3008, "slow"};
inline constexpr disconnect write_error{3009, "write error"};
inline constexpr disconnect insufficient_state{3010, "insufficient state"};
inline constexpr disconnect force_reconnect{3011, "force reconnect"};
inline constexpr disconnect no_pong{3012, "no pong"};
inline constexpr disconnect too_many_requests{3013, "too many requests"};
inline constexpr disconnect state_invalidated{3014, "state invalidated"};
inline constexpr disconnect invalid_token{3500, "invalid token"};
inline constexpr disconnect bad_request{3501, "bad request"};
inline constexpr disconnect stale{3502, "stale"};
inline constexpr disconnect force_no_reconnect{3503, "force disconnect"};
inline constexpr disconnect connection_limit{3504, "connection limit"};
inline constexpr disconnect channel_limit{3505, "channel limit"};
inline constexpr disconnect inappropriate_protocol{3506, "inappropriate protocol"};
inline constexpr disconnect permission_denied{3507, "permission denied"};
inline constexpr disconnect not_available{3508, "not available"};
inline constexpr disconnect too_many_errors{3509, "too many errors"};
} // namespace disconnects

} // namespace gyre::model
