// Channel history streams: offsets, epochs, size and ttl limits, reads as Centrifuge answers
// them (since / limit / reverse), and the store's meta lifetime.
#include "node/history.hpp"

#include <gtest/gtest.h>

namespace gyre::node {
namespace {

using namespace std::chrono_literals;

hub::prepared_push_ptr pub(std::uint64_t offset) {
    protocol::client::push p;
    p.channel = "ch";
    protocol::client::publication body;
    body.offset = offset;
    body.data = std::to_string(offset);
    p.body = std::move(body);
    return std::make_shared<hub::prepared_push>(std::move(p));
}

void add(history_stream& s, std::size_t n, std::size_t size) {
    for (std::size_t i = 0; i < n; ++i) {
        s.append(pub(s.next_offset()), size);
    }
}

std::vector<std::uint64_t> offsets(const history_result& r) {
    std::vector<std::uint64_t> out;
    for (const auto& p : r.publications) {
        out.push_back(std::get<protocol::client::publication>(p->push().body).offset);
    }
    return out;
}

TEST(HistoryStream, OffsetsAndSizeLimit) {
    history_stream s;
    EXPECT_EQ(s.top(), 0U);
    EXPECT_EQ(s.epoch().size(), 8U);
    add(s, 5, 3);
    EXPECT_EQ(s.top(), 5U);
    EXPECT_EQ(s.size(), 3U);
    const auto all = s.read({std::nullopt, -1, false});
    EXPECT_EQ(offsets(all), (std::vector<std::uint64_t>{3, 4, 5}));
    EXPECT_EQ(all.top.offset, 5U);
    EXPECT_EQ(all.top.epoch, s.epoch());
}

TEST(HistoryStream, LimitZeroReadsOnlyThePosition) {
    history_stream s;
    add(s, 3, 10);
    const auto r = s.read({std::nullopt, 0, false});
    EXPECT_TRUE(r.publications.empty());
    EXPECT_EQ(r.top.offset, 3U);
}

TEST(HistoryStream, SinceForwardAndReverse) {
    history_stream s;
    add(s, 10, 10);
    const std::string e = s.epoch();
    EXPECT_EQ(offsets(s.read({stream_position{4, e}, -1, false})),
              (std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10}));
    EXPECT_EQ(offsets(s.read({stream_position{4, e}, 2, false})),
              (std::vector<std::uint64_t>{5, 6}));
    EXPECT_EQ(offsets(s.read({stream_position{4, e}, 2, true})),
              (std::vector<std::uint64_t>{3, 2}));
    EXPECT_EQ(offsets(s.read({std::nullopt, 3, true})), (std::vector<std::uint64_t>{10, 9, 8}));
    EXPECT_TRUE(s.read({stream_position{10, e}, -1, false}).publications.empty()); // at top
    EXPECT_TRUE(s.read({stream_position{11, e}, -1, false}).publications.empty()); // future
    EXPECT_TRUE(s.read({stream_position{0, e}, -1, true}).bad_request);
}

TEST(HistoryStream, SinceOlderThanKeptStartsAtTheOldest) {
    history_stream s;
    add(s, 10, 3); // keeps 8, 9, 10
    const auto r = s.read({stream_position{2, s.epoch()}, -1, false});
    EXPECT_EQ(offsets(r), (std::vector<std::uint64_t>{8, 9, 10}));
    // Recovery sees the gap: the first offset is not since + 1.
    EXPECT_NE(offsets(r).front(), 3U);
}

TEST(HistoryStream, WrongEpochIsUnrecoverable) {
    history_stream s;
    add(s, 2, 10);
    const auto r = s.read({stream_position{1, "otherepo"}, -1, false});
    EXPECT_TRUE(r.unrecoverable);
    EXPECT_EQ(r.top.epoch, s.epoch());
    EXPECT_FALSE(s.read({stream_position{1, ""}, -1, false}).unrecoverable); // no epoch: ok
}

TEST(HistoryStream, ClearKeepsThePosition) {
    history_stream s;
    add(s, 4, 10);
    const auto e = s.epoch();
    s.clear();
    const auto r = s.read({std::nullopt, -1, false});
    EXPECT_TRUE(r.publications.empty());
    EXPECT_EQ(r.top.offset, 4U);
    EXPECT_EQ(r.top.epoch, e);
    s.append(pub(s.next_offset()), 10);
    EXPECT_EQ(offsets(s.read({std::nullopt, -1, false})), (std::vector<std::uint64_t>{5}));
}

TEST(HistoryStream, Versions) {
    history_stream s;
    s.set_version(5, "v");
    EXPECT_TRUE(s.stale_version(5, "v"));
    EXPECT_TRUE(s.stale_version(4, ""));
    EXPECT_FALSE(s.stale_version(6, "v"));
    EXPECT_FALSE(s.stale_version(1, "other"));
    EXPECT_FALSE(s.stale_version(0, "v")); // no version: never stale
}

TEST(HistoryStore, TtlDropsPublicationsAndMetaTtlDropsThePosition) {
    history_store store;
    const auto t0 = history_store::clock::now();
    auto& s = store.touch("ch", t0, 60s);
    add(s, 3, 10);
    s.items_expire = t0 + 5s;
    const auto epoch = s.epoch();
    // Before the ttl: all kept.
    EXPECT_EQ(store.touch("ch", t0 + 1s, 60s).size(), 3U);
    // After the ttl: publications gone, position kept.
    auto& later = store.touch("ch", t0 + 6s, 60s);
    EXPECT_EQ(later.size(), 0U);
    EXPECT_EQ(later.top(), 3U);
    EXPECT_EQ(later.epoch(), epoch);
    // After the meta ttl (counted from the last touch): a new stream with a new epoch.
    auto& fresh = store.touch("ch", t0 + 6s + 61s, 60s);
    EXPECT_EQ(fresh.top(), 0U);
    EXPECT_NE(fresh.epoch(), epoch);
    EXPECT_EQ(store.find("nope", t0), nullptr);
}

TEST(HistoryStore, SweepFreesExpiredStreams) {
    history_store store;
    const auto t0 = history_store::clock::now();
    store.touch("a", t0, 10s);
    store.touch("b", t0, 100s);
    EXPECT_EQ(store.streams(), 2U);
    store.sweep(t0 + 20s);
    EXPECT_EQ(store.streams(), 1U);
    EXPECT_EQ(store.find("a", t0 + 20s), nullptr);
    EXPECT_NE(store.find("b", t0 + 20s), nullptr);
}

TEST(HistoryStore, ZeroMetaTtlNeverExpires) {
    history_store store;
    const auto t0 = history_store::clock::now();
    const auto epoch = store.touch("a", t0, 0s).epoch();
    EXPECT_EQ(store.touch("a", t0 + 1000h, 0s).epoch(), epoch);
}

} // namespace
} // namespace gyre::node
