// Micro-benchmarks of the metrics registry: what a hot path pays per count (a counter in its
// thread's own slot, against one atomic every thread shares), per observation, and what a
// scrape costs with the catalog filled as a busy node fills it.
#include "metrics/catalog.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <string>

namespace {

using namespace gyre;

metrics::counter_family bench_counters{"bench_metrics_counter_total", "bench", {"kind"}};
std::atomic<std::uint64_t> shared_counter{0};

void BM_CounterIncOwnSlot(benchmark::State& state) {
    metrics::bind_thread_to_shard(static_cast<std::size_t>(state.thread_index()));
    auto& c = bench_counters.with({"own"});
    for (auto _ : state) {
        c.inc();
    }
    benchmark::DoNotOptimize(c.value());
}

BENCHMARK(BM_CounterIncOwnSlot)->Threads(1)->Threads(2);

// The design it replaces: one atomic all threads add to (the cache line bounces).
void BM_CounterIncSharedAtomic(benchmark::State& state) {
    for (auto _ : state) {
        shared_counter.fetch_add(1, std::memory_order_relaxed);
    }
}

BENCHMARK(BM_CounterIncSharedAtomic)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
    metrics::bind_thread_to_shard(static_cast<std::size_t>(state.thread_index()));
    auto& h = metrics::client_command_duration.with({"bench", ""});
    double v = 0.0001;
    for (auto _ : state) {
        h.observe(v);
        v = v < 1 ? v * 1.7 : 0.0001;
    }
}

BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

// A rare event's lookup by label values (a disconnect code, an API error): family mutex + map.
void BM_CounterLookupAndInc(benchmark::State& state) {
    const std::string code = "3001";
    for (auto _ : state) {
        metrics::client_server_disconnects.with({code}).inc();
    }
}

BENCHMARK(BM_CounterLookupAndInc);

// One scrape's rendering with every transport's counters, every command timing and every
// action resolved (about what a node serving all transports exports).
void BM_RenderScrape(benchmark::State& state) {
    metrics::precreate();
    for (auto name :
         {"websocket", "http_stream", "sse", "uni_websocket", "uni_http_stream", "uni_sse"}) {
        (void)metrics::for_transport(name);
    }
    std::size_t bytes = 0;
    for (auto _ : state) {
        bytes = metrics::registry::global().render({}).size();
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
}

BENCHMARK(BM_RenderScrape)->Unit(benchmark::kMicrosecond);

} // namespace
