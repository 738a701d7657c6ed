// Outbox coalescing on the delivery hot path, with real sessions (session::session) on a real
// node and context: K publication frames reach a subscribed session within one loop turn, the
// turn ends (context::flush_queued, as the posted flush task runs it), and they leave as one
// transport write. The transport is a bench-local fake: write() takes the messages, sums their
// bytes (no syscalls) and completes the write either synchronously from inside write() (as the
// rewritten WebSocket transport may) or from a posted handler (as an asynchronous write does).
//
// The shard is not started: its io_context is polled on the benchmark thread, so one poll() is
// one loop turn (the flush task, write completions, node acknowledgements). Frames are encoded
// once before timing (encoding is measured in encode_bench.cpp); items are deliveries.
#include "bench/bench_payload.hpp"
#include "config/config.hpp"
#include "core/shared_bytes.hpp"
#include "hub/prepared_push.hpp"
#include "node/node.hpp"
#include "runtime/shard_set.hpp"
#include "session/context.hpp"
#include "session/session.hpp"
#include "session/transport.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
using gyre::shared_bytes;

const std::string channel = "news"; // no namespace: allowed by client.insecure

enum class completion : std::uint8_t {
    sync,   ///< write() calls session::on_write_done(true) before it returns
    posted, ///< the completion is posted and runs later in the same loop turn
};

/// A transport that writes nowhere: it counts writes, messages and bytes.
class fake_transport final : public gyre::session::transport {
public:
    fake_transport(net::io_context& io, completion mode)
        : io_(io)
        , mode_(mode) {}

    void attach(gyre::session::session* s) noexcept { session_ = s; }

    gyre::hub::wire wire_format() const noexcept override { return gyre::hub::wire::json; }

    std::string_view name() const noexcept override { return "bench"; }

    void write(std::vector<shared_bytes>& messages) override {
        // Take the messages first (as the WebSocket transport does): a synchronous completion
        // re-enters session::flush(), which refills the session's batch vector.
        writing_.swap(messages);
        std::size_t n = 0;
        for (std::size_t i = 0; i < writing_.size(); ++i) {
            n += writing_[i].size() + (i > 0 ? 1 : 0); // JSON messages are joined by '\n'
        }
        bytes_ += n;
        messages_ += writing_.size();
        ++writes_;
        if (keep_last_) {
            last_ = std::string(writing_.back().data(), writing_.back().size());
        }
        if (mode_ == completion::sync) {
            writing_.clear(); // the frame is on the wire: release the references
            session_->on_write_done(true);
            return;
        }
        net::post(io_, [this] {
            writing_.clear();
            session_->on_write_done(true);
        });
    }

    void close(gyre::model::disconnect d) override {
        closed_ = true;
        close_code_ = d.code;
    }

    void defer(gyre::unique_function<void()> fn) override { net::post(io_, std::move(fn)); }

    void wake_at(std::chrono::steady_clock::time_point /*when*/) override {}

    std::uint64_t writes() const noexcept { return writes_; }

    std::uint64_t messages() const noexcept { return messages_; }

    std::uint64_t bytes() const noexcept { return bytes_; }

    bool closed() const noexcept { return closed_; }

    std::uint32_t close_code() const noexcept { return close_code_; }

    void keep_last(bool on) noexcept { keep_last_ = on; }

    const std::string& last() const noexcept { return last_; }

    void reset_counts() noexcept { writes_ = messages_ = bytes_ = 0; }

private:
    net::io_context& io_;
    completion mode_;
    gyre::session::session* session_ = nullptr;
    std::vector<shared_bytes> writing_;
    std::uint64_t writes_ = 0;
    std::uint64_t messages_ = 0;
    std::uint64_t bytes_ = 0;
    bool closed_ = false;
    std::uint32_t close_code_ = 0;
    bool keep_last_ = true;
    std::string last_;
};

std::shared_ptr<const gyre::config::config> bench_config() {
    auto c = std::make_shared<gyre::config::config>();
    c->client.insecure = true;                             // connect and subscribe freely
    c->client.ping_interval = std::chrono::nanoseconds(0); // no ping schedule
    c->client.queue_max_size = std::int64_t{64} << 20;     // K = 512 stays far below it
    return c;
}

/// One node with one (unstarted) shard, its context and N connected, subscribed sessions.
class bench_node {
public:
    bench_node(std::size_t sessions, completion mode)
        : ctx_(node_, gyre::session::settings::make(bench_config()), "bench") {
        transports_.reserve(sessions);
        sessions_.reserve(sessions);
        for (std::size_t i = 0; i < sessions; ++i) {
            transports_.push_back(std::make_unique<fake_transport>(io(), mode));
            auto s = std::make_shared<gyre::session::session>(ctx_, 0, *transports_.back());
            transports_.back()->attach(s.get());
            sessions_.push_back(std::move(s));
        }
        for (std::size_t i = 0; i < sessions; ++i) {
            sessions_[i]->on_frame(R"({"id":1,"connect":{}})", false);
        }
        turn();
        for (std::size_t i = 0; i < sessions; ++i) {
            sessions_[i]->on_frame(R"({"id":2,"subscribe":{"channel":")" + channel + R"("}})",
                                   false);
        }
        turn();
        for (auto& t : transports_) {
            const auto& reply = t->last();
            if (t->closed() || t->writes() != 2 || reply.find(R"("id":2)") == std::string::npos ||
                reply.find(R"("error")") != std::string::npos) {
                error_ = "setup failed: " + reply;
                break;
            }
            t->keep_last(false);
            t->reset_counts();
        }
    }

