// File: node/broker.hpp
// The seam between a node and the system that carries publications between nodes. The memory
// broker (one node) hands a publication straight to the channel's home shard; a Redis or NATS
// broker publishes it out and hands back what arrives from its subscription. Either way the
// node fans a push out from the channel's home shard, so per-channel order holds.
#pragma once

#include "core/unique_function.hpp"
#include "hub/prepared_push.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace gyre::node {

/// How a publication is kept (history, arrives with the history issue) and deduplicated.
struct publish_options {
    std::int64_t history_size = 0;
    std::chrono::nanoseconds history_ttl{0};
    std::chrono::nanoseconds history_meta_ttl{0};
    /// A repeat with the same key on the same channel within the broker's result window gets
    /// the first publish's result and is not delivered again.
    std::string idempotency_key;
};

/// The stream position the broker gave the publication (zero without history), or a failure
/// (the broker is unreachable): the API answers 100.
struct publish_result {
    bool ok = true;
    std::uint64_t offset = 0;
    std::string epoch;
};

using publish_done = unique_function<void(publish_result)>;

class broker {
public:
    virtual ~broker() = default;

    /// Any thread: publishes `p` to its channel on every node. `done` (may be empty) runs on
    /// shard `origin` once the broker has accepted the publication.
    virtual void publish(std::size_t origin,
                         hub::prepared_push_ptr p,
                         const publish_options& options,
                         publish_done done) = 0;

    /// Called on the channel's home shard when this node gains its first subscriber of `channel`
    /// (a distributed broker subscribes to it) or loses its last one.
    virtual void subscribe(const std::string& channel) = 0;
    virtual void unsubscribe(const std::string& channel) = 0;
};

} // namespace gyre::node
