#include "transport/registry.hpp"

#include "transport/poller.hpp"

#include <boost/asio/steady_timer.hpp>

#include <queue>
#include <thread>
#include <unordered_map>

namespace gyre::transport {

struct registry::shard_state {
    struct due {
        connection::time_point when;
        connection* conn;
        std::uint64_t seq; ///< stale entries (the connection was rescheduled or left) skip

        bool operator>(const due& o) const noexcept { return when > o.when; }
    };

    explicit shard_state(boost::asio::io_context& ctx)
        : timer(ctx)
        , io(ctx) {}

    struct slot {
        std::uint64_t seq = 0;
        connection::time_point when = connection::time_point::max();
    };

    void schedule(connection* c, connection::time_point when) {
        const auto it = live.find(c);
        if (it == live.end()) {
            return;
        }
        it->second.seq = ++next_seq; // older heap entries of `c` become stale
        it->second.when = when;
        if (when != connection::time_point::max()) {
            heap.push({when, c, it->second.seq});
        }
    }

    /// Ticks every connection whose deadline has passed and reschedules it.
    void run_due(connection::time_point now) {
        while (!heap.empty() && heap.top().when <= now) {
            const due d = heap.top();
            heap.pop();
            const auto it = live.find(d.conn);
            if (it == live.end() || it->second.seq != d.seq) {
                continue;
            }
            schedule(d.conn, d.conn->tick(now)); // tick may close it: schedule checks `live`
        }
    }

    boost::asio::steady_timer timer;
    std::unordered_map<connection*, slot> live; // connection -> its current deadline
    std::priority_queue<due, std::vector<due>, std::greater<>> heap;
    std::uint64_t next_seq = 0;
    bool stopped = false;
    connection::time_point next_housekeeping{};
    // Last: destroyed first, so connections it still holds leave `live` while it exists.
    poller io;
};

namespace {

void arm(registry::shard_state& st,
         std::size_t shard,
         std::chrono::milliseconds period,
         const registry::housekeeping_fn& housekeeping) {
    st.timer.expires_after(period);
    st.timer.async_wait([&st, shard, period, &housekeeping](const boost::system::error_code& ec) {
        if (ec || st.stopped) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        st.run_due(now);
        if (housekeeping && now >= st.next_housekeeping) {
            st.next_housekeeping = now + std::chrono::seconds(1);
            housekeeping(shard, now);
        }
        arm(st, shard, period, housekeeping);
    });
}

} // namespace

registry::registry(runtime::shard_set& shards,
                   std::chrono::milliseconds resolution,
                   housekeeping_fn housekeeping)
    : shards_(shards)
    , resolution_(resolution)
    , housekeeping_(std::move(housekeeping)) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        states_.push_back(std::make_unique<shard_state>(shards_.at(i).context()));
    }
}

registry::~registry() = default;

poller& registry::io(std::size_t shard) noexcept {
    return states_[shard]->io;
}

void registry::start() {
    for (std::size_t i = 0; i < states_.size(); ++i) {
        states_[i]->io.start();
        arm(*states_[i], i, resolution_, housekeeping_);
    }
}

void registry::add(std::size_t shard, connection* c) {
    auto& st = *states_[shard];
    if (st.live.emplace(c, shard_state::slot{}).second) {
        count_.fetch_add(1);
        st.schedule(c, std::chrono::steady_clock::now());
    }
}

void registry::remove(std::size_t shard, connection* c) {
    if (states_[shard]->live.erase(c) > 0) {
        count_.fetch_sub(1);
    }
}

void registry::wake(std::size_t shard, connection* c, connection::time_point when) {
    auto& st = *states_[shard];
    const auto it = st.live.find(c);
    if (it != st.live.end() && when < it->second.when) {
        st.schedule(c, when);
    }
}

void registry::close_all(model::disconnect d, std::chrono::steady_clock::time_point deadline) {
    for (std::size_t i = 0; i < states_.size(); ++i) {
        shard_state* st = states_[i].get();
        shards_.at(i).submit([st, d] {
            st->stopped = true;
            st->timer.cancel();
            std::vector<connection*> snapshot;
            snapshot.reserve(st->live.size());
            for (const auto& [c, slot] : st->live) {
                snapshot.push_back(c);
            }
            for (connection* c : snapshot) {
                if (st->live.contains(c)) {
                    c->shutdown(d);
                }
            }
        });
    }
    while (count_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace gyre::transport
