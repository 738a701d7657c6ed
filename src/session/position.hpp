// File: session/position.hpp
// The position rules of a positioned subscription (Centrifuge's): a publication either
// continues the subscriber's stream, was already delivered (it came in the subscribe reply's
// recovered set, or twice through the merge of history with live publications), or shows the
// subscriber missed something. Pure functions, unit-tested.
#pragma once

#include <cstdint>
#include <string>

namespace gyre::session {

enum class position_step : std::uint8_t {
    deliver,   ///< next in the stream: deliver and advance
    duplicate, ///< at or before the position: drop silently
    gap,       ///< a hole or a new epoch: insufficient state
};

/// Decides for a publication at `offset` of stream `epoch` given the subscriber's `position`
/// and `known_epoch` ("" = none yet: the first epoch seen is adopted). Offset 0 (published
/// without history) is always delivered.
constexpr position_step next_position_step(std::uint64_t position,
                                           const std::string& known_epoch,
                                           std::uint64_t offset,
                                           const std::string& epoch) noexcept {
    if (offset == 0 || epoch.empty()) {
        return position_step::deliver;
    }
    if (!known_epoch.empty() && known_epoch != epoch) {
        return position_step::gap;
    }
    if (offset <= position) {
        return position_step::duplicate;
    }
    return offset == position + 1 ? position_step::deliver : position_step::gap;
}

} // namespace gyre::session
