#include "session/connect_channels.hpp"

#include "session/channel_rules.hpp"

namespace gyre::session {

namespace {

bool may_subscribe_unasked(const config::config& cfg,
                           const config::channel_options& opts,
                           const std::string& channel,
                           std::string_view user) {
    if (is_private_channel(cfg, channel) || opts.subscribe_proxy_enabled ||
        !is_valid_channel_name(cfg, opts, channel)) {
        return false;
    }
    const bool user_limited = opts.allow_user_limited_channels && is_user_limited(cfg, channel);
    if (user_limited && !user.empty() && user_allowed_in_channel(cfg, channel, user)) {
        return true;
    }
    if (opts.allow_subscribe_for_client && (!user.empty() || opts.allow_subscribe_for_anonymous) &&
        !user_limited) {
        return true;
    }
    return cfg.client.insecure;
}

} // namespace

connect_channels
grant_connect_channels(const config::config& cfg,
                       const std::map<std::string, protocol::client::subscribe_request>& requested,
                       std::string_view user) {
    connect_channels out;
    for (const auto& [channel, sub] : requested) {
        const auto* opts = channel_options_for(cfg, channel);
        if (opts == nullptr) {
            out.unknown_namespace = true;
            out.granted.clear();
            return out;
        }
        if (may_subscribe_unasked(cfg, *opts, channel, user)) {
            out.granted.push_back(channel);
        }
    }
    return out;
}

} // namespace gyre::session
