// File: session/timing_rules.hpp
// Two of Centrifuge's client timing rules, pure so they can be unit-tested: how often a
// connection refreshes its presence entries (client.presence_update_interval), and when a
// publication arrives too late for a positioned subscriber to trust its stream
// (client.channel_position_max_time_lag).
#pragma once

#include <chrono>
#include <cstdint>

namespace gyre::session {

/// The presence refresh period for a configured client.presence_update_interval; zero (or
/// less) means Centrifuge's default of 25 seconds.
constexpr std::chrono::steady_clock::duration
presence_update_period(std::chrono::nanoseconds configured) noexcept {
    if (configured.count() <= 0) {
        return std::chrono::seconds(25);
    }
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(configured);
}

/// True when a publication made at `published_ms` (Unix ms; 0 = unknown) and delivered at
/// `now_ms` lagged more than `max_lag` (whole milliseconds count; under 1 ms disables the
/// check, as does 0): the positioned subscriber gets insufficient state.
constexpr bool position_lag_exceeded(std::int64_t published_ms,
                                     std::int64_t now_ms,
                                     std::chrono::nanoseconds max_lag) noexcept {
    const auto max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(max_lag).count();
    return max_ms > 0 && published_ms > 0 && now_ms - published_ms > max_ms;
}

} // namespace gyre::session
