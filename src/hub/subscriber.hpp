// File: hub/subscriber.hpp
// What the hub knows of a subscriber: it can take a prepared push. Implemented by sessions;
// called only on the subscriber's own shard, and only to enqueue (never to do I/O).
#pragma once

#include "hub/prepared_push.hpp"

namespace gyre::hub {

class subscriber {
public:
    /// Enqueues the push if this subscriber wants it (join/leave only when asked for).
    /// Must not add to or remove from the hub synchronously (the hub is iterating): a
    /// subscriber that has to close defers its cleanup to a later loop turn.
    virtual void deliver(const prepared_push_ptr& p) = 0;

protected:
    subscriber() = default;
    subscriber(const subscriber&) = default;
    subscriber& operator=(const subscriber&) = default;
    ~subscriber() = default;
};

} // namespace gyre::hub
