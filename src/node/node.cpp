#include "node/node.hpp"

#include "core/log.hpp"
#include "metrics/catalog.hpp"
#include "node/control.hpp"
#include "node/memory_broker.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <unordered_set>

namespace gyre::node {

namespace {

/// Centrifugo's `type` label of a node message.
metrics::node_message message_type(protocol::client::push_kind k) noexcept {
    switch (k) {
    case protocol::client::push_kind::join:
        return metrics::node_message::join;
    case protocol::client::push_kind::leave:
        return metrics::node_message::leave;
    case protocol::client::push_kind::pub:
        return metrics::node_message::publication;
    default:
        return metrics::node_message::control;
    }
}

constexpr std::string_view survey_request_tag = "cq:"; // cq:<id>:<requester uid>
constexpr std::string_view survey_answer_tag = "ca:";  // ca:<id>:<requester>:<answerer>:<json>
constexpr auto survey_timeout = std::chrono::seconds(2);

/// Splits off the text before the next ':'; false when there is none.
bool take_field(std::string_view& rest, std::string_view& field) {
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    field = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
    return true;
}
} // namespace

node::node(runtime::shard_set& shards, std::unique_ptr<broker> b)
    : shards_(shards)
    , broker_(b ? std::move(b) : make_memory_broker(*this)) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        // Publications are gathered per channel and loop turn, then delivered in one go.
        hubs_.push_back(std::make_unique<hub::hub>([this, i] {
            boost::asio::post(shards_.at(i).context(), [this, i] { hubs_[i]->flush_batches(); });
        }));
        states_.push_back(std::make_unique<shard_state>());
    }
    presence_store_ = broker_->keeps_presence() ? broker_.get() : nullptr;
}

node::node(runtime::shard_set& shards, const broker_factory& make_broker)
    : node(shards) {
    if (make_broker) {
        broker_ = make_broker(*this);
    }
    presence_store_ = broker_->keeps_presence() ? broker_.get() : nullptr;
}

