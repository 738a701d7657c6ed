// hub::hub::broadcast of one prepared publication push to 10,000 local subscribers of one
// channel. Each subscriber does what a session's outbox does on delivery: it appends the
// frame's shared_bytes (one refcount increment) to its own queue. Items are deliveries.
#include "bench/bench_payload.hpp"
#include "core/shared_bytes.hpp"
#include "hub/hub.hpp"
#include "hub/prepared_push.hpp"
#include "hub/subscriber.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using gyre::hub::wire;

class queue_subscriber final : public gyre::hub::subscriber {
public:
    explicit queue_subscriber(wire w)
        : wire_(w) {
        outbox_.reserve(4);
    }

    void deliver(const gyre::hub::prepared_push_ptr& p) override {
        outbox_.push_back(p->frame(wire_));
    }

    /// What a completed write does: the frames' refcounts are released.
    void flush() noexcept { outbox_.clear(); }

private:
    wire wire_;
    std::vector<gyre::shared_bytes> outbox_;
};

/// range(0): subscribers; range(1): 0 = all JSON, 1 = every other subscriber Protobuf.
void bm_hub_broadcast(benchmark::State& state) {
    const auto subscribers = static_cast<std::size_t>(state.range(0));
    const bool mixed = state.range(1) != 0;
    const std::string channel = "chat:room";

    std::vector<queue_subscriber> subs;
    subs.reserve(subscribers);
    gyre::hub::hub h;
    queue_subscriber bystander(wire::json); // the channel is not alone in the hub
    h.add("other", &bystander);
    for (std::size_t i = 0; i < subscribers; ++i) {
        subs.emplace_back(mixed && i % 2 == 1 ? wire::protobuf : wire::json);
        h.add(channel, &subs.back());
    }
    const auto push = gyre::bench::publication_push(channel, 100);

    for (auto _ : state) {
        // A fresh publication each time, so the one encode per format is part of the cost.
        h.broadcast(gyre::bench::prepare(push));
        state.PauseTiming();
        for (auto& s : subs) {
            s.flush();
        }
        state.ResumeTiming();
    }
    const auto deliveries = state.iterations() * static_cast<std::int64_t>(subscribers);
    state.SetItemsProcessed(deliveries);
    state.counters["time_per_delivery"] = benchmark::Counter(
        static_cast<double>(subscribers),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

} // namespace

BENCHMARK(bm_hub_broadcast)
    ->ArgNames({"subscribers", "mixed"})
    ->Args({10000, 0})
    ->Args({10000, 1})
    ->Unit(benchmark::kMicrosecond);
