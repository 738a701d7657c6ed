// File: session/channel_rules.hpp
// Centrifugo's channel naming rules: namespace lookup ("ns:rest"), private prefix ("$"),
// user-limited channels ("rest#user1,user2"), maximum length and channel_regex. Pure functions
// over a config snapshot, shared by client commands and (later) the server API.
#pragma once

#include "config/config.hpp"

#include <string_view>

namespace gyre::session {

/// The options of the channel's namespace, or nullptr when the namespace does not exist.
const config::channel_options* channel_options_for(const config::config& cfg,
                                                   std::string_view channel) noexcept;

/// The namespace name of `channel` ("" for channels without one).
std::string_view namespace_of(const config::config& cfg, std::string_view channel) noexcept;

bool is_private_channel(const config::config& cfg, std::string_view channel) noexcept;

/// Length, ASCII and channel_regex (on the part after "ns:") checks; false means error 107.
bool is_valid_channel_name(const config::config& cfg,
                           const config::channel_options& opts,
                           std::string_view channel);

/// True when the channel is user-limited ("...#a,b") and `user` is one of the listed users.
bool user_allowed_in_channel(const config::config& cfg,
                             std::string_view channel,
                             std::string_view user) noexcept;

bool is_user_limited(const config::config& cfg, std::string_view channel) noexcept;

/// How long a channel's stream position outlives its last use: the namespace's
/// history_meta_ttl, else channel.history_meta_ttl.
config::duration history_meta_ttl(const config::config& cfg,
                                  const config::channel_options& opts) noexcept;

} // namespace gyre::session
