#include "transport/registry.hpp"

#include "metrics/catalog.hpp"
#include "transport/poller.hpp"

#include <boost/asio/steady_timer.hpp>

#include <queue>
#include <thread>

namespace gyre::transport {

struct registry::shard_state {
    /// A connection's place in the table: its index is kept in the connection, so finding it
    /// is an array access (no hashing on each tick).
    struct slot {
        connection* conn = nullptr;
        std::uint64_t seq = 0; ///< bumped on each reschedule and on removal
        connection::time_point when = connection::time_point::max();
    };

    struct due {
        connection::time_point when;
        std::uint32_t index;
        std::uint64_t seq; ///< stale entries (the connection was rescheduled or left) skip

        bool operator>(const due& o) const noexcept { return when > o.when; }
    };

    explicit shard_state(boost::asio::io_context& ctx)
        : timer(ctx)
        , io(ctx) {}

    slot* find(connection* c) noexcept {
        const auto index = c->registry_slot;
        return (index < slots.size() && slots[index].conn == c) ? &slots[index] : nullptr;
    }

    bool add(connection* c) {
        if (find(c) != nullptr) {
            return false;
        }
        std::uint32_t index;
        if (!free.empty()) {
            index = free.back();
            free.pop_back();
        } else {
            index = static_cast<std::uint32_t>(slots.size());
            slots.emplace_back();
        }
        slots[index].conn = c;
        c->registry_slot = index;
        return true;
    }

    bool remove(connection* c) {
        slot* s = find(c);
        if (s == nullptr) {
            return false;
        }
        s->conn = nullptr;
        s->seq = ++next_seq; // its heap entries become stale
        s->when = connection::time_point::max();
        free.push_back(c->registry_slot);
        c->registry_slot = connection::no_index;
        return true;
    }

    void schedule(connection* c, connection::time_point when) {
        slot* s = find(c);
        if (s == nullptr) {
            return;
        }
        s->seq = ++next_seq; // older heap entries of `c` become stale
        s->when = when;
        if (when != connection::time_point::max()) {
            heap.push({when, c->registry_slot, s->seq});
        }
    }

    /// Ticks every connection whose deadline has passed and reschedules it.
    void run_due(connection::time_point now) {
        while (!heap.empty() && heap.top().when <= now) {
            const due d = heap.top();
            heap.pop();
            const slot& s = slots[d.index];
            if (s.conn == nullptr || s.seq != d.seq) {
                continue;
            }
            connection* c = s.conn;
            schedule(c, c->tick(now)); // tick may close it: schedule checks the slot
        }
    }

    boost::asio::steady_timer timer;
    std::vector<slot> slots;
    std::vector<std::uint32_t> free;
    std::priority_queue<due, std::vector<due>, std::greater<>> heap;
    std::uint64_t next_seq = 0;
    bool stopped = false;
    connection::time_point next_housekeeping{};
    metrics::histogram* loop_lag = nullptr; ///< this shard's gyre_shard_loop_lag_seconds
    // Last: destroyed first, so connections it still holds leave the table while it exists.
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
        st.loop_lag->observe(std::chrono::duration<double>(now - st.timer.expiry()).count());
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
        states_.back()->loop_lag = &metrics::gyre_loop_lag.with({std::to_string(i)});
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
    if (st.add(c)) {
        count_.fetch_add(1);
        st.schedule(c, std::chrono::steady_clock::now());
    }
}

void registry::remove(std::size_t shard, connection* c) {
    if (states_[shard]->remove(c)) {
        count_.fetch_sub(1);
    }
}

void registry::wake(std::size_t shard, connection* c, connection::time_point when) {
    auto& st = *states_[shard];
    if (const auto* s = st.find(c); s != nullptr && when < s->when) {
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
            for (const auto& s : st->slots) {
                if (s.conn != nullptr) {
                    snapshot.push_back(s.conn);
                }
            }
            for (connection* c : snapshot) {
                if (st->find(c) != nullptr) { // not closed by an earlier shutdown
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
