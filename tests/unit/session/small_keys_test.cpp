// The pure rules behind client.presence_update_interval, client.channel_position_max_time_lag
// and publication_data_format.
#include "session/data_format.hpp"
#include "session/timing_rules.hpp"

#include <gtest/gtest.h>

namespace gyre::session {
namespace {

using namespace std::chrono_literals;

TEST(presence_update_period, configured_value_or_centrifuges_25s_for_zero) {
    EXPECT_EQ(presence_update_period(500ms), 500ms);
    EXPECT_EQ(presence_update_period(27s), 27s);
    EXPECT_EQ(presence_update_period(0s), 25s);
    EXPECT_EQ(presence_update_period(-1s), 25s);
}

TEST(position_lag, exceeded_only_past_the_maximum_in_whole_milliseconds) {
    constexpr std::int64_t published = 1'700'000'000'000;
    EXPECT_FALSE(position_lag_exceeded(published, published + 300, 300ms)); // at the limit
    EXPECT_TRUE(position_lag_exceeded(published, published + 301, 300ms));
    EXPECT_FALSE(position_lag_exceeded(published, published + 10'000, 0ms));   // off
    EXPECT_FALSE(position_lag_exceeded(published, published + 10'000, 900us)); // under 1 ms: off
    EXPECT_FALSE(position_lag_exceeded(0, published, 300ms));                  // time unknown
    EXPECT_FALSE(position_lag_exceeded(published, published - 50, 1ms));       // clocks a bit apart
}

TEST(publication_data_format, centrifugo_rules) {
    // "" (default): anything but empty data.
    EXPECT_TRUE(publication_data_fits("x", ""));
    EXPECT_FALSE(publication_data_fits("", ""));
    // json: one JSON value.
    EXPECT_TRUE(publication_data_fits(R"("text")", "json"));
    EXPECT_TRUE(publication_data_fits("[1,2]", "json"));
    EXPECT_FALSE(publication_data_fits("{oops", "json"));
    EXPECT_FALSE(publication_data_fits("", "json"));
    // json_object: a JSON object only, surrounding whitespace allowed.
    EXPECT_TRUE(publication_data_fits(R"( {"a":1} )", "json_object"));
    EXPECT_TRUE(publication_data_fits("{}", "json_object"));
    EXPECT_FALSE(publication_data_fits("[1]", "json_object"));
    EXPECT_FALSE(publication_data_fits(R"("s")", "json_object"));
    EXPECT_FALSE(publication_data_fits("42", "json_object"));
    EXPECT_FALSE(publication_data_fits("{", "json_object"));
    EXPECT_FALSE(publication_data_fits(R"({"a":1} x)", "json_object"));
    EXPECT_FALSE(publication_data_fits("", "json_object"));
    // binary: anything, empty included.
    EXPECT_TRUE(publication_data_fits("", "binary"));
    EXPECT_TRUE(publication_data_fits(std::string_view("\0\xff", 2), "binary"));
}

} // namespace
} // namespace gyre::session
