// File: node/user_command.hpp
// Server-side actions on a user's live connections (server API subscribe, unsubscribe,
// disconnect, refresh). A command is a plain value so that it can later travel to other nodes
// over the broker's control channel; on each node it is applied to the user's local
// connections on every shard.
#pragma once

#include "model/channel_override.hpp"
#include "protocol/client/messages.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gyre::node {

/// Subscribe the user's connections to `channel` (a server-side subscription).
struct subscribe_action {
    std::string channel;
    std::string chan_info; ///< raw JSON (or bytes); empty = none
    std::string data;      ///< sent in the subscribe push
    std::int64_t expire_at = 0;
    model::channel_override override_options;
    std::optional<protocol::client::stream_position> recover_since;
};

/// Unsubscribe from `channel`, or from every channel when it is empty.
struct unsubscribe_action {
    std::string channel;
};

struct disconnect_action {
    std::uint32_t code = 3503;
    std::string reason = "force disconnect";
};

struct refresh_action {
    bool expired = false;
    std::int64_t expire_at = 0; ///< unix seconds; 0 = the connection no longer expires
    std::string info;           ///< new connection info; empty = keep
};

struct user_command {
    std::string user; ///< "" targets anonymous connections
    std::string client;
    std::string session;
    std::vector<std::string> whitelist; ///< client ids left alone (disconnect)
    std::variant<subscribe_action, unsubscribe_action, disconnect_action, refresh_action> action;
};

/// What the node knows of a connection it can run user commands on. Implemented by sessions;
/// called only on the connection's own shard.
class user_connection {
public:
    virtual const std::string& client_id() const noexcept = 0;
    virtual const std::string& session_id() const noexcept = 0;
    virtual void apply(const user_command& cmd) = 0;

protected:
    user_connection() = default;
    user_connection(const user_connection&) = default;
    user_connection& operator=(const user_connection&) = default;
    ~user_connection() = default;
};

} // namespace gyre::node
