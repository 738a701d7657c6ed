#include "server/login_throttle.hpp"

#include "core/log.hpp"

#include <algorithm>

namespace gyre::server {

namespace {

using std::chrono::milliseconds;

milliseconds remaining(login_throttle::clock::time_point until,
                       login_throttle::clock::time_point now) {
    return until > now ? std::chrono::ceil<milliseconds>(until - now) : milliseconds{0};
}

} // namespace

milliseconds login_throttle::wait(std::string_view address, clock::time_point now) {
    const std::lock_guard lock(mutex_);
    const auto it = records_.find(std::string(address));
    if (it == records_.end()) {
        return milliseconds{0};
    }
    const auto left = remaining(it->second.barred_until, now);
    if (left.count() > 0) {
        log_refusal(address, true, now);
    }
    return left;
}

milliseconds login_throttle::failed(std::string_view address, clock::time_point now) {
    const std::lock_guard lock(mutex_);
    auto it = records_.find(std::string(address));
    if (it != records_.end() && now - it->second.last_failure > policy_.forget_after) {
        it->second = record{}; // quiet long enough: start over
    }
    if (it == records_.end()) {
        make_room(now);
        it = records_.emplace(std::string(address), record{}).first;
    }
    auto& r = it->second;
    ++r.failures;
    r.last_failure = now;
    log_refusal(address, false, now);
    if (r.failures < policy_.free_failures) {
        return milliseconds{0};
    }
    // base, 2 x base, 4 x base, ... up to the cap (the shift is bounded so it cannot overflow).
    const auto doublings = std::min<unsigned>(r.failures - policy_.free_failures, 30);
    const auto delay = std::min<milliseconds>(policy_.base_delay * (std::int64_t{1} << doublings),
                                              policy_.max_delay);
    r.barred_until = now + delay;
    return delay;
}

void login_throttle::succeeded(std::string_view address) {
    const std::lock_guard lock(mutex_);
    records_.erase(std::string(address));
}

std::size_t login_throttle::addresses() const {
    const std::lock_guard lock(mutex_);
    return records_.size();
}

void login_throttle::make_room(clock::time_point now) {
    if (records_.size() < policy_.max_addresses) {
        return;
    }
    std::erase_if(records_, [&](const auto& entry) {
        return now - entry.second.last_failure > policy_.forget_after &&
               entry.second.barred_until <= now;
    });
    if (records_.size() < policy_.max_addresses) {
        return;
    }
    // Still full (many addresses at once): the record idle the longest goes.
    const auto oldest =
        std::min_element(records_.begin(), records_.end(), [](const auto& a, const auto& b) {
            return a.second.last_failure < b.second.last_failure;
        });
    records_.erase(oldest);
}

void login_throttle::log_refusal(std::string_view address, bool barred, clock::time_point now) {
    ++unlogged_;
    if (logged_once_ && now - last_log_ < policy_.log_interval) {
        return;
    }
    GYRE_LOG_WARN("admin login refused remote={} reason={} refused_since_last_line={}",
                  address,
                  barred ? "throttled" : "wrong password",
                  unlogged_);
    logged_once_ = true;
    last_log_ = now;
    unlogged_ = 0;
}

} // namespace gyre::server