    bench_node(const bench_node&) = delete;
    bench_node& operator=(const bench_node&) = delete;

    ~bench_node() {
        turn();
        sessions_.clear(); // unsubscribes from the hub; transports outlive their sessions
        turn();
    }

    const std::string& error() const noexcept { return error_; }

    /// The end of the loop turn: runs everything posted (the flush task, write completions).
    void turn() { io().poll(); }

    gyre::hub::hub& hub() noexcept { return node_.local_hub(0); }

    gyre::session::session& session(std::size_t i) noexcept { return *sessions_[i]; }

    const std::vector<std::unique_ptr<fake_transport>>& transports() const noexcept {
        return transports_;
    }

    std::uint64_t writes() const noexcept {
        std::uint64_t n = 0;
        for (const auto& t : transports_) {
            n += t->writes();
        }
        return n;
    }

    std::uint64_t messages() const noexcept {
        std::uint64_t n = 0;
        for (const auto& t : transports_) {
            n += t->messages();
        }
        return n;
    }

    bool any_closed() const noexcept {
        for (const auto& t : transports_) {
            if (t->closed()) {
                return true;
            }
        }
        return false;
    }

private:
    net::io_context& io() noexcept { return shards_.at(0).context(); }

    gyre::runtime::shard_set shards_{1};
    // poll() must not find the io_context stopped for lack of work between turns.
    net::executor_work_guard<net::io_context::executor_type> work_{
        net::make_work_guard(shards_.at(0).context())};
    gyre::node::node node_{shards_};
    gyre::session::context ctx_;
    std::vector<std::unique_ptr<fake_transport>> transports_;
    std::vector<std::shared_ptr<gyre::session::session>> sessions_;
    std::string error_;
};

/// K distinct publications on `channel`, each with its JSON frame already encoded.
std::vector<gyre::hub::prepared_push_ptr> publications(std::size_t k) {
    std::vector<gyre::hub::prepared_push_ptr> out;
    out.reserve(k);
    for (std::size_t i = 0; i < k; ++i) {
        auto p = gyre::bench::publication_push(channel, 100);
        std::get<gyre::protocol::client::publication>(p.body).offset = i + 1;
        out.push_back(gyre::bench::prepare(std::move(p)));
        (void)out.back()->frame(gyre::hub::wire::json);
    }
    return out;
}

void report(benchmark::State& state, const bench_node& n, std::size_t per_iteration) {
    if (n.any_closed()) {
        state.SkipWithError("a session was closed during the run");
        return;
    }
    const auto deliveries = state.iterations() * static_cast<std::int64_t>(per_iteration);
    state.SetItemsProcessed(deliveries);
    state.counters["ns_per_msg"] = benchmark::Counter(
        static_cast<double>(per_iteration),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    const auto writes = n.writes();
    state.counters["msgs_per_write"] =
        writes > 0 ? static_cast<double>(n.messages()) / static_cast<double>(writes) : 0.0;
}

/// range(0): K publications per turn; range(1): 0 = synchronous, 1 = posted write completion.
/// One session: K x session::deliver, then the turn ends (flush_queued -> one write).
void bm_outbox_session(benchmark::State& state) {
    const auto k = static_cast<std::size_t>(state.range(0));
    const auto mode = state.range(1) == 0 ? completion::sync : completion::posted;
    bench_node n(1, mode);
    if (!n.error().empty()) {
        state.SkipWithError(n.error().c_str());
        return;
    }
    const auto pubs = publications(k);
    auto& s = n.session(0);
    for (auto _ : state) {
        for (const auto& p : pubs) {
            s.deliver(p);
        }
        n.turn();
    }
    report(state, n, k);
    state.counters["bytes_per_write"] = static_cast<double>(n.transports()[0]->bytes()) /
                                        static_cast<double>(std::max<std::uint64_t>(n.writes(), 1));
}

/// range(0): K publications per turn; range(1): sessions; range(2): completion as above.
/// hub::broadcast of K publications to every session of the channel, then the turn ends:
/// one flush task writes every session's K messages as one write each.
void bm_outbox_broadcast(benchmark::State& state) {
    const auto k = static_cast<std::size_t>(state.range(0));
    const auto sessions = static_cast<std::size_t>(state.range(1));
    const auto mode = state.range(2) == 0 ? completion::sync : completion::posted;
    bench_node n(sessions, mode);
    if (!n.error().empty()) {
        state.SkipWithError(n.error().c_str());
        return;
    }
    const auto pubs = publications(k);
    auto& h = n.hub();
    for (auto _ : state) {
        for (const auto& p : pubs) {
            h.broadcast(p);
        }
        n.turn();
    }
    report(state, n, k * sessions);
}

} // namespace

BENCHMARK(bm_outbox_session)
    ->ArgNames({"K", "posted"})
    ->ArgsProduct({{1, 8, 64, 512}, {0, 1}})
    ->Unit(benchmark::kNanosecond);

BENCHMARK(bm_outbox_broadcast)
    ->ArgNames({"K", "sessions", "posted"})
    ->ArgsProduct({{1, 8, 64, 512}, {1000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);
