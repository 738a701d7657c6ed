// Encoding cost of one publication push (JSON and Protobuf, payloads of 100 B and 1 KiB):
// once per publication through hub::prepared_push::frame(), against the naive fan-out that
// re-encodes for every subscriber. Also the JSON command decoder on typical client frames.
#include "bench/bench_payload.hpp"
#include "core/shared_bytes.hpp"
#include "hub/prepared_push.hpp"
#include "protocol/client/json_codec.hpp"
#include "protocol/client/protobuf_codec.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace pc = gyre::protocol::client;
using gyre::shared_bytes;
using gyre::hub::wire;

constexpr std::int64_t fanout_subscribers = 1000;

std::size_t payload_arg(const benchmark::State& state) {
    return static_cast<std::size_t>(state.range(0));
}

shared_bytes encode_naive(const pc::push& p, wire w) {
    std::string out;
    if (w == wire::json) {
        if (!pc::json::append_push(out, p, pc::push_form::bidirectional)) {
            out.clear();
        }
    } else {
        pc::protobuf::append_push(
            out, p, pc::push_form::bidirectional, pc::protobuf::framing::delimited);
    }
    return shared_bytes(std::move(out));
}

/// One publication arrives: wrap it once and encode its frame once.
template <wire W>
void bm_prepared_push_encode_once(benchmark::State& state) {
    const auto push = gyre::bench::publication_push("chat:room", payload_arg(state));
    std::size_t frame_size = 0;
    for (auto _ : state) {
        const auto p = gyre::bench::prepare(push);
        const shared_bytes& f = p->frame(W);
        frame_size = f.size();
        benchmark::DoNotOptimize(f.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame_size));
    state.counters["frame_bytes"] = static_cast<double>(frame_size);
}

/// For comparison: the bare encode (append_push into a fresh string, wrapped in shared_bytes).
template <wire W>
void bm_encode_direct(benchmark::State& state) {
    const auto push = gyre::bench::publication_push("chat:room", payload_arg(state));
    std::size_t frame_size = 0;
    for (auto _ : state) {
        const shared_bytes f = encode_naive(push, W);
        frame_size = f.size();
        benchmark::DoNotOptimize(f.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame_size));
}

/// For comparison: wrapping the push in a prepared_push (copy + allocation), no encoding.
void bm_prepare_only(benchmark::State& state) {
    const auto push = gyre::bench::publication_push("chat:room", payload_arg(state));
    for (auto _ : state) {
        const auto p = gyre::bench::prepare(push);
        benchmark::DoNotOptimize(p.get());
    }
}

/// Fan-out to 1000 subscribers of one format: one encode, then one refcounted copy each.
template <wire W>
void bm_fanout_prepared(benchmark::State& state) {
    const auto push = gyre::bench::publication_push("chat:room", payload_arg(state));
    std::vector<shared_bytes> outbox;
    outbox.reserve(fanout_subscribers);
    for (auto _ : state) {
        const auto p = gyre::bench::prepare(push);
        for (std::int64_t i = 0; i < fanout_subscribers; ++i) {
            outbox.push_back(p->frame(W));
        }
        benchmark::DoNotOptimize(outbox.data());
        outbox.clear();
    }
    state.SetItemsProcessed(state.iterations() * fanout_subscribers);
}

/// The same fan-out, re-encoding the push for every subscriber (what prepared_push avoids).
template <wire W>
void bm_fanout_naive(benchmark::State& state) {
    const auto push = gyre::bench::publication_push("chat:room", payload_arg(state));
    std::vector<shared_bytes> outbox;
    outbox.reserve(fanout_subscribers);
    for (auto _ : state) {
        for (std::int64_t i = 0; i < fanout_subscribers; ++i) {
            outbox.push_back(encode_naive(push, W));
        }
        benchmark::DoNotOptimize(outbox.data());
        outbox.clear();
    }
    state.SetItemsProcessed(state.iterations() * fanout_subscribers);
}

/// decode_commands on one client frame; items are commands.
void bm_json_decode(benchmark::State& state, const std::string& frame) {
    std::size_t commands = 0;
    for (auto _ : state) {
        auto decoded = pc::json::decode_commands(frame);
        if (!decoded) {
            state.SkipWithError("frame does not decode");
            break;
        }
        commands = decoded->size();
        benchmark::DoNotOptimize(decoded->data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(commands));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
}

const std::string subscribe_frame = R"({"subscribe":{"channel":"news","flag":1},"id":2})";

const std::string recover_frame =
    R"({"subscribe":{"channel":"chat:1","recover":true,"offset":5,"epoch":"ab12","flag":1},"id":9})";

const std::string publish_frame =
    R"({"publish":{"channel":"news","data":)" + gyre::bench::json_payload(100) + R"(},"id":3})";

const std::string publish_frame_1k =
    R"({"publish":{"channel":"news","data":)" + gyre::bench::json_payload(1024) + R"(},"id":3})";

} // namespace

BENCHMARK(bm_prepared_push_encode_once<wire::json>)->Arg(100)->Arg(1024);
BENCHMARK(bm_prepared_push_encode_once<wire::protobuf>)->Arg(100)->Arg(1024);
BENCHMARK(bm_encode_direct<wire::json>)->Arg(100)->Arg(1024);
BENCHMARK(bm_encode_direct<wire::protobuf>)->Arg(100)->Arg(1024);
BENCHMARK(bm_prepare_only)->Arg(100)->Arg(1024);
BENCHMARK(bm_fanout_prepared<wire::json>)->Arg(100)->Arg(1024);
BENCHMARK(bm_fanout_naive<wire::json>)->Arg(100)->Arg(1024);
BENCHMARK(bm_fanout_prepared<wire::protobuf>)->Arg(100)->Arg(1024);
BENCHMARK(bm_fanout_naive<wire::protobuf>)->Arg(100)->Arg(1024);
BENCHMARK_CAPTURE(bm_json_decode, subscribe, subscribe_frame);
BENCHMARK_CAPTURE(bm_json_decode, subscribe_recover, recover_frame);
BENCHMARK_CAPTURE(bm_json_decode, publish_100B, publish_frame);
BENCHMARK_CAPTURE(bm_json_decode, publish_1KiB, publish_frame_1k);
