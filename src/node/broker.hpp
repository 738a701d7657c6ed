// File: node/broker.hpp
// The seam between a node and the system that carries publications between nodes. The memory
// broker (one node) hands a publication straight to the channel's home shard; a Redis or NATS
// broker publishes it out and hands back what arrives from its subscription. Either way the
// node fans a push out from the channel's home shard, so per-channel order holds.
#pragma once

#include "core/unique_function.hpp"
#include "hub/prepared_push.hpp"

#include <string>

namespace gyre::node {

class broker {
public:
    virtual ~broker() = default;

    /// Any thread: publishes `p` to its channel on every node. `done` runs on shard `origin`
    /// once the broker has accepted the publication.
    virtual void
    publish(std::size_t origin, hub::prepared_push_ptr p, unique_function<void()> done) = 0;

    /// Called on the channel's home shard when this node gains its first subscriber of `channel`
    /// (a distributed broker subscribes to it) or loses its last one.
    virtual void subscribe(const std::string& channel) = 0;
    virtual void unsubscribe(const std::string& channel) = 0;
};

} // namespace gyre::node
