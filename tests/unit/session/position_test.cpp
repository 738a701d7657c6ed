// Merging history with live publications for a positioned subscriber: duplicates from the
// overlap are dropped, gaps and epoch changes are detected.
#include "session/position.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace gyre::session {
namespace {

/// Feeds `offsets` (all in `epoch`) to a subscriber at `position`; returns what it delivers,
/// or stops at the first gap (pushing 0 to mark it).
std::vector<std::uint64_t> feed(std::uint64_t position, const std::vector<std::uint64_t>& offsets) {
    std::vector<std::uint64_t> out;
    std::string known = "e1";
    for (const auto o : offsets) {
        switch (next_position_step(position, known, o, "e1")) {
        case position_step::deliver:
            out.push_back(o);
            position = o;
            break;
        case position_step::duplicate:
            break;
        case position_step::gap:
            out.push_back(0);
            return out;
        }
    }
    return out;
}

TEST(Position, OverlapOfRecoveredAndLiveIsDeliveredOnce) {
    // The subscribe reply covered up to 5; live delivery replays 4, 5 (read overlap) then 6, 7.
    EXPECT_EQ(feed(5, {4, 5, 6, 7}), (std::vector<std::uint64_t>{6, 7}));
    EXPECT_EQ(feed(5, {6, 6, 7}), (std::vector<std::uint64_t>{6, 7}));
}

TEST(Position, AGapIsInsufficientState) {
    EXPECT_EQ(feed(5, {6, 8}), (std::vector<std::uint64_t>{6, 0}));
}

TEST(Position, EpochChangeIsInsufficientStateButTheFirstEpochIsAdopted) {
    EXPECT_EQ(next_position_step(3, "e1", 4, "e2"), position_step::gap);
    EXPECT_EQ(next_position_step(0, "", 1, "e2"), position_step::deliver);
}

TEST(Position, PublicationsWithoutHistoryAlwaysPass) {
    EXPECT_EQ(next_position_step(9, "e1", 0, ""), position_step::deliver);
}

} // namespace
} // namespace gyre::session
