// File: model/channel_override.hpp
// Channel options that a token (`override` in `subs` entries and subscription tokens), the
// connect proxy or a server API `subscribe` can override for one subscription. Unset options
// keep the namespace's value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gyre::model {

struct channel_override {
    std::optional<bool> presence;
    std::optional<bool> join_leave;
    std::optional<bool> force_push_join_leave;
    std::optional<bool> force_recovery;
    std::optional<bool> force_positioning;
};

/// A subscription the server grants without a subscribe command: the connection token's
/// `channels`/`subs`, or a connect proxy's result. Payloads are raw JSON (or decoded b64 bytes).
struct server_subscription {
    std::string channel;
    std::optional<std::string> info;
    std::optional<std::string> data;
    channel_override override_options;
    std::int64_t expire_at = 0; ///< unix seconds, 0 = never
};

} // namespace gyre::model
