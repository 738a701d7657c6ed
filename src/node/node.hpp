// File: node/node.hpp
// Node-wide channel state on top of the per-shard hubs. Each channel has a home shard
// (hash % shards) that owns which shards have subscribers and the channel's memory presence, so
// every change to a channel is ordered by one thread without locks. Publications go to the home
// shard, which forwards one prepared push to each shard that has subscribers.
#pragma once

#include "core/unique_function.hpp"
#include "hub/hub.hpp"
#include "node/broker.hpp"
#include "protocol/client/messages.hpp"
#include "runtime/shard_set.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace gyre::node {

using presence_map = std::map<std::string, protocol::client::client_info>;

struct presence_counts {
    std::uint32_t num_clients = 0;
    std::uint32_t num_users = 0;
};

class node {
public:
    /// Uses the memory broker (this node only) unless another broker is given.
    explicit node(runtime::shard_set& shards, std::unique_ptr<broker> b = nullptr);
    ~node();

    runtime::shard_set& shards() noexcept { return shards_; }

    /// The hub of `shard`; use only on that shard's thread.
    hub::hub& local_hub(std::size_t shard) noexcept { return *hubs_[shard]; }

    std::size_t home(std::string_view channel) const noexcept;

    /// Shard-local (call on `shard`): adds `s` to the channel and runs `done` on `shard` once the
    /// home shard knows this shard has subscribers, so no later publication can miss `s`.
    void subscribe(std::size_t shard,
                   const std::string& channel,
                   hub::subscriber* s,
                   unique_function<void()> done);

    /// Shard-local: removes `s`; the home shard is told lazily when the shard's last one leaves.
    void unsubscribe(std::size_t shard, const std::string& channel, hub::subscriber* s);

    /// Any thread: publishes `p` through the broker to every subscriber of its channel, in
    /// publish order per channel. `done` runs on `origin` once the broker accepted it.
    void publish(std::size_t origin, hub::prepared_push_ptr p, unique_function<void()> done);

    /// Home-shard only (called by brokers): forwards `p` to every shard with subscribers.
    void fan_out(const hub::prepared_push_ptr& p);

    /// Runs `fn` on the home shard of `channel`.
    void on_home(const std::string& channel, unique_function<void()> fn);

    /// Presence (memory): add/remove run on the channel's home shard; reads answer on `origin`.
    void presence_add(const std::string& channel,
                      const std::string& client,
                      protocol::client::client_info info);
    void presence_remove(const std::string& channel, const std::string& client);
    void presence(std::size_t origin,
                  const std::string& channel,
                  unique_function<void(presence_map)> done);
    void presence_stats(std::size_t origin,
                        const std::string& channel,
                        unique_function<void(presence_counts)> done);

    /// Node-wide connection counts per user (user_connection_limit). Thread-safe.
    std::size_t add_user_connection(const std::string& user);
    void remove_user_connection(const std::string& user);

private:
    struct channel_home {
        std::vector<std::uint32_t> shard_subscribers; // per shard: 0 or 1 (has local subscribers)
        presence_map presence;
    };

    struct local_channel {
        std::uint64_t generation = 0; // tells a stale home acknowledgement from the current one
        bool acknowledged = false;
        std::vector<unique_function<void()>> waiting;
    };

    struct shard_state {
        std::unordered_map<std::string, channel_home> homes;  // channels homed here
        std::unordered_map<std::string, local_channel> local; // channels with local subscribers
        std::uint64_t next_generation = 1;
    };

    void on_home(std::size_t home_shard, unique_function<void()> fn);

    runtime::shard_set& shards_;
    std::unique_ptr<broker> broker_;
    std::vector<std::unique_ptr<hub::hub>> hubs_;
    std::vector<std::unique_ptr<shard_state>> states_;
    std::mutex users_mutex_;
    std::unordered_map<std::string, std::size_t> user_connections_;
};

} // namespace gyre::node
