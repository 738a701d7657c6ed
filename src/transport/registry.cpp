#include "transport/registry.hpp"

#include <boost/asio/steady_timer.hpp>

#include <thread>

namespace gyre::transport {

struct registry::shard_state {
    explicit shard_state(boost::asio::io_context& ctx)
        : timer(ctx) {}

    boost::asio::steady_timer timer;
    std::unordered_set<connection*> connections;
    bool stopped = false;
    std::chrono::steady_clock::time_point next_housekeeping{};
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
        // A tick may close a connection, which removes it from the set: iterate a copy.
        const std::vector<connection*> snapshot(st.connections.begin(), st.connections.end());
        for (connection* c : snapshot) {
            if (st.connections.contains(c)) {
                c->tick(now);
            }
        }
        if (housekeeping && now >= st.next_housekeeping) {
            st.next_housekeeping = now + std::chrono::seconds(1);
            housekeeping(shard, now);
        }
        arm(st, shard, period, housekeeping);
    });
}

} // namespace

registry::registry(runtime::shard_set& shards,
                   std::chrono::milliseconds tick,
                   housekeeping_fn housekeeping)
    : shards_(shards)
    , tick_(tick)
    , housekeeping_(std::move(housekeeping)) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        states_.push_back(std::make_unique<shard_state>(shards_.at(i).context()));
    }
}

registry::~registry() = default;

void registry::start() {
    for (std::size_t i = 0; i < states_.size(); ++i) {
        arm(*states_[i], i, tick_, housekeeping_);
    }
}

void registry::add(std::size_t shard, connection* c) {
    states_[shard]->connections.insert(c);
    count_.fetch_add(1);
}

void registry::remove(std::size_t shard, connection* c) {
    if (states_[shard]->connections.erase(c) > 0) {
        count_.fetch_sub(1);
    }
}

void registry::close_all(model::disconnect d, std::chrono::steady_clock::time_point deadline) {
    for (std::size_t i = 0; i < states_.size(); ++i) {
        shard_state* st = states_[i].get();
        shards_.at(i).submit([st, d] {
            st->stopped = true;
            st->timer.cancel();
            const std::vector<connection*> snapshot(st->connections.begin(), st->connections.end());
            for (connection* c : snapshot) {
                c->shutdown(d);
            }
        });
    }
    while (count_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace gyre::transport
