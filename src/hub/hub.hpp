// File: hub/hub.hpp
// One shard's channel -> local subscribers index. Shard-local: no locks. Broadcast is linear in
// the channel's local subscribers and does no I/O (each subscriber only enqueues).
#pragma once

#include "hub/prepared_push.hpp"
#include "hub/subscriber.hpp"

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gyre::hub {

class hub {
public:
    /// `schedule_flush` (optional) makes flush_batches() run later on this shard's loop, after
    /// the work already queued: with it, publications to a channel with several local
    /// subscribers are gathered per loop turn and each subscriber gets them as one message.
    /// Without it every push is delivered at once.
    explicit hub(std::function<void()> schedule_flush = {});

    /// Returns true when `s` is the channel's first subscriber on this shard.
    bool add(const std::string& channel, subscriber* s);

    /// Returns true when the channel has no subscribers left on this shard.
    bool remove(const std::string& channel, subscriber* s);

    /// Hands `p` to the channel's local subscribers: at once, or (publications, with
    /// batching on) at the end of the loop turn together with the turn's other publications of
    /// the channel. A join/leave/control push first delivers the channel's gathered batch, so
    /// every subscriber sees the channel's pushes in order.
    void broadcast(const prepared_push_ptr& p);

    /// Delivers every gathered batch (the end of a loop turn).
    void flush_batches();

    std::size_t subscribers(const std::string& channel) const noexcept;

    std::size_t channels() const noexcept { return channels_.size(); }

    /// Subscriptions on this shard (the sum of every channel's local subscribers).
    std::size_t subscriptions() const noexcept { return subscriptions_; }

    /// Calls `f(channel, local subscribers)` for every channel with local subscribers.
    template <typename F>
    void for_each_channel(F&& f) const {
        for (const auto& [channel, entry] : channels_) {
            f(channel, entry.subscribers.size());
        }
    }

private:
    static constexpr std::size_t no_batch = static_cast<std::size_t>(-1);

    struct channel_entry {
        std::vector<subscriber*> subscribers;
        std::size_t batch = no_batch;    ///< index in batches_ while publications are gathered
        std::uint64_t last_sequence = 0; ///< the home shard's stamp of the last push seen
    };

    /// Per-channel order is an invariant of the node (one home shard stamps, FIFO inboxes
    /// carry): a push older than one already seen is counted and logged, never reordered here.
    static void check_order(channel_entry& entry, const prepared_push& p);

    void deliver(channel_entry& entry, push_batch& batch);

    std::unordered_map<std::string, channel_entry> channels_;
    std::size_t subscriptions_ = 0;
    std::function<void()> schedule_flush_;
    std::vector<std::pair<std::string, push_batch>> batches_;  ///< this turn's, by channel
    std::vector<std::pair<std::string, push_batch>> flushing_; ///< kept for its capacity
};

} // namespace gyre::hub
