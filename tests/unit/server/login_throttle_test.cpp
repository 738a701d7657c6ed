// The admin login throttle: free failures, a delay that doubles up to its cap, per-address
// records, success clearing them, forgetting after quiet time, and a bounded table.
#include "server/login_throttle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gyre::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using clock_t_ = login_throttle::clock;

login_throttle_policy policy() {
    login_throttle_policy p;
    p.free_failures = 3;
    p.base_delay = seconds(1);
    p.max_delay = seconds(8);
    p.forget_after = seconds(600);
    p.max_addresses = 4;
    return p;
}

TEST(LoginThrottle, FreeFailuresThenADoublingDelayUpToTheCap) {
    login_throttle t(policy());
    auto now = clock_t_::time_point{} + seconds(1000);
    EXPECT_EQ(t.failed("a", now), milliseconds(0));
    EXPECT_EQ(t.failed("a", now), milliseconds(0));
    EXPECT_EQ(t.wait("a", now), milliseconds(0));
    EXPECT_EQ(t.failed("a", now), seconds(1));
    EXPECT_EQ(t.wait("a", now), seconds(1));
    EXPECT_EQ(t.wait("a", now + milliseconds(400)), milliseconds(600));
    now += seconds(1);
    EXPECT_EQ(t.wait("a", now), milliseconds(0));
    EXPECT_EQ(t.failed("a", now), seconds(2));
    EXPECT_EQ(t.failed("a", now), seconds(4));
    EXPECT_EQ(t.failed("a", now), seconds(8));
    EXPECT_EQ(t.failed("a", now), seconds(8)); // capped
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(t.failed("a", now), seconds(8)); // no overflow however many
    }
}

TEST(LoginThrottle, AddressesAreCountedApartAndSuccessClears) {
    login_throttle t(policy());
    const auto now = clock_t_::time_point{} + seconds(1000);
    for (int i = 0; i < 3; ++i) {
        (void)t.failed("10.0.0.1", now);
    }
    EXPECT_GT(t.wait("10.0.0.1", now).count(), 0);
    EXPECT_EQ(t.wait("10.0.0.2", now), milliseconds(0));
    t.succeeded("10.0.0.1");
    EXPECT_EQ(t.wait("10.0.0.1", now), milliseconds(0));
    EXPECT_EQ(t.failed("10.0.0.1", now), milliseconds(0)); // counting starts over
}

TEST(LoginThrottle, QuietTimeForgetsFailures) {
    login_throttle t(policy());
    auto now = clock_t_::time_point{} + seconds(1000);
    for (int i = 0; i < 4; ++i) {
        (void)t.failed("a", now);
    }
    now += seconds(601);
    EXPECT_EQ(t.wait("a", now), milliseconds(0));
    EXPECT_EQ(t.failed("a", now), milliseconds(0));
}

TEST(LoginThrottle, TheTableIsBounded) {
    login_throttle t(policy());
    auto now = clock_t_::time_point{} + seconds(1000);
    for (int i = 0; i < 50; ++i) {
        (void)t.failed("addr" + std::to_string(i), now);
        now += milliseconds(1);
        EXPECT_LE(t.addresses(), 4U);
    }
    // The newest addresses are kept.
    for (int i = 0; i < 2; ++i) {
        (void)t.failed("addr49", now);
    }
    EXPECT_GT(t.wait("addr49", now).count(), 0);
}

} // namespace
} // namespace gyre::server
