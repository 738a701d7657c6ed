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
};

namespace {

void arm(boost::asio::steady_timer& timer,
         std::chrono::milliseconds period,
         std::unordered_set<connection*>& connections,
         const bool& stopped) {
    timer.expires_after(period);
    timer.async_wait([&timer, period, &connections, &stopped](const boost::system::error_code& ec) {
        if (ec || stopped) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        // A tick may close a connection, which removes it from the set: iterate a copy.
        const std::vector<connection*> snapshot(connections.begin(), connections.end());
        for (connection* c : snapshot) {
            if (connections.contains(c)) {
                c->tick(now);
            }
        }
        arm(timer, period, connections, stopped);
    });
}

} // namespace

registry::registry(runtime::shard_set& shards, std::chrono::milliseconds tick)
    : shards_(shards)
    , tick_(tick) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        states_.push_back(std::make_unique<shard_state>(shards_.at(i).context()));
    }
}

registry::~registry() = default;

void registry::start() {
    for (auto& st : states_) {
        arm(st->timer, tick_, st->connections, st->stopped);
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