void node::use_presence_store(std::unique_ptr<broker> store) {
    presence_owner_ = std::move(store);
    presence_store_ = presence_owner_.get();
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
                     unique_function<void(bool)> done) {
    const bool first = hubs_[shard]->add(channel, s);
    auto& st = *states_[shard];
    auto& lc = st.local[channel];
    if (!first) {
        if (lc.acknowledged) {
            done(true);
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
        // Back on `shard`: the waiting subscribers learn the outcome.
        auto acknowledge = [this, shard, channel, generation](bool ok) {
            shards_.at(shard).submit([this, shard, channel, generation, ok] {
                auto& local = states_[shard]->local;
                const auto it = local.find(channel);
                if (it == local.end() || it->second.generation != generation) {
                    return; // everyone left meanwhile; a newer subscribe waits for its own ack
                }
                it->second.acknowledged = ok;
                auto waiting = std::move(it->second.waiting);
                it->second.waiting.clear();
                for (auto& w : waiting) {
                    w(ok);
                }
            });
        };
        auto& h = states_[home(channel)]->homes[channel];
        h.shard_subscribers.resize(shards_.size());
        h.shard_subscribers[shard] = 1;
        using bs = channel_home::broker_state;
        switch (h.broker) {
        case bs::ready:
            acknowledge(true);
            return;
        case bs::pending:
            h.broker_waiting.push_back(std::move(acknowledge));
            return;
        case bs::none:
            break;
        }
        // First subscriber on this node: the broker subscribes, and everyone who arrives
        // meanwhile waits for the same answer.
        h.broker = bs::pending;
        h.broker_waiting.push_back(std::move(acknowledge));
        metrics::count_action(metrics::action::broker_subscribe);
        broker_->subscribe(channel, [this, channel](bool ok) {
            auto& homes = states_[home(channel)]->homes;
            const auto it = homes.find(channel);
            if (it == homes.end()) {
                return;
            }
            auto& hc = it->second;
            if (hc.broker != bs::pending) {
                return; // unsubscribed meanwhile
            }
            hc.broker = ok ? bs::ready : bs::none;
            auto waiting = std::move(hc.broker_waiting);
            hc.broker_waiting.clear();
            for (auto& w : waiting) {
                w(ok);
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
            metrics::count_action(metrics::action::broker_unsubscribe);
            it->second.broker = channel_home::broker_state::none;
            auto waiting = std::move(it->second.broker_waiting);
            it->second.broker_waiting.clear();
            for (auto& w : waiting) {
                w(false); // nobody of those shards is left to care
            }
            if (it->second.presence.empty()) {
                homes.erase(it);
            }
        }
    });
}

void node::publish(std::size_t origin,
                   protocol::client::push p,
                   publish_options options,
                   publish_done done) {
    metrics::count_node_sent(message_type(p.kind()));
    broker_->publish(origin, std::move(p), std::move(options), std::move(done));
}

void node::history(std::size_t origin,
                   const std::string& channel,
                   history_filter filter,
                   std::chrono::nanoseconds meta_ttl,
                   history_done done) {
    metrics::count_action(metrics::action::history);
    broker_->history(origin, channel, std::move(filter), meta_ttl, std::move(done));
}

void node::remove_history(std::size_t origin,
                          const std::string& channel,
                          unique_function<void()> done) {
    metrics::count_action(metrics::action::history_remove);
    broker_->remove_history(origin, channel, std::move(done));
}

void node::tick(std::size_t shard, std::chrono::steady_clock::time_point now) {
    broker_->tick(shard, now);
    if (shard == 0 && now >= next_announce_) {
        next_announce_ = now + std::chrono::seconds(3); // as Centrifugo nodes do
        announce();
    }
}

void node::fan_out(std::shared_ptr<hub::prepared_push> p) {
    metrics::count_node_received(message_type(p->kind()));
    const std::size_t h = home(p->channel());
    auto& homes = states_[h]->homes;
    const auto it = homes.find(p->channel());
    if (it == homes.end()) {
        return;
    }
    // This shard decides the channel's order on this node; the inboxes below are FIFO.
    p->stamp_sequence(++it->second.sequence);
    const hub::prepared_push_ptr shared = std::move(p);
    const auto& flags = it->second.shard_subscribers;
    for (std::size_t i = 0; i < flags.size(); ++i) {
        if (flags[i] == 0) {
            continue;
        }
        if (i == h) {
            broadcast(i, shared);
        } else {
            shards_.at(i).submit([this, i, shared] { broadcast(i, shared); });
        }
    }
}

void node::broadcast(std::size_t shard, const hub::prepared_push_ptr& p) {
    const auto started = std::chrono::steady_clock::now();
    hubs_[shard]->broadcast(p);
    static auto& duration = metrics::node_broadcast_duration.with({"publication", ""});
    duration.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void node::presence_add(const std::string& channel,
                        const std::string& client,
                        protocol::client::client_info info) {
    metrics::count_action(metrics::action::add_presence);
    if (presence_store_ != nullptr) {
        presence_store_->presence_add(current_shard(), channel, client, info, presence_ttl_);
        return;
    }
    on_home(home(channel), [this, channel, client, info = std::move(info)]() mutable {
        auto& h = states_[home(channel)]->homes[channel];
        h.shard_subscribers.resize(shards_.size());
        h.presence[client] = std::move(info);
    });
}

void node::presence_remove(const std::string& channel,
                           const std::string& client,
                           const std::string& user) {
    metrics::count_action(metrics::action::remove_presence);
    if (presence_store_ != nullptr) {
        presence_store_->presence_remove(current_shard(), channel, client, user);
        return;
    }
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
                    unique_function<void(std::optional<presence_map>)> done) {
    metrics::count_action(metrics::action::presence);
    if (presence_store_ != nullptr) {
        presence_store_->presence_get(origin, channel, std::move(done));
        return;
    }
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
                          unique_function<void(std::optional<presence_counts>)> done) {
    metrics::count_action(metrics::action::presence_stats);
    if (presence_store_ != nullptr) {
        presence_store_->presence_stats(origin, channel, std::move(done));
        return;
    }
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

void node::add_connection(std::size_t shard, const std::string& user, user_connection* c) {
    auto& st = *states_[shard];
    st.users[user].push_back(c);
    ++st.connections;
}

void node::remove_connection(std::size_t shard, const std::string& user, user_connection* c) {
    auto& st = *states_[shard];
    const auto it = st.users.find(user);
    if (it == st.users.end()) {
        return;
    }
    auto& list = it->second;
    if (const auto pos = std::find(list.begin(), list.end(), c); pos != list.end()) {
        *pos = list.back();
        list.pop_back();
        --st.connections;
    }
    if (list.empty()) {
        st.users.erase(it);
    }
}

std::size_t node::current_shard() const noexcept {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        if (shards_.at(i).is_current()) {
            return i;
        }
    }
    return 0;
}

void node::set_identity(std::string uid, std::string name, std::string version) {
    identity_.uid = std::move(uid);
    identity_.name = std::move(name);
    identity_.version = std::move(version);
}

std::vector<peer_info> node::peers() const {
    const auto now = std::chrono::steady_clock::now();
    std::vector<peer_info> out;
    const std::lock_guard lock(peers_mutex_);
    for (const auto& [uid, entry] : peers_) {
        if (now - entry.second < std::chrono::seconds(7)) {
            out.push_back(entry.first);
        }
    }
    return out;
}

bool node::knows_node(const std::string& uid) const {
    if (uid == identity_.uid) {
        return true;
    }
    const std::lock_guard lock(peers_mutex_);
    const auto it = peers_.find(uid);
    return it != peers_.end() &&
           std::chrono::steady_clock::now() - it->second.second < std::chrono::seconds(7);
}

namespace {
constexpr std::string_view emulation_tag = "em:"; // em:<node uid>\n<session>\n<t|b><data>
} // namespace

void node::forward_emulation(std::size_t origin,
                             const std::string& node_uid,
                             const std::string& session,
                             std::string_view data,
                             bool binary) {
    std::string payload;
    payload.reserve(emulation_tag.size() + node_uid.size() + session.size() + data.size() + 3);
    payload.append(emulation_tag).append(node_uid).append(1, '\n').append(session);
    payload.append(1, '\n').append(1, binary ? 'b' : 't').append(data);
    send_control(origin, std::move(payload));
}

void node::send_control(std::size_t origin, std::string payload) {
    metrics::count_node_sent(metrics::node_message::control);
    broker_->send_control(origin, std::move(payload));
}

void node::announce() {
    stats(0, [this](node_stats s) {
        peer_info me = identity_;
        me.stats = s;
        me.uptime = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                   std::chrono::steady_clock::now() - started_)
                                                   .count());
        const auto usage = process_.sample();
        me.cpu_percent = usage.cpu_percent;
        me.rss_bytes = usage.rss_bytes;
        send_control(0, "ni:" + encode_peer_info(me));
    });
}

void node::on_control(std::size_t shard, std::string_view payload) {
    metrics::count_node_received(metrics::node_message::control);
    static constexpr std::string_view user_command_tag = "uc:";
    static constexpr std::string_view node_info_tag = "ni:";
    if (payload.substr(0, node_info_tag.size()) == node_info_tag) {
        if (auto info = decode_peer_info(payload.substr(node_info_tag.size()))) {
            const auto now = std::chrono::steady_clock::now();
            const std::lock_guard lock(peers_mutex_);
            std::erase_if(peers_, [now](const auto& e) {
                return now - e.second.second > std::chrono::seconds(9);
            });
            const std::string uid = info->uid;
            peers_[uid] = {std::move(*info), now};
        }
        return;
    }
    if (payload.starts_with(emulation_tag)) {
        auto rest = payload.substr(emulation_tag.size());
        const auto first = rest.find('\n');
        const auto second = first == std::string_view::npos ? first : rest.find('\n', first + 1);
        if (second == std::string_view::npos || second + 1 >= rest.size() ||
            rest.substr(0, first) != identity_.uid || !emulation_receiver_) {
            return; // for another node (control messages go to every node), or malformed
        }
        emulation_receiver_(std::string(rest.substr(first + 1, second - first - 1)),
                            std::string(rest.substr(second + 2)),
                            rest[second + 1] == 'b');
        return;
    }
    const bool request = payload.substr(0, survey_request_tag.size()) == survey_request_tag;
    if (request || payload.substr(0, survey_answer_tag.size()) == survey_answer_tag) {
        // Surveys live on shard 0.
        on_home(0, [this, request, text = std::string(payload.substr(survey_request_tag.size()))] {
            request ? answer_survey(text) : collect_survey(text);
        });
        return;
    }
    if (payload.substr(0, user_command_tag.size()) != user_command_tag) {
        return; // a kind of message this version does not know
    }
    auto cmd = decode_user_command(payload.substr(user_command_tag.size()));
    if (!cmd) {
        GYRE_LOG_WARN("malformed user command from another node");
        return;
    }
    apply_user_command(shard, std::move(*cmd), {});
}

void node::run_user_command(std::size_t origin, user_command cmd, unique_function<void()> done) {
    // The user may have connections on other nodes too (at most once, as Centrifugo).
    send_control(origin, "uc:" + encode_user_command(cmd));
    apply_user_command(origin, std::move(cmd), std::move(done));
}

void node::apply_user_command(std::size_t origin, user_command cmd, unique_function<void()> done) {
    auto shared = std::make_shared<const user_command>(std::move(cmd));
    gather<bool>(
        origin,
        [this, shared](std::size_t shard) {
            const auto& st = *states_[shard];
            const auto it = st.users.find(shared->user);
            if (it == st.users.end()) {
                return true;
            }
            // Applying may close a connection, which removes it from this list: copy first.
            const std::vector<user_connection*> targets = it->second;
            for (user_connection* c : targets) {
                const auto& wl = shared->whitelist;
                if (std::find(wl.begin(), wl.end(), c->client_id()) != wl.end() ||
                    (!shared->client.empty() && c->client_id() != shared->client) ||
                    (!shared->session.empty() && c->session_id() != shared->session)) {
                    continue;
                }
                c->apply(*shared);
            }
            return true;
        },
        [done = std::move(done)](std::vector<bool>) mutable {
            if (done) {
                done();
            }
        });
}

void node::stats(std::size_t origin, unique_function<void(node_stats)> done) {
    struct shard_counts {
        std::vector<std::string> users;
        std::size_t connections = 0;
        std::size_t homed_channels = 0;
        std::size_t subscriptions = 0;
    };

    gather<shard_counts>(
        origin,
        [this](std::size_t shard) {
            const auto& st = *states_[shard];
            shard_counts c;
            c.connections = st.connections;
            c.users.reserve(st.users.size());
            for (const auto& [user, list] : st.users) {
                c.users.push_back(user);
            }
            for (const auto& [channel, home] : st.homes) {
                const auto& flags = home.shard_subscribers;
                c.homed_channels += std::find(flags.begin(), flags.end(), 1U) != flags.end();
            }
            c.subscriptions = hubs_[shard]->subscriptions();
            return c;
        },
        [done = std::move(done)](std::vector<shard_counts> all) mutable {
            node_stats out;
            std::unordered_set<std::string> users;
            for (auto& c : all) {
                out.num_clients += static_cast<std::uint32_t>(c.connections);
                out.num_channels += static_cast<std::uint32_t>(c.homed_channels);
                out.num_subs += static_cast<std::uint32_t>(c.subscriptions);
                for (auto& u : c.users) {
                    users.insert(std::move(u));
                }
            }
            out.num_users = static_cast<std::uint32_t>(users.size());
            done(out);
        });
}

void node::local_channels(std::size_t origin, unique_function<void(channel_counts)> done) {
    gather<channel_counts>(
        origin,
        [this](std::size_t shard) {
            channel_counts c;
            hubs_[shard]->for_each_channel([&c](const std::string& channel, std::size_t n) {
                c.emplace(channel, static_cast<std::uint32_t>(n));
            });
            return c;
        },
        [done = std::move(done)](std::vector<channel_counts> all) mutable {
            channel_counts merged = std::move(all.front());
            for (std::size_t i = 1; i < all.size(); ++i) {
                for (auto& [channel, n] : all[i]) {
                    merged[channel] += n;
                }
            }
            done(std::move(merged));
        });
}

void node::channels(std::size_t origin, unique_function<void(channel_counts)> done) {
    local_channels(origin, [this, origin, done = std::move(done)](channel_counts local) mutable {
        auto others = peers();
        if (others.empty()) {
            done(std::move(local));
            return;
        }
        on_home(0,
                [this,
                 origin,
                 local = std::move(local),
                 others = std::move(others),
                 done = std::move(done)]() mutable {
                    const std::string id = std::to_string(++next_survey_);
                    auto& s = surveys_[id];
                    s.origin = origin;
                    s.merged = std::move(local);
                    s.done = std::move(done);
                    for (const auto& peer : others) {
                        s.waiting.insert(peer.uid);
                    }
                    send_control(0, std::string(survey_request_tag) + id + ":" + identity_.uid);
                    auto timer = std::make_shared<boost::asio::steady_timer>(
                        shards_.at(0).context(), survey_timeout);
                    timer->async_wait([this, id, timer](boost::system::error_code ec) {
                        if (!ec && surveys_.count(id) != 0) {
                            GYRE_LOG_WARN("channels survey: {} node(s) did not answer in time",
                                          surveys_[id].waiting.size());
                            finish_survey(id);
                        }
                    });
                });
    });
}

void node::answer_survey(std::string_view request) {
    std::string_view id;
    if (!take_field(request, id) || request.empty()) {
        return;
    }
    local_channels(
        0, [this, id = std::string(id), requester = std::string(request)](channel_counts counts) {
            send_control(0,
                         std::string(survey_answer_tag) + id + ":" + requester + ":" +
                             identity_.uid + ":" + encode_channel_counts(counts));
        });
}

void node::collect_survey(std::string_view answer) {
    std::string_view id;
    std::string_view requester;
    std::string_view answerer;
    if (!take_field(answer, id) || !take_field(answer, requester) ||
        !take_field(answer, answerer) || requester != identity_.uid) {
        return; // another node's survey
    }
    const auto it = surveys_.find(std::string(id));
    if (it == surveys_.end() || it->second.waiting.erase(std::string(answerer)) == 0) {
        return; // late, or a node that was not asked
    }
    if (auto counts = decode_channel_counts(answer)) {
        for (auto& [channel, n] : *counts) {
            it->second.merged[channel] += n;
        }
    }
    if (it->second.waiting.empty()) {
        finish_survey(it->first);
    }
}

void node::finish_survey(const std::string& id) {
    auto entry = surveys_.extract(id);
    if (entry.empty()) {
        return;
    }
    auto& s = entry.mapped();
    static auto& duration = metrics::node_survey_duration.with({"channels"});
    duration.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count());
    metrics::count_action(metrics::action::survey);
    shards_.at(s.origin).submit([merged = std::move(s.merged), done = std::move(s.done)]() mutable {
        done(std::move(merged));
    });
}

} // namespace gyre::node
