// File: hub/hub.hpp
// One shard's channel -> local subscribers index. Shard-local: no locks. Broadcast is linear in
// the channel's local subscribers and does no I/O (each subscriber only enqueues).
#pragma once

#include "hub/prepared_push.hpp"
#include "hub/subscriber.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace gyre::hub {

class hub {
public:
    /// Returns true when `s` is the channel's first subscriber on this shard.
    bool add(const std::string& channel, subscriber* s);

    /// Returns true when the channel has no subscribers left on this shard.
    bool remove(const std::string& channel, subscriber* s);

    void broadcast(const prepared_push_ptr& p);

    std::size_t subscribers(const std::string& channel) const noexcept;

    std::size_t channels() const noexcept { return channels_.size(); }

    /// Subscriptions on this shard (the sum of every channel's local subscribers).
    std::size_t subscriptions() const noexcept { return subscriptions_; }

    /// Calls `f(channel, local subscribers)` for every channel with local subscribers.
    template <typename F>
    void for_each_channel(F&& f) const {
        for (const auto& [channel, subs] : channels_) {
            f(channel, subs.size());
        }
    }

private:
    std::unordered_map<std::string, std::vector<subscriber*>> channels_;
    std::size_t subscriptions_ = 0;
};

} // namespace gyre::hub
