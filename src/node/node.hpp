// File: node/node.hpp
// Node-wide channel state on top of the per-shard hubs. Each channel has a home shard
// (hash % shards) that owns which shards have subscribers and the channel's memory presence, so
// every change to a channel is ordered by one thread without locks. Publications go to the home
// shard, which forwards one prepared push to each shard that has subscribers.
#pragma once

#include "core/process_usage.hpp"
#include "core/unique_function.hpp"
#include "hub/hub.hpp"
#include "node/broker.hpp"
#include "node/user_command.hpp"
#include "protocol/client/messages.hpp"
#include "runtime/shard_set.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace gyre::node {

using presence_map = presence_clients;

/// This node's counts, as the server API's `info` reports them.
struct node_stats {
    std::uint32_t num_clients = 0;  ///< connected (authenticated) connections
    std::uint32_t num_users = 0;    ///< distinct users among them (anonymous counts as one)
    std::uint32_t num_channels = 0; ///< channels with at least one subscriber
    std::uint32_t num_subs = 0;     ///< subscriptions over all channels
};

/// What a node says of itself to the others every few seconds (the server API `info`).
struct peer_info {
    std::string uid;
    std::string name;
    std::string version;
    node_stats stats;
    std::uint32_t uptime = 0; ///< seconds
    double cpu_percent = 0;   ///< process CPU (100 = one core)
    std::uint64_t rss_bytes = 0;
};

/// Channel -> subscribers on this node.
using channel_counts = std::unordered_map<std::string, std::uint32_t>;

class node {
public:
    /// Uses the memory broker (this node only) unless another broker is given.
    explicit node(runtime::shard_set& shards, std::unique_ptr<broker> b = nullptr);

    /// With a broker that needs the node (Redis): `make_broker(*this)`.
    using broker_factory = std::function<std::unique_ptr<broker>(node&)>;
    node(runtime::shard_set& shards, const broker_factory& make_broker);
    ~node();

    runtime::shard_set& shards() noexcept { return shards_; }

    /// The hub of `shard`; use only on that shard's thread.
    hub::hub& local_hub(std::size_t shard) noexcept { return *hubs_[shard]; }

    std::size_t home(std::string_view channel) const noexcept;

    /// Shard-local (call on `shard`): adds `s` to the channel and runs `done(true)` on `shard`
    /// once the home shard knows this shard has subscribers and the broker delivers the
    /// channel here, so no later publication can miss `s`; `done(false)` when the broker could
    /// not subscribe (the caller drops the subscriber).
    void subscribe(std::size_t shard,
                   const std::string& channel,
                   hub::subscriber* s,
                   unique_function<void(bool ok)> done);

    /// Shard-local: removes `s`; the home shard is told lazily when the shard's last one leaves.
    void unsubscribe(std::size_t shard, const std::string& channel, hub::subscriber* s);

    /// Any thread: publishes `p` through the broker to every subscriber of its channel, in
    /// publish order per channel (with history it first gets its offset). `done` (may be
    /// empty) runs on `origin` once the broker accepted it.
    void publish(std::size_t origin,
                 protocol::client::push p,
                 publish_options options,
                 publish_done done);

    /// Publish with default options (joins, leaves).
    void publish(std::size_t origin, protocol::client::push p) {
        publish(origin, std::move(p), publish_options{}, {});
    }

    /// Any thread: reads the channel's history; `done` runs on `origin`.
    void history(std::size_t origin,
                 const std::string& channel,
                 history_filter filter,
                 std::chrono::nanoseconds meta_ttl,
                 history_done done);

    /// Any thread: drops the channel's publications (keeping its position); `done` on `origin`.
    void
    remove_history(std::size_t origin, const std::string& channel, unique_function<void()> done);

    /// Shard-local housekeeping, called about once a second on every shard.
    void tick(std::size_t shard, std::chrono::steady_clock::time_point now);

    /// Home-shard only (called by brokers): forwards `p` to every shard with subscribers.
    void fan_out(std::shared_ptr<hub::prepared_push> p);

    /// Runs `fn` on the home shard of `channel`.
    void on_home(const std::string& channel, unique_function<void()> fn);

