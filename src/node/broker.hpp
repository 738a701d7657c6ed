// File: node/broker.hpp
// The seam between a node and the system that carries publications between nodes. The memory
// broker (one node) hands a publication straight to the channel's home shard; a Redis or NATS
// broker publishes it out and hands back what arrives from its subscription. Either way the
// node fans a push out from the channel's home shard, so per-channel order holds.
#pragma once

#include "core/unique_function.hpp"
#include "hub/prepared_push.hpp"
#include "node/history.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace gyre::node {

/// How a publication is kept (history, arrives with the history issue) and deduplicated.
struct publish_options {
    std::int64_t history_size = 0;
    std::chrono::nanoseconds history_ttl{0};
    std::chrono::nanoseconds history_meta_ttl{0};
    /// A repeat with the same key on the same channel within the broker's result window gets
    /// the first publish's result and is not delivered again.
    std::string idempotency_key;
    /// Application version: with history, a publication not newer than the last one (in the
    /// same version epoch) is dropped and the current position returned.
    std::uint64_t version = 0;
    std::string version_epoch;
    /// Control pushes (single_connection) skip the connection that sent them.
    std::string except_client;

    bool history_enabled() const noexcept { return history_size > 0 && history_ttl.count() > 0; }
};

/// The stream position the broker gave the publication (zero without history), or a failure
/// (the broker is unreachable): the API answers 100.
struct publish_result {
    bool ok = true;
    std::uint64_t offset = 0;
    std::string epoch;
};

using publish_done = unique_function<void(publish_result)>;

/// A channel's presence: client id -> its info.
using presence_clients = std::map<std::string, protocol::client::client_info>;

struct presence_counts {
    std::uint32_t num_clients = 0;
    std::uint32_t num_users = 0;
};

using history_done = unique_function<void(history_result)>;

class broker {
public:
    virtual ~broker() = default;

    /// Any thread: publishes `p` to its channel on every node; with history it first gets its
    /// offset. `done` (may be empty) runs on shard `origin` once the broker accepted it.
    virtual void publish(std::size_t origin,
                         protocol::client::push p,
                         publish_options options,
                         publish_done done) = 0;

    /// Any thread: reads the channel's stream; `done` runs on `origin`. Reading extends the
    /// stream's meta lifetime by `meta_ttl`, as Centrifuge does.
    virtual void history(std::size_t origin,
                         const std::string& channel,
                         history_filter filter,
                         std::chrono::nanoseconds meta_ttl,
                         history_done done) = 0;

    /// Any thread: drops the channel's publications, keeping its position.
    virtual void remove_history(std::size_t origin,
                                const std::string& channel,
                                unique_function<void()> done) = 0;

    /// Shard-local housekeeping, about once a second (expired streams).
    virtual void tick(std::size_t shard, std::chrono::steady_clock::time_point now) = 0;

    /// Called on the channel's home shard when this node gains its first subscriber of `channel`
    /// (a distributed broker subscribes to it) or loses its last one. `ready(ok)` runs on the
    /// home shard once publications of the channel reach this node (`ok`), or the broker could
    /// not subscribe (`!ok`: the subscribers get an error and retry).
    virtual void subscribe(const std::string& channel, unique_function<void(bool ok)> ready) = 0;
    virtual void unsubscribe(const std::string& channel) = 0;

    /// False when a publication can be lost on its way to this node (PUB/SUB between nodes):
    /// positioned subscriptions are then checked against the stream's top now and then.
    virtual bool delivers_every_publication() const noexcept { return true; }

    /// Presence kept by the broker for every node (Redis); false: the node keeps it in memory
    /// and the presence calls below are never made.
    virtual bool keeps_presence() const noexcept { return false; }

    /// Any shard. Adds or refreshes `client` in the channel's presence for `ttl`.
    virtual void presence_add(std::size_t /*origin*/,
                              const std::string& /*channel*/,
                              const std::string& /*client*/,
                              const protocol::client::client_info& /*info*/,
                              std::chrono::seconds /*ttl*/) {}

    virtual void presence_remove(std::size_t /*origin*/,
                                 const std::string& /*channel*/,
                                 const std::string& /*client*/,
                                 const std::string& /*user*/) {}

    /// Any shard: {clients, unique users} of the channel's presence; `done` on `origin`, with
    /// nothing when the store could not answer (the caller reports an internal error, as
    /// Centrifugo does: "nobody is here" would be a wrong answer). By default counted from
    /// presence_get(); a store may keep the users apart to answer cheaply.
    virtual void presence_stats(std::size_t origin,
                                const std::string& channel,
                                unique_function<void(std::optional<presence_counts>)> done) {
        presence_get(
            origin, channel, [done = std::move(done)](std::optional<presence_clients> m) mutable {
                if (!m) {
                    done(std::nullopt);
                    return;
                }
                std::set<std::string_view> users;
                for (const auto& [client, info] : *m) {
                    users.insert(info.user);
                }
                done(presence_counts{static_cast<std::uint32_t>(m->size()),
                                     static_cast<std::uint32_t>(users.size())});
            });
    }

    /// Any shard: the channel's live presence; `done` on `origin`, with nothing when the store
    /// could not answer.
    virtual void presence_get(std::size_t /*origin*/,
                              const std::string& /*channel*/,
                              unique_function<void(std::optional<presence_clients>)> done) {
        done(presence_clients{});
    }

    /// Any shard: tells every other node (`node::on_control` there). One node: nothing to do.
    virtual void send_control(std::size_t /*origin*/, std::string /*payload*/) {}
};

} // namespace gyre::node
