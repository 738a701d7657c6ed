// File: hub/prepared_push.hpp
// A push (publication, join, leave, ...) for one channel, built once and shared read-only by
// every subscriber on every shard. Each wire format is encoded on first request and cached, so
// fan-out to N subscribers costs one encode per format in use plus N pointer copies.
#pragma once

#include "core/shared_bytes.hpp"
#include "protocol/client/messages.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace gyre::hub {

/// The wire formats a subscriber can ask for. Protobuf frames carry their varint length prefix.
/// Unidirectional JSON transports take the bare Push object (`{"channel":..,"pub":..}`) rather
/// than the Reply that wraps it: a format of its own, encoded once like the others.
enum class wire : std::uint8_t { json = 0, protobuf = 1, json_unidirectional = 2 };

inline constexpr std::size_t wire_count = 3;

/// JSON messages are joined by '\n' in one frame; Protobuf ones carry their length prefix.
constexpr bool is_json(wire w) noexcept {
    return w != wire::protobuf;
}

class prepared_push {
public:
    explicit prepared_push(protocol::client::push p,
                           std::string except_client = {},
                           std::string epoch = {},
                           std::int64_t published_ms = 0)
        : push_(std::move(p))
        , except_client_(std::move(except_client))
        , epoch_(std::move(epoch))
        , published_ms_(published_ms) {}

    /// When the broker took the publication (Unix ms, 0 = unknown): positioned subscribers
    /// measure its delivery lag against client.channel_position_max_time_lag. Never encoded
    /// (Centrifuge keeps a publication's time to itself).
    std::int64_t published_ms() const noexcept { return published_ms_; }

    /// The epoch of the channel stream a publication's offset belongs to ("" without history):
    /// positioned subscribers compare it with theirs. Never encoded.
    const std::string& epoch() const noexcept { return epoch_; }

    /// Node-internal control pushes (a disconnect on the personal channel) skip this client.
    const std::string& except_client() const noexcept { return except_client_; }

    const protocol::client::push& push() const noexcept { return push_; }

    const std::string& channel() const noexcept { return push_.channel; }

    protocol::client::push_kind kind() const noexcept { return push_.kind(); }

    /// The channel's order on this node: stamped once by the channel's home shard (1, 2, ...)
    /// before the push is shared with any other shard; 0 = not stamped. Hubs check that it only
    /// grows, so a reordering anywhere between the home shard and a shard's hub is seen.
    std::uint64_t sequence() const noexcept { return sequence_; }

    /// Home shard only, before the push is shared (see node::fan_out).
    void stamp_sequence(std::uint64_t s) noexcept { sequence_ = s; }

    /// The encoded Reply carrying this push. Thread-safe; encodes at most once per format.
    const shared_bytes& frame(wire w) const;

    /// After frame(w) came back empty: true when the push cannot be written in format `w` (a
    /// JSON frame of data that is not JSON, published by a Protobuf client). Decided once per
    /// push, by that one encode; JSON subscribers are then disconnected with 3506, as
    /// centrifuge's hub does.
    bool encode_failed(wire w) const noexcept {
        const auto i = static_cast<std::size_t>(w);
        return ready_[i].load(std::memory_order_acquire) && failed_[i];
    }

private:
    protocol::client::push push_;
    std::string except_client_;
    std::string epoch_;
    std::uint64_t sequence_ = 0;
    std::int64_t published_ms_ = 0;
    // Double-checked: after the first encode a read is one acquire load. (std::call_once costs
    // a futex syscall per flag on glibc, about 1.3 us here, which dominates small channels.)
    mutable std::array<std::atomic<bool>, wire_count> ready_{};
    mutable std::mutex encode_mutex_;
    mutable std::array<shared_bytes, wire_count> frames_;
    mutable std::array<bool, wire_count> failed_{}; ///< written before ready_, read after it
};

using prepared_push_ptr = std::shared_ptr<const prepared_push>;

/// The wall clock in Unix milliseconds, as publications are stamped.
inline std::int64_t unix_ms_now() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace gyre::hub