    /// Presence (memory): add/remove run on the channel's home shard; reads answer on `origin`.
    void presence_add(const std::string& channel,
                      const std::string& client,
                      protocol::client::client_info info);
    void
    presence_remove(const std::string& channel, const std::string& client, const std::string& user);
    /// `done` runs on `origin`, with nothing when the presence store could not answer (the
    /// caller answers error 100, as Centrifugo does).
    void presence(std::size_t origin,
                  const std::string& channel,
                  unique_function<void(std::optional<presence_map>)> done);
    void presence_stats(std::size_t origin,
                        const std::string& channel,
                        unique_function<void(std::optional<presence_counts>)> done);

    /// Node-wide connection counts per user (user_connection_limit). Thread-safe.
    std::size_t add_user_connection(const std::string& user);
    void remove_user_connection(const std::string& user);

    /// Shard-local: indexes a connected connection by user for user commands and counts.
    void add_connection(std::size_t shard, const std::string& user, user_connection* c);
    void remove_connection(std::size_t shard, const std::string& user, user_connection* c);

    /// Any thread: applies `cmd` to the matching connections on every shard, then runs `done`
    /// on `origin`. Linear in the user's connections.
    void run_user_command(std::size_t origin, user_command cmd, unique_function<void()> done);

    /// Called by a distributed broker on shard `shard` with another node's control message.
    void on_control(std::size_t shard, std::string_view payload);

    /// How long a presence entry lives in a shared store unless refreshed (Redis presence_ttl).
    void set_presence_ttl(std::chrono::seconds ttl) noexcept { presence_ttl_ = ttl; }

    /// Whether publications can be lost between the broker and this node.
    bool delivers_every_publication() const noexcept {
        return broker_->delivers_every_publication();
    }

    /// True when presence lives in a shared store and each connection must refresh its entries.
    bool presence_needs_refresh() const noexcept { return presence_store_ != nullptr; }

    /// Where presence lives (before the shards start). By default in the broker when it keeps
    /// presence (Redis engine), else in this node's memory; Centrifugo's `presence_manager`
    /// may choose memory, or a store of its own (a presence-only Redis broker).
    void use_local_presence() noexcept { presence_store_ = nullptr; }

    void use_presence_store(std::unique_ptr<broker> store);

    /// This node as the others see it (set once, before the shards start).
    void set_identity(std::string uid, std::string name, std::string version);

    /// This node's unique id (emulation requests name it).
    const std::string& uid() const noexcept { return identity_.uid; }

    /// Any thread: the other nodes heard from in the last 7 seconds (Centrifugo's window).
    std::vector<peer_info> peers() const;

    /// Any thread: whether `uid` is this node or a node heard from recently.
    bool knows_node(const std::string& uid) const;

    /// Emulation requests (/emulation) for a session on another node travel over the control
    /// channel to that node, which hands them to `set_emulation_receiver`'s function there.
    using emulation_receiver =
        std::function<void(std::string session, std::string data, bool binary)>;

    void set_emulation_receiver(emulation_receiver r) { emulation_receiver_ = std::move(r); }

    void forward_emulation(std::size_t origin,
                           const std::string& node_uid,
                           const std::string& session,
                           std::string_view data,
                           bool binary);

    /// Any thread: this node's counts, answered on `origin`.
    void stats(std::size_t origin, unique_function<void(node_stats)> done);

    /// Any thread: every channel with subscribers and their number, summed over every node
    /// heard from (a survey over the control channel; a node that does not answer within
    /// two seconds is left out, so the call never hangs).
    void channels(std::size_t origin, unique_function<void(channel_counts)> done);

    /// Any thread: the same, for this node only.
    void local_channels(std::size_t origin, unique_function<void(channel_counts)> done);

    /// Runs `per_shard(shard)` on every shard, then `done(results)` on `origin` with the
    /// results in shard order. For surveys (counts, channel lists), not for the hot path.
    template <typename T>
    void gather(std::size_t origin,
                std::function<T(std::size_t)> per_shard,
                unique_function<void(std::vector<T>)> done);

private:
    std::size_t current_shard() const noexcept;

