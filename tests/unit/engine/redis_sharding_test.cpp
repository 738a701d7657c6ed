#include "engine/redis/sharding.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace gyre::engine::redis {
namespace {

TEST(redis_sharding, matches_centrifugo_channel_placement) {
    // Expected buckets computed with Centrifuge's published algorithm (FNV-1a 64 + jump hash).
    struct expected {
        const char* channel;
        std::size_t of2, of3, of16;
    };

    constexpr std::array<expected, 8> cases{{{"", 1, 1, 13},
                                             {"news", 1, 2, 3},
                                             {"chat:index", 0, 0, 0},
                                             {"personal:#42", 1, 1, 3},
                                             {"a", 1, 2, 12},
                                             {"channel-1", 0, 2, 2},
                                             {"channel-2", 0, 0, 4},
                                             {"channel-3", 0, 0, 11}}};
    for (const auto& c : cases) {
        EXPECT_EQ(consistent_index(c.channel, 2), c.of2) << c.channel;
        EXPECT_EQ(consistent_index(c.channel, 3), c.of3) << c.channel;
        EXPECT_EQ(consistent_index(c.channel, 16), c.of16) << c.channel;
    }
}

TEST(redis_sharding, one_bucket_takes_everything_and_growth_moves_few) {
    std::size_t moved = 0;
    for (int i = 0; i < 3000; ++i) {
        const auto ch = "ch" + std::to_string(i);
        EXPECT_EQ(consistent_index(ch, 1), 0U);
        const auto before = consistent_index(ch, 3);
        const auto after = consistent_index(ch, 4);
        EXPECT_LT(before, 3U);
        if (before != after) {
            EXPECT_EQ(after, 3U); // a channel only ever moves to the new instance
            ++moved;
        }
    }
    EXPECT_GT(moved, 500U); // ~1/4 of 3000
    EXPECT_LT(moved, 1000U);
}

} // namespace
} // namespace gyre::engine::redis
