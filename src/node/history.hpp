// File: node/history.hpp
// Channel history for the memory broker: one stream per channel, owned by the channel's home
// shard (so no locks). A stream numbers publications 1, 2, 3 ... and has an epoch, a random
// string that changes whenever the stream is lost (its meta expired, or the node restarted),
// so a client can tell "nothing new" from "your position is gone". It keeps the last
// `history_size` publications for `history_ttl` after the last publish, and its position
// (top offset + epoch) for `history_meta_ttl` after the last use.
#pragma once

#include "hub/prepared_push.hpp"
#include "protocol/client/messages.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gyre::node {

using stream_position = protocol::client::stream_position;

/// What to read. `limit` 0 reads only the position, -1 (any negative) everything kept.
struct history_filter {
    std::optional<stream_position> since; ///< strictly after (or before, reversed) this offset
    std::int64_t limit = 0;
    bool reverse = false;
};

struct history_result {
    std::vector<hub::prepared_push_ptr> publications; ///< each carries its offset
    stream_position top;
    /// `since` named another epoch: the position is gone (error 112 for history calls;
    /// recovered:false for recovery).
    bool unrecoverable = false;
    bool bad_request = false; ///< reverse with since offset 0 (error 107)
    bool failed = false;      ///< the broker could not be reached (error 100)
};

/// A random 8-letter epoch, as Centrifuge generates them.
std::string new_epoch();

class history_stream {
public:
    using clock = std::chrono::steady_clock;

    history_stream();

    std::uint64_t top() const noexcept { return top_; }

    const std::string& epoch() const noexcept { return epoch_; }

    /// The offset the next publication gets (stamp it into the publication before encoding).
    std::uint64_t next_offset() const noexcept { return top_ + 1; }

    /// Appends `p` (whose publication carries next_offset()), keeping at most `size` items.
    void append(hub::prepared_push_ptr p, std::size_t size);

    /// Application versions (publish `version`/`version_epoch`): true when a publication
    /// with this version must be dropped as out of order.
    bool stale_version(std::uint64_t version, const std::string& version_epoch) const noexcept;
    void set_version(std::uint64_t version, std::string version_epoch);

    history_result read(const history_filter& f) const;

    /// Drops the publications, keeping the position (history_remove, history_ttl).
    void clear() noexcept { items_.clear(); }

    std::size_t size() const noexcept { return items_.size(); }

    clock::time_point items_expire{}; ///< history_ttl after the last publish
    clock::time_point meta_expire{};  ///< history_meta_ttl after the last use

private:
    std::uint64_t top_ = 0;
    std::string epoch_;
    std::deque<hub::prepared_push_ptr> items_; // ascending offsets, contiguous
    std::uint64_t version_ = 0;
    std::string version_epoch_;
};

/// The streams homed on one shard. Shard-local.
class history_store {
public:
    using clock = history_stream::clock;

    /// The channel's stream (created with a fresh epoch if it has none or its meta expired),
    /// with expired publications dropped and its meta lifetime extended by `meta_ttl`.
    history_stream&
    touch(const std::string& channel, clock::time_point now, clock::duration meta_ttl);

    /// The stream if it exists and its meta is alive; nullptr otherwise (nothing is created).
    history_stream* find(const std::string& channel, clock::time_point now);

    /// Frees streams whose meta expired and publications past their ttl. Linear in streams;
    /// called about once a second.
    void sweep(clock::time_point now);

    std::size_t streams() const noexcept { return streams_.size(); }

private:
    std::unordered_map<std::string, history_stream> streams_;
};

} // namespace gyre::node
