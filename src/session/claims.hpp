// File: session/claims.hpp
// Reading the token claims the protocol needs (info, b64info, channels, subs, expire_at) with
// their raw JSON bytes kept exact, so `info` reaches clients exactly as the backend wrote it.
#pragma once

#include "model/channel_override.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::session {

using channel_override = model::channel_override;

/// One entry of the `subs` claim (server-side subscription with options).
using server_subscription = model::server_subscription;

struct token_claims {
    std::optional<std::string> info;           ///< raw JSON of `info`, or decoded `b64info`
    std::optional<std::string> data;           ///< raw JSON of `data`, or decoded `b64data`
    std::vector<server_subscription> channels; ///< `channels`, or the entries of `subs`
    channel_override override_options;         ///< subscription tokens: `override`
    std::optional<std::string> channel;        ///< subscription tokens: `channel`
    std::optional<std::string> client;         ///< subscription tokens: `client`
    std::optional<std::int64_t> expire_at;
    bool malformed = false;
};

/// Parses the claims JSON once; unknown claims are ignored.
token_claims read_claims(std::string_view claims_json);

} // namespace gyre::session
