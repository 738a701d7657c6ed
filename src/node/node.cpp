#include "node/node.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace gyre::node {

namespace {

/// One node, no network: a publication goes straight to the channel's home shard.
class memory_broker final : public broker {
public:
    explicit memory_broker(node& n)
        : node_(n) {}

    void
    publish(std::size_t origin, hub::prepared_push_ptr p, unique_function<void()> done) override {
        const std::string channel = p->channel();
        node_.on_home(channel, [this, origin, p = std::move(p), done = std::move(done)]() mutable {
            node_.fan_out(p);
            if (done) {
                node_.shards().at(origin).submit(std::move(done));
            }
        });
    }

    void subscribe(const std::string& /*channel*/) override {}

    void unsubscribe(const std::string& /*channel*/) override {}

private:
    node& node_;
};

} // namespace

node::node(runtime::shard_set& shards, std::unique_ptr<broker> b)
    : shards_(shards)
    , broker_(b ? std::move(b) : std::make_unique<memory_broker>(*this)) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        hubs_.push_back(std::make_unique<hub::hub>());
        states_.push_back(std::make_unique<shard_state>());
    }
}

node::~node() = default;

void node::on_home(const std::string& channel, unique_function<void()> fn) {
    on_home(home(channel), std::move(fn));
}

std::size_t node::home(std::string_view channel) const noexcept {
    return std::hash<std::string_view>{}(channel) % shards_.size();
}

void node::on_home(std::size_t home_shard, unique_function<void()> fn) {
    shards_.at(home_shard).submit(std::move(fn));
}

void node::subscribe(std::size_t shard,
                     const std::string& channel,
                     hub::subscriber* s,
                     unique_function<void()> done) {
    const bool first = hubs_[shard]->add(channel, s);
    auto& st = *states_[shard];
    auto& lc = st.local[channel];
    if (!first) {
        if (lc.acknowledged) {
            done();
        } else {
            lc.waiting.push_back(std::move(done));
        }
        return;
    }
    lc.generation = st.next_generation++;
    lc.acknowledged = false;
    lc.waiting.push_back(std::move(done));
    const std::uint64_t generation = lc.generation;
    on_home(home(channel), [this, shard, channel, generation] {
        auto& h = states_[home(channel)]->homes[channel];
        h.shard_subscribers.resize(shards_.size());
        if (std::find(h.shard_subscribers.begin(), h.shard_subscribers.end(), 1U) ==
            h.shard_subscribers.end()) {
            broker_->subscribe(channel); // first subscriber on this node
        }
        h.shard_subscribers[shard] = 1;
        shards_.at(shard).submit([this, shard, channel, generation] {
            auto& local = states_[shard]->local;
            const auto it = local.find(channel);
            if (it == local.end() || it->second.generation != generation) {
                return; // everyone left meanwhile; a newer subscribe waits for its own ack
            }
            it->second.acknowledged = true;
            auto waiting = std::move(it->second.waiting);
            it->second.waiting.clear();
            for (auto& w : waiting) {
                w();
            }
        });
    });
}

void node::unsubscribe(std::size_t shard, const std::string& channel, hub::subscriber* s) {
    if (!hubs_[shard]->remove(channel, s)) {
        return;
    }
    states_[shard]->local.erase(channel);
    on_home(home(channel), [this, shard, channel] {
        auto& homes = states_[home(channel)]->homes;
        const auto it = homes.find(channel);
        if (it == homes.end()) {
            return;
        }
        it->second.shard_subscribers[shard] = 0;
        bool any = false;
        for (const auto c : it->second.shard_subscribers) {
            any = any || c != 0;
        }
        if (!any) {
            broker_->unsubscribe(channel); // last subscriber on this node left
            if (it->second.presence.empty()) {
                homes.erase(it);
            }
        }
    });
}

void node::publish(std::size_t origin, hub::prepared_push_ptr p, unique_function<void()> done) {
    broker_->publish(origin, std::move(p), std::move(done));
}

void node::fan_out(const hub::prepared_push_ptr& p) {
    const std::size_t h = home(p->channel());
    const auto& homes = states_[h]->homes;
    const auto it = homes.find(p->channel());
    if (it == homes.end()) {
        return;
    }
    const auto& flags = it->second.shard_subscribers;
    for (std::size_t i = 0; i < flags.size(); ++i) {
        if (flags[i] == 0) {
            continue;
        }
        if (i == h) {
            hubs_[i]->broadcast(p);
        } else {
            shards_.at(i).submit([this, i, p] { hubs_[i]->broadcast(p); });
        }
    }
}

void node::presence_add(const std::string& channel,
                        const std::string& client,
                        protocol::client::client_info info) {
    on_home(home(channel), [this, channel, client, info = std::move(info)]() mutable {
        auto& h = states_[home(channel)]->homes[channel];
        h.shard_subscribers.resize(shards_.size());
        h.presence[client] = std::move(info);
    });
}

void node::presence_remove(const std::string& channel, const std::string& client) {
    on_home(home(channel), [this, channel, client] {
        auto& homes = states_[home(channel)]->homes;
        if (const auto it = homes.find(channel); it != homes.end()) {
            it->second.presence.erase(client);
            const auto& flags = it->second.shard_subscribers;
            if (it->second.presence.empty() &&
                std::find(flags.begin(), flags.end(), 1U) == flags.end()) {
                homes.erase(it); // nothing left to remember about this channel
            }
        }
    });
}

void node::presence(std::size_t origin,
                    const std::string& channel,
                    unique_function<void(presence_map)> done) {
    on_home(home(channel), [this, origin, channel, done = std::move(done)]() mutable {
        presence_map result;
        const auto& homes = states_[home(channel)]->homes;
        if (const auto it = homes.find(channel); it != homes.end()) {
            result = it->second.presence;
        }
        shards_.at(origin).submit([done = std::move(done), result = std::move(result)]() mutable {
            done(std::move(result));
        });
    });
}

void node::presence_stats(std::size_t origin,
                          const std::string& channel,
                          unique_function<void(presence_counts)> done) {
    on_home(home(channel), [this, origin, channel, done = std::move(done)]() mutable {
        presence_counts stats;
        const auto& homes = states_[home(channel)]->homes;
        if (const auto it = homes.find(channel); it != homes.end()) {
            std::set<std::string> users;
            for (const auto& [client, info] : it->second.presence) {
                users.insert(info.user);
            }
            stats.num_clients = static_cast<std::uint32_t>(it->second.presence.size());
            stats.num_users = static_cast<std::uint32_t>(users.size());
        }
        shards_.at(origin).submit([done = std::move(done), stats]() mutable { done(stats); });
    });
}

std::size_t node::add_user_connection(const std::string& user) {
    const std::lock_guard lock(users_mutex_);
    return ++user_connections_[user];
}

void node::remove_user_connection(const std::string& user) {
    const std::lock_guard lock(users_mutex_);
    const auto it = user_connections_.find(user);
    if (it != user_connections_.end() && --it->second == 0) {
        user_connections_.erase(it);
    }
}

} // namespace gyre::node
