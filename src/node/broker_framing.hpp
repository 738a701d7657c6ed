// File: node/broker_framing.hpp
// Gyre's own framing for pushes that nodes exchange through a distributed broker (Redis, NATS)
// and that Centrifugo's payload formats cannot carry: "__gp:" + except_client + ":" + a bare
// protobuf Push. Used for join/leave on Redis and for control pushes that skip one connection
// (single_connection). Publications keep each broker's Centrifugo-compatible framing.
#pragma once

#include "protocol/client/messages.hpp"
#include "protocol/client/protobuf_codec.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gyre::node::detail {

inline constexpr std::string_view gyre_push_marker = "__gp:";

/// True when `payload` carries Gyre's push framing (a protobuf message never starts with '_').
inline bool is_gyre_push(std::string_view payload) noexcept {
    return payload.substr(0, gyre_push_marker.size()) == gyre_push_marker;
}

/// "__gp:<except_client>:<bare Push>".
inline std::string encode_gyre_push(const protocol::client::push& p,
                                    std::string_view except_client) {
    std::string payload(gyre_push_marker);
    payload += except_client;
    payload += ':';
    protocol::client::protobuf::append_push(payload,
                                            p,
                                            protocol::client::push_form::unidirectional,
                                            protocol::client::protobuf::framing::bare);
    return payload;
}

struct gyre_push {
    protocol::client::push push;
    std::string except_client;
};

/// Decodes what encode_gyre_push wrote; nullopt when malformed. The push's channel is the one
/// of the broker channel it arrived on, whatever the payload says.
inline std::optional<gyre_push> decode_gyre_push(std::string_view payload, std::string channel) {
    if (!is_gyre_push(payload)) {
        return std::nullopt;
    }
    payload.remove_prefix(gyre_push_marker.size());
    const auto colon = payload.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    auto decoded = protocol::client::protobuf::decode_push(payload.substr(colon + 1));
    if (!decoded) {
        return std::nullopt;
    }
    gyre_push out{std::move(*decoded), std::string(payload.substr(0, colon))};
    out.push.channel = std::move(channel);
    return out;
}

} // namespace gyre::node::detail
