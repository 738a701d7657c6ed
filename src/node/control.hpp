// File: node/control.hpp
// What nodes tell each other over a distributed broker's control channel: server-side user
// commands (API subscribe, unsubscribe, disconnect, refresh), so that they reach a user's
// connections on every node. A Gyre-only JSON format (nodes of one cluster run one version).
#pragma once

#include "node/node.hpp"
#include "node/user_command.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gyre::node {

std::string encode_user_command(const user_command& cmd);

/// std::nullopt for anything that is not a well-formed command (logged by the caller).
std::optional<user_command> decode_user_command(std::string_view text);

std::string encode_peer_info(const peer_info& info);

/// A node's answer to a channels survey: {"channel": subscribers, ...}.
std::string encode_channel_counts(const channel_counts& counts);
std::optional<channel_counts> decode_channel_counts(std::string_view text);
std::optional<peer_info> decode_peer_info(std::string_view text);

} // namespace gyre::node
