// File: session/connect_channels.hpp
// The channels a client names in its connect request (`subs`) that it gets as server-side
// subscriptions. Unidirectional clients have no other way to subscribe; bidirectional ones name
// the server-side channels they want recovered. As Centrifugo's client handler, a channel is
// granted when the client could subscribe to it on its own, without a token or a backend: not
// private, no subscribe proxy, a valid name, and a user-limited channel listing the user, or
// allow_subscribe_for_client (anonymous only with allow_subscribe_for_anonymous), or
// client.insecure. Other channels are left out silently; a channel of an unknown namespace
// makes the whole connect a bad request.
#pragma once

#include "config/config.hpp"
#include "protocol/client/messages.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::session {

struct connect_channels {
    std::vector<std::string> granted;
    bool unknown_namespace = false; ///< the connect must be refused with 3501
};

/// Applies the rules above to the channels of `requested` (a connect request's `subs`) for
/// `user` ("" for anonymous).
connect_channels
grant_connect_channels(const config::config& cfg,
                       const std::map<std::string, protocol::client::subscribe_request>& requested,
                       std::string_view user);

} // namespace gyre::session
