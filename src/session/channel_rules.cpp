#include "session/channel_rules.hpp"

#include <regex>

namespace gyre::session {
namespace {

std::string_view strip_private(const config::config& cfg, std::string_view channel) noexcept {
    const auto& prefix = cfg.channel.private_prefix;
    if (!prefix.empty() && channel.starts_with(prefix)) {
        channel.remove_prefix(prefix.size());
    }
    return channel;
}

} // namespace

std::string_view namespace_of(const config::config& cfg, std::string_view channel) noexcept {
    channel = strip_private(cfg, channel);
    const auto& boundary = cfg.channel.namespace_boundary;
    if (boundary.empty()) {
        return {};
    }
    const auto pos = channel.find(boundary);
    return pos == std::string_view::npos ? std::string_view{} : channel.substr(0, pos);
}

const config::channel_options* channel_options_for(const config::config& cfg,
                                                   std::string_view channel) noexcept {
    if (const auto* exact = cfg.find_exact_channel(channel); exact != nullptr) {
        return exact; // `channels` entry (Gyre extension)
    }
    const auto ns = namespace_of(cfg, channel);
    if (ns.empty()) {
        return &cfg.channel.without_namespace;
    }
    return cfg.find_namespace(ns);
}

bool is_private_channel(const config::config& cfg, std::string_view channel) noexcept {
    return !cfg.channel.private_prefix.empty() && channel.starts_with(cfg.channel.private_prefix);
}

bool is_valid_channel_name(const config::config& cfg,
                           const config::channel_options& opts,
                           std::string_view channel) {
    if (channel.empty() || channel.size() > static_cast<std::size_t>(cfg.channel.max_length)) {
        return false;
    }
    for (const char c : channel) {
        if (static_cast<unsigned char>(c) > 127) {
            return false;
        }
    }
    if (!opts.channel_regex.empty()) {
        auto rest = strip_private(cfg, channel);
        const auto ns = namespace_of(cfg, channel);
        if (!ns.empty()) {
            rest.remove_prefix(ns.size() + cfg.channel.namespace_boundary.size());
        }
        // Validated at start-up; compiled per check because regex channels are rare.
        const std::regex re(opts.channel_regex);
        return std::regex_search(rest.begin(), rest.end(), re);
    }
    return true;
}

bool is_user_limited(const config::config& cfg, std::string_view channel) noexcept {
    const auto& boundary = cfg.channel.user_boundary;
    return !boundary.empty() && channel.find(boundary) != std::string_view::npos;
}

bool user_allowed_in_channel(const config::config& cfg,
                             std::string_view channel,
                             std::string_view user) noexcept {
    const auto& boundary = cfg.channel.user_boundary;
    const auto pos = boundary.empty() ? std::string_view::npos : channel.rfind(boundary);
    if (pos == std::string_view::npos || user.empty()) {
        return false;
    }
    std::string_view users = channel.substr(pos + boundary.size());
    const auto& sep = cfg.channel.user_separator;
    while (true) {
        const auto next = sep.empty() ? std::string_view::npos : users.find(sep);
        if (users.substr(0, next) == user) {
            return true;
        }
        if (next == std::string_view::npos) {
            return false;
        }
        users.remove_prefix(next + sep.size());
    }
}

config::duration history_meta_ttl(const config::config& cfg,
                                  const config::channel_options& opts) noexcept {
    return opts.history_meta_ttl.count() > 0 ? opts.history_meta_ttl : cfg.channel.history_meta_ttl;
}

} // namespace gyre::session
