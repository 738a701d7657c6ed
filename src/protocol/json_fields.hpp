// File: protocol/json_fields.hpp
// Reading the JSON objects a backend writes (token claims, proxy results): payload fields with
// their exact source bytes (`info`, `data`: embedded as is, never re-serialised), `b64` twins,
// channel option overrides and server-side subscription entries. simdjson on-demand values.
#pragma once

#include "model/channel_override.hpp"

#include <optional>
#include <simdjson.h>
#include <string>
#include <string_view>

namespace gyre::protocol::json_fields {

/// The exact source bytes of any JSON value, trailing whitespace trimmed.
bool trimmed_raw(simdjson::ondemand::value value, std::string& out);

/// `{"presence": {"value": true}, ...}` (Centrifugo's BoolValue wrappers) into `out`.
void read_override(simdjson::ondemand::value value, model::channel_override& out);

/// One server-side subscription entry (`info`/`b64info`, `data`/`b64data`, `override`,
/// `expire_at`) for `channel`.
void read_subscription(std::string_view channel,
                       simdjson::ondemand::value value,
                       model::server_subscription& out);

/// base64 text decoded, or nullopt (absent or not base64).
std::optional<std::string> decoded(const std::optional<std::string>& b64);

} // namespace gyre::protocol::json_fields
