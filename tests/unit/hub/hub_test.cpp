// hub::hub (channel -> local subscribers, broadcast) and hub::prepared_push (encode once per
// wire format, shared by every subscriber and thread).
#include "hub/hub.hpp"
#include "hub/prepared_push.hpp"
#include "hub/subscriber.hpp"
#include "metrics/catalog.hpp"
#include "protocol/client/json_codec.hpp"
#include "protocol/client/protobuf_codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace gyre::hub {
namespace {

namespace pc = protocol::client;

class recording_subscriber final : public subscriber {
public:
    void deliver(const prepared_push_ptr& p) override { received_.push_back(p); }

    /// Records the batch as one message (its joined JSON frame) and its pushes.
    void deliver_batch(const push_batch& b) override {
        batches_.push_back(std::string(b.frames(wire::json).view()));
        for (const auto& p : b.pushes()) {
            received_.push_back(p);
        }
    }

    const std::vector<prepared_push_ptr>& received() const noexcept { return received_; }

    const std::vector<std::string>& batches() const noexcept { return batches_; }

private:
    std::vector<prepared_push_ptr> received_;
    std::vector<std::string> batches_;
};

/// A hub that gathers publications; flush() plays the end of the loop turn.
struct batching_hub {
    int scheduled = 0;
    hub h{[this] {
        ++scheduled;
    }};
};

std::string data_of(const prepared_push_ptr& p) {
    return std::get<pc::publication>(p->push().body).data;
}

prepared_push_ptr publication(std::string channel, std::string data) {
    pc::publication pub;
    pub.data = std::move(data);
    pc::push p;
    p.channel = std::move(channel);
    p.body = std::move(pub);
    return std::make_shared<const prepared_push>(std::move(p));
}

TEST(hub, add_reports_the_first_subscriber_of_a_channel) {
    hub h;
    recording_subscriber a;
    recording_subscriber b;
    EXPECT_TRUE(h.add("news", &a));
    EXPECT_FALSE(h.add("news", &b));
    EXPECT_TRUE(h.add("chat:1", &a)); // first on another channel
    EXPECT_EQ(h.subscribers("news"), 2U);
    EXPECT_EQ(h.subscribers("chat:1"), 1U);
    EXPECT_EQ(h.subscribers("other"), 0U);
    EXPECT_EQ(h.channels(), 2U);
}

TEST(hub, remove_reports_the_last_subscriber_of_a_channel) {
    hub h;
    recording_subscriber a;
    recording_subscriber b;
    h.add("news", &a);
    h.add("news", &b);
    EXPECT_FALSE(h.remove("news", &a));
    EXPECT_EQ(h.subscribers("news"), 1U);
    EXPECT_TRUE(h.remove("news", &b));
    EXPECT_EQ(h.subscribers("news"), 0U);
    EXPECT_EQ(h.channels(), 0U);
    // The channel is gone: adding again is a first subscriber once more.
    EXPECT_TRUE(h.add("news", &b));
}

TEST(hub, removing_an_unknown_subscriber_changes_nothing) {
    hub h;
    recording_subscriber a;
    recording_subscriber stranger;
    EXPECT_FALSE(h.remove("news", &a)); // unknown channel
    h.add("news", &a);
    EXPECT_FALSE(h.remove("news", &stranger));
    EXPECT_EQ(h.subscribers("news"), 1U);
    EXPECT_EQ(h.channels(), 1U);
}

TEST(hub, broadcast_reaches_each_local_subscriber_of_the_channel_once) {
    hub h;
    std::array<recording_subscriber, 5> subs;
    recording_subscriber elsewhere;
    for (auto& s : subs) {
        h.add("news", &s);
    }
    h.add("sport", &elsewhere);

    const auto p = publication("news", R"({"text":"hello"})");
    h.broadcast(p);
    for (const auto& s : subs) {
        ASSERT_EQ(s.received().size(), 1U);
        EXPECT_EQ(s.received().front(), p); // the same shared object, not a copy
    }
    EXPECT_TRUE(elsewhere.received().empty());

    // After a removal (swap with the last), every remaining subscriber still gets one copy.
    h.remove("news", &subs[1]);
    h.broadcast(publication("news", "2"));
    for (std::size_t i = 0; i < subs.size(); ++i) {
        EXPECT_EQ(subs[i].received().size(), i == 1 ? 1U : 2U) << "subscriber " << i;
    }
    h.broadcast(publication("nobody", "3")); // no such channel: a no-op
    EXPECT_TRUE(elsewhere.received().empty());
}

TEST(prepared_push, data_that_is_not_json_fails_the_json_frames_only) {
    const auto bad = publication("news", std::string("\xff\x00{", 3));
    EXPECT_TRUE(bad->frame(wire::json).empty());
    EXPECT_TRUE(bad->encode_failed(wire::json));
    EXPECT_TRUE(bad->frame(wire::json_unidirectional).empty());
    EXPECT_TRUE(bad->encode_failed(wire::json_unidirectional));
    EXPECT_FALSE(bad->frame(wire::protobuf).empty());
    EXPECT_FALSE(bad->encode_failed(wire::protobuf));
    const auto good = publication("news", R"({"n":1})");
    EXPECT_FALSE(good->frame(wire::json).empty());
    EXPECT_FALSE(good->encode_failed(wire::json));
}

/// Records, per batch, its JSON and Protobuf frames' failure flags and the joined JSON frame.
class flag_subscriber final : public subscriber {
public:
    void deliver(const prepared_push_ptr&) override {}

