// File: hub/subscriber.hpp
// What the hub knows of a subscriber: it can take a prepared push. Implemented by sessions;
// called only on the subscriber's own shard, and only to enqueue (never to do I/O).
#pragma once

#include "hub/prepared_push.hpp"

#include <array>
#include <vector>

namespace gyre::hub {

/// Publications of one channel gathered during one loop turn (see hub::broadcast).
class push_batch {
public:
    const std::vector<prepared_push_ptr>& pushes() const noexcept { return pushes_; }

    /// The pushes' frames in format `w` as one message: JSON frames joined by '\n', Protobuf
    /// frames (already length-prefixed) back to back. Joined on first request, once per format.
    const shared_bytes& frames(wire w) const;

    /// After frames(w): true when a push of the batch cannot be written in format `w` (see
    /// prepared_push::encode_failed); frames(w) leaves such pushes out.
    bool encode_failed(wire w) const noexcept {
        const auto i = static_cast<std::size_t>(w);
        return pushes_.size() == 1 ? pushes_.front()->encode_failed(w) : failed_[i];
    }

private:
    friend class hub;
    std::vector<prepared_push_ptr> pushes_;
    mutable std::array<shared_bytes, wire_count> joined_{};
    mutable std::array<bool, wire_count> built_{};
    mutable std::array<bool, wire_count> failed_{};
};

class subscriber {
public:
    /// Enqueues the push if this subscriber wants it (join/leave only when asked for).
    /// Must not add to or remove from the hub synchronously (the hub is iterating): a
    /// subscriber that has to close defers its cleanup to a later loop turn.
    virtual void deliver(const prepared_push_ptr& p) = 0;

    /// Publications of one channel from one loop turn, in order. The default hands them to
    /// deliver() one by one; a subscriber that can take the joined frame as one message
    /// (push_batch::frames) saves a queue entry and a reference per publication.
    virtual void deliver_batch(const push_batch& b) {
        for (const auto& p : b.pushes()) {
            deliver(p);
        }
    }

protected:
    subscriber() = default;
    subscriber(const subscriber&) = default;
    subscriber& operator=(const subscriber&) = default;
    ~subscriber() = default;
};

} // namespace gyre::hub
