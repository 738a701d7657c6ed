// Per-channel order through a real multi-shard node (memory broker, one thread per shard):
// publishers on every shard, each publishing its next publication when the previous one was
// accepted, and subscribers on every shard. Each subscriber must see every publisher's
// publications in that publisher's order, the home shard's sequence strictly growing, and, with
// history, offsets one apart.
#include "hub/subscriber.hpp"
#include "metrics/catalog.hpp"
#include "node/node.hpp"
#include "runtime/shard_set.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace gyre::node {
namespace {

namespace pc = protocol::client;
using namespace std::chrono_literals;

constexpr std::size_t shard_count = 3;
constexpr std::size_t per_publisher = 400;
const std::string channel = "news";

/// Lives on one shard: everything it records is touched only there until the test settles.
class recording_subscriber final : public hub::subscriber {
public:
    void deliver(const hub::prepared_push_ptr& p) override {
        if (p->kind() == pc::push_kind::pub) {
            got.push_back(p);
            received.fetch_add(1);
        }
    }

    std::vector<hub::prepared_push_ptr> got;
    std::atomic<std::size_t> received{0};
};

/// "<publisher>:<seq>" as the data, so the order of each publisher can be checked.
pc::push numbered(std::size_t publisher, std::size_t seq) {
    pc::publication pub;
    pub.data = std::to_string(publisher) + ":" + std::to_string(seq);
    pc::push p;
    p.channel = channel;
    p.body = std::move(pub);
    return p;
}

struct chain {
    node* n = nullptr;
    std::size_t origin = 0;
    publish_options options;
    std::size_t seq = 0;
    std::atomic<bool> done{false};

    void next() {
        if (seq == per_publisher) {
            done = true;
            return;
        }
        n->publish(origin, numbered(origin, seq++), options, [this](const publish_result& r) {
            ASSERT_TRUE(r.ok);
            next(); // runs on `origin`: the next one leaves once this one was accepted
        });
    }
};

template <typename Pred>
bool wait_for(Pred pred, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

void run(bool history) {
    runtime::shard_set shards(shard_count);
    node n(shards);
    shards.start();
    const auto violations_before = metrics::gyre_order_violations.with({}).value();

    // One subscriber on shard 0 (delivered at once) and two on the others (gathered per turn):
    // both of the hub's paths.
    std::vector<std::unique_ptr<recording_subscriber>> subs;
    std::atomic<std::size_t> acknowledged{0};
    for (std::size_t s = 0; s < shard_count; ++s) {
        for (int k = 0; k < (s == 0 ? 1 : 2); ++k) {
            auto* sub = subs.emplace_back(std::make_unique<recording_subscriber>()).get();
            shards.at(s).submit([&n, &acknowledged, s, sub] {
                n.subscribe(s, channel, sub, [&acknowledged](bool ok) {
                    EXPECT_TRUE(ok);
                    acknowledged.fetch_add(1);
                });
            });
        }
    }
    ASSERT_TRUE(wait_for([&] { return acknowledged == subs.size(); }));

    std::vector<std::unique_ptr<chain>> chains;
    for (std::size_t s = 0; s < shard_count; ++s) {
        auto& c = *chains.emplace_back(std::make_unique<chain>());
        c.n = &n;
        c.origin = s;
        if (history) {
            c.options.history_size = 10'000;
            c.options.history_ttl = 60s;
            c.options.history_meta_ttl = 60s;
        }
        shards.at(s).submit([&c] { c.next(); });
    }
    const std::size_t total = shard_count * per_publisher;
    ASSERT_TRUE(wait_for([&] {
        for (const auto& s : subs) {
            if (s->received < total) {
                return false;
            }
        }
        return true;
    }));
    shards.settle(2, std::chrono::steady_clock::now() + 5s);

    for (std::size_t i = 0; i < subs.size(); ++i) {
        const auto& got = subs[i]->got;
        ASSERT_EQ(got.size(), total);
        std::vector<std::size_t> next(shard_count, 0);
        for (std::size_t k = 0; k < got.size(); ++k) {
            const auto& pub = std::get<pc::publication>(got[k]->push().body);
            const auto colon = pub.data.find(':');
            const auto who = std::stoul(pub.data.substr(0, colon));
            const auto seq = std::stoul(pub.data.substr(colon + 1));
            ASSERT_EQ(seq, next[who]) << "subscriber " << i << ", publisher " << who;
            next[who] = seq + 1;
            if (k > 0) {
                ASSERT_GT(got[k]->sequence(), got[k - 1]->sequence());
                if (history) {
                    const auto& prev = std::get<pc::publication>(got[k - 1]->push().body);
                    ASSERT_EQ(pub.offset, prev.offset + 1) << "subscriber " << i;
                }
            }
        }
    }
    EXPECT_EQ(metrics::gyre_order_violations.with({}).value(), violations_before);
    for (std::size_t s = 0; s < shard_count; ++s) {
        shards.at(s).submit([&n, &subs, s] {
            for (std::size_t i = 0; i < subs.size(); ++i) {
                n.unsubscribe(s, channel, subs[i].get()); // only this shard's are found
            }
        });
    }
    shards.settle(3, std::chrono::steady_clock::now() + 5s);
    shards.stop();
    shards.join();
}

TEST(node_order, publishers_on_every_shard_keep_their_order_at_every_subscriber) {
    run(false);
}

TEST(node_order, with_history_offsets_grow_by_one_at_every_subscriber) {
    run(true);
}

} // namespace
} // namespace gyre::node