    void deliver_batch(const push_batch& b) override {
        json = std::string(b.frames(wire::json).view());
        json_failed = b.encode_failed(wire::json);
        (void)b.frames(wire::protobuf);
        protobuf_failed = b.encode_failed(wire::protobuf);
    }

    std::string json;
    bool json_failed = false;
    bool protobuf_failed = true;
};

TEST(hub_batching, a_batch_with_a_publication_that_is_not_json_says_so) {
    batching_hub b;
    flag_subscriber x;
    flag_subscriber y;
    b.h.add("news", &x);
    b.h.add("news", &y);
    const auto first = publication("news", "1");
    const auto third = publication("news", "3");
    b.h.broadcast(first);
    b.h.broadcast(publication("news", std::string("\x80", 1)));
    b.h.broadcast(third);
    b.h.flush_batches();
    for (const auto* s : {&x, &y}) {
        EXPECT_TRUE(s->json_failed);
        EXPECT_FALSE(s->protobuf_failed);
        EXPECT_EQ(s->json,
                  std::string(first->frame(wire::json).view()) + "\n" +
                      std::string(third->frame(wire::json).view()));
    }
    b.h.broadcast(publication("news", "4")); // a later batch of valid data is fine
    b.h.flush_batches();
    EXPECT_FALSE(x.json_failed);
}

TEST(hub_batching, publications_of_a_turn_reach_each_subscriber_as_one_message_in_order) {
    batching_hub b;
    recording_subscriber x;
    recording_subscriber y;
    b.h.add("news", &x);
    b.h.add("news", &y);
    for (const char* d : {"1", "2", "3"}) {
        b.h.broadcast(publication("news", d));
    }
    EXPECT_TRUE(x.received().empty()); // nothing leaves before the end of the turn
    EXPECT_EQ(b.scheduled, 1);         // one flush per turn, not per publication
    b.h.flush_batches();
    for (const auto* s : {&x, &y}) {
        ASSERT_EQ(s->received().size(), 3U);
        EXPECT_EQ(data_of(s->received()[0]), "1");
        EXPECT_EQ(data_of(s->received()[2]), "3");
        ASSERT_EQ(s->batches().size(), 1U);
        const auto& first = s->received()[0]->frame(wire::json);
        const auto& second = s->received()[1]->frame(wire::json);
        const auto& third = s->received()[2]->frame(wire::json);
        EXPECT_EQ(s->batches()[0],
                  std::string(first.view()) + "\n" + std::string(second.view()) + "\n" +
                      std::string(third.view()));
    }
    // The next turn starts a new batch and asks for a new flush.
    b.h.broadcast(publication("news", "4"));
    EXPECT_EQ(b.scheduled, 2);
    b.h.flush_batches();
    EXPECT_EQ(x.received().size(), 4U);
}

TEST(hub_batching, protobuf_batch_is_the_delimited_frames_back_to_back) {
    batching_hub b;

    struct protobuf_recorder final : subscriber {
        void deliver(const prepared_push_ptr&) override { ++single; }

        void deliver_batch(const push_batch& batch) override {
            joined = std::string(batch.frames(wire::protobuf).view());
            expected.clear();
            for (const auto& p : batch.pushes()) {
                expected += std::string(p->frame(wire::protobuf).view());
            }
        }

        int single = 0;
        std::string joined;
        std::string expected;
    } x, y;

    b.h.add("news", &x);
    b.h.add("news", &y);
    b.h.broadcast(publication("news", "a"));
    b.h.broadcast(publication("news", "b"));
    b.h.flush_batches();
    EXPECT_EQ(x.single, 0);
    EXPECT_FALSE(x.joined.empty());
    EXPECT_EQ(x.joined, x.expected);
}

TEST(hub_batching, a_join_first_delivers_the_gathered_publications) {
    batching_hub b;
    recording_subscriber x;
    recording_subscriber y;
    b.h.add("news", &x);
    b.h.add("news", &y);
    b.h.broadcast(publication("news", "1"));
    pc::push join;
    join.channel = "news";
    join.body = pc::join_push{};
    b.h.broadcast(std::make_shared<const prepared_push>(std::move(join)));
    ASSERT_EQ(x.received().size(), 2U); // the publication, then the join: channel order kept
    EXPECT_EQ(x.received()[0]->kind(), pc::push_kind::pub);
    EXPECT_EQ(x.received()[1]->kind(), pc::push_kind::join);
    b.h.flush_batches();
    EXPECT_EQ(x.received().size(), 2U); // nothing delivered twice
}

TEST(hub_batching, a_lone_subscriber_gets_each_publication_at_once) {
    batching_hub b;
    recording_subscriber x;
    b.h.add("news", &x);
    b.h.broadcast(publication("news", "1"));
    EXPECT_EQ(x.received().size(), 1U);
    EXPECT_EQ(b.scheduled, 0);
}

TEST(hub_batching, a_channel_emptied_before_the_flush_drops_its_batch) {
    batching_hub b;
    recording_subscriber x;
    recording_subscriber y;
    b.h.add("news", &x);
    b.h.add("news", &y);
    b.h.broadcast(publication("news", "old"));
    b.h.remove("news", &x);
    b.h.remove("news", &y);
    // Subscribed again within the same turn: the old publication is not theirs.
    b.h.add("news", &x);
    b.h.add("news", &y);
    b.h.flush_batches();
    EXPECT_TRUE(x.received().empty());
    EXPECT_TRUE(y.received().empty());
}

TEST(prepared_push, json_frame_is_the_bidirectional_push) {
    const auto p = publication("news", R"({"text":"hello"})");
    EXPECT_EQ(p->channel(), "news");
    EXPECT_EQ(p->kind(), pc::push_kind::pub);
    // Spec protocol.md section 2.10.
    EXPECT_EQ(p->frame(wire::json).view(),
              R"({"push":{"channel":"news","pub":{"data":{"text":"hello"}}}})");
}

TEST(prepared_push, protobuf_frame_is_a_delimited_reply_with_the_push) {
    const auto p = publication("news", "\x01\x02binary");
    const auto& frame = p->frame(wire::protobuf);
    const auto replies = pc::protobuf::decode_replies(frame.view());
    ASSERT_TRUE(replies);
    ASSERT_EQ(replies->size(), 1U);
    const auto* push = std::get_if<pc::push>(&replies->front().body);
    ASSERT_NE(push, nullptr);
    EXPECT_EQ(*push, p->push());
}

TEST(prepared_push, frame_is_encoded_once_and_shared) {
    const auto p = publication("news", R"({"n":1})");
    for (const auto w : {wire::json, wire::protobuf}) {
        const shared_bytes& first = p->frame(w);
        const shared_bytes& second = p->frame(w);
        EXPECT_EQ(&first, &second);
        EXPECT_EQ(first.data(), second.data()); // same bytes, not an equal re-encoding
        EXPECT_FALSE(first.empty());
        const shared_bytes copy = first; // what a subscriber's outbox keeps
        EXPECT_EQ(copy.data(), p->frame(w).data());
    }
    EXPECT_NE(p->frame(wire::json).view(), p->frame(wire::protobuf).view());
}

TEST(prepared_push, concurrent_first_calls_share_one_encoding) {
    constexpr std::size_t threads = 4;
    // Fresh pushes each round, so the threads race on the first (encoding) call every time.
    for (int round = 0; round < 50; ++round) {
        const auto p = publication("news", R"({"round":)" + std::to_string(round) + "}");
        for (const auto w : {wire::json, wire::protobuf}) {
            std::array<const shared_bytes*, threads> frames{};
            std::array<const char*, threads> bytes{};
            std::latch start(threads);
            std::vector<std::jthread> pool;
            for (std::size_t t = 0; t < threads; ++t) {
                pool.emplace_back([&, t] {
                    start.arrive_and_wait();
                    frames[t] = &p->frame(w);
                    bytes[t] = frames[t]->data();
                });
            }
            pool.clear(); // joins
            for (std::size_t t = 1; t < threads; ++t) {
                ASSERT_EQ(frames[t], frames[0]) << "round " << round << " thread " << t;
                ASSERT_EQ(bytes[t], bytes[0]) << "round " << round << " thread " << t;
            }
            ASSERT_NE(bytes[0], nullptr);
            ASSERT_EQ(frames[0]->view(), p->frame(w).view());
        }
    }
}

// ---- per-channel order ------------------------------------------------------------------------

namespace order_check {

prepared_push_ptr stamped(std::uint64_t sequence, pc::push_kind kind = pc::push_kind::pub) {
    pc::push p;
    p.channel = "news";
    if (kind == pc::push_kind::join) {
        p.body = pc::join_push{};
    } else {
        pc::publication pub;
        pub.data = std::to_string(sequence);
        p.body = std::move(pub);
    }
    auto pp = std::make_shared<prepared_push>(std::move(p));
    pp->stamp_sequence(sequence);
    return pp;
}

bool strictly_increasing(const std::vector<prepared_push_ptr>& got) {
    for (std::size_t i = 1; i < got.size(); ++i) {
        if (got[i]->sequence() <= got[i - 1]->sequence()) {
            return false;
        }
    }
    return true;
}

} // namespace order_check

// Every interleaving of publications, joins, subscribers coming and going and end-of-turn
// flushes keeps each subscriber's pushes in the channel's order (a seeded random walk, so a
// failure replays).
TEST(hub_order, any_interleaving_keeps_each_subscribers_order) {
    for (unsigned seed = 1; seed <= 200; ++seed) {
        batching_hub b;
        std::array<recording_subscriber, 3> subs;
        std::array<bool, 3> present{};
        std::uint64_t sequence = 0;
        unsigned state = seed;
        const auto next = [&state] {
            state = state * 1103515245U + 12345U;
            return (state >> 16) % 8;
        };
        for (int step = 0; step < 300; ++step) {
            const auto op = next();
            const auto who = next() % subs.size();
            if (op < 4) {
                b.h.broadcast(order_check::stamped(++sequence));
            } else if (op == 4) {
                b.h.broadcast(order_check::stamped(++sequence, pc::push_kind::join));
            } else if (op == 5) {
                b.h.flush_batches();
            } else if (op == 6 && !present[who]) {
                b.h.add("news", &subs[who]);
                present[who] = true;
            } else if (op == 7 && present[who]) {
                b.h.remove("news", &subs[who]);
                present[who] = false;
            }
        }
        b.h.flush_batches();
        for (const auto& s : subs) {
            ASSERT_TRUE(order_check::strictly_increasing(s.received())) << "seed " << seed;
        }
    }
}

TEST(hub_order, a_push_older_than_one_already_seen_is_counted) {
    hub h;
    recording_subscriber x;
    h.add("news", &x);
    const auto before = metrics::gyre_order_violations.with({}).value();
    h.broadcast(order_check::stamped(2));
    h.broadcast(order_check::stamped(1)); // what no broker or inbox may ever do
    h.broadcast(order_check::stamped(3));
    EXPECT_EQ(metrics::gyre_order_violations.with({}).value(), before + 1);
    EXPECT_EQ(x.received().size(), 3U); // counted and logged, never dropped or reordered
}

} // namespace
} // namespace gyre::hub