    /// Shard 0, every few seconds: tells the other nodes this node's counts.
    void announce();
    /// Hands `p` to shard `shard`'s hub (on that shard), timed for the broadcast metric.
    void broadcast(std::size_t shard, const hub::prepared_push_ptr& p);
    /// Sends a control message to every node (counted as Centrifugo counts them).
    void send_control(std::size_t origin, std::string payload);

public:
    /// Any thread: this process's CPU and memory (shared by announce and the server API).
    process_usage process(bool count_fds = false) { return process_.sample(count_fds); }

private:
    /// A channels survey this node started, waiting for the other nodes' answers (shard 0).
    struct channel_survey {
        std::size_t origin = 0;
        std::set<std::string> waiting; ///< uids of the nodes yet to answer
        channel_counts merged;
        unique_function<void(channel_counts)> done;
        std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    };

    void answer_survey(std::string_view request); ///< shard 0
    void collect_survey(std::string_view answer); ///< shard 0
    void finish_survey(const std::string& id);    ///< shard 0

    /// Runs `cmd` on this node's connections of the user (every shard).
    void apply_user_command(std::size_t origin, user_command cmd, unique_function<void()> done);

    struct channel_home {
        std::vector<std::uint32_t> shard_subscribers; // per shard: 0 or 1 (has local subscribers)
        presence_map presence;
        /// The broker's subscription for this node: asked for (pending) when the node gains
        /// its first subscriber; the shards that wait for it are acknowledged once it is ready.
        enum class broker_state : std::uint8_t { none, pending, ready } broker = broker_state::none;
        std::vector<unique_function<void(bool)>> broker_waiting;
        std::uint64_t sequence = 0; ///< the last push fanned out (see prepared_push::sequence)
    };

    struct local_channel {
        std::uint64_t generation = 0; // tells a stale home acknowledgement from the current one
        bool acknowledged = false;
        std::vector<unique_function<void(bool)>> waiting;
    };

    struct shard_state {
        std::unordered_map<std::string, channel_home> homes;  // channels homed here
        std::unordered_map<std::string, local_channel> local; // channels with local subscribers
        std::uint64_t next_generation = 1;
        std::unordered_map<std::string, std::vector<user_connection*>> users; // connected ones
        std::size_t connections = 0;
    };

    void on_home(std::size_t home_shard, unique_function<void()> fn);

    runtime::shard_set& shards_;
    std::unique_ptr<broker> broker_;
    std::unique_ptr<broker> presence_owner_; ///< a presence store apart from the broker
    broker* presence_store_ = nullptr;       ///< nullptr: presence in this node's memory
    std::vector<std::unique_ptr<hub::hub>> hubs_;
    peer_info identity_;
    process_sampler process_;
    std::chrono::seconds presence_ttl_{60};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point next_announce_{};
    std::unordered_map<std::string, channel_survey> surveys_; // shard 0 only
    std::uint64_t next_survey_ = 0;                           // shard 0 only
    emulation_receiver emulation_receiver_;
    mutable std::mutex peers_mutex_; // written on shard 0, read by `info` on any shard
    std::unordered_map<std::string, std::pair<peer_info, std::chrono::steady_clock::time_point>>
        peers_;
    std::vector<std::unique_ptr<shard_state>> states_;
    std::mutex users_mutex_;
    std::unordered_map<std::string, std::size_t> user_connections_;
};

template <typename T>
void node::gather(std::size_t origin,
                  std::function<T(std::size_t)> per_shard,
                  unique_function<void(std::vector<T>)> done) {
    struct survey {
        std::mutex mutex;
        std::vector<T> results;
        std::size_t remaining = 0;
        unique_function<void(std::vector<T>)> done;
    };

    auto s = std::make_shared<survey>();
    s->results.resize(shards_.size());
    s->remaining = shards_.size();
    s->done = std::move(done);
    auto fn = std::make_shared<std::function<T(std::size_t)>>(std::move(per_shard));
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        shards_.at(i).submit([this, i, s, fn, origin] {
            T value = (*fn)(i);
            const std::lock_guard lock(s->mutex);
            s->results[i] = std::move(value);
            if (--s->remaining == 0) {
                shards_.at(origin).submit([s] { s->done(std::move(s->results)); });
            }
        });
    }
}

} // namespace gyre::node
