// File: server/login_throttle.hpp
// Slows down password guessing on the admin login (a Gyre addition: Centrifugo does not
// throttle). Failed attempts are counted per client address; past a few free ones each failure
// bars the address for a delay that doubles up to a cap, and attempts inside that window are
// refused without looking at the password. The table of addresses is bounded, and refusals are
// logged at most once per interval with a count, so a flood cannot fill the log. Thread-safe:
// handlers run on every shard. Time is passed in, so tests drive it without sleeping.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gyre::server {

struct login_throttle_policy {
    unsigned free_failures = 5; ///< failures before the first delay
    std::chrono::milliseconds base_delay{1000};
    std::chrono::milliseconds max_delay{60000};
    std::chrono::milliseconds forget_after{600000}; ///< quiet time that clears a record
    std::size_t max_addresses = 10000;
    std::chrono::milliseconds log_interval{1000};
};

class login_throttle {
public:
    using clock = std::chrono::steady_clock;

    explicit login_throttle(login_throttle_policy policy = {})
        : policy_(policy) {}

    /// How long `address` must still wait before its next attempt is looked at (0: go ahead).
    /// A refused attempt is counted for the log, not as a failure.
    std::chrono::milliseconds wait(std::string_view address, clock::time_point now);

    /// Records a wrong password from `address`; returns the delay it now has to wait.
    std::chrono::milliseconds failed(std::string_view address, clock::time_point now);

    /// A right password clears the address's record.
    void succeeded(std::string_view address);

    std::size_t addresses() const;

private:
    struct record {
        unsigned failures = 0;
        clock::time_point barred_until{};
        clock::time_point last_failure{};
    };

    void make_room(clock::time_point now);
    void log_refusal(std::string_view address, bool barred, clock::time_point now);

    login_throttle_policy policy_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, record> records_;
    clock::time_point last_log_{};
    bool logged_once_ = false;
    std::size_t unlogged_ = 0; ///< refusals since the last log line
};

} // namespace gyre::server
