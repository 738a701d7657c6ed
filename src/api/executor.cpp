#include "api/executor.hpp"

#include "core/base64.hpp"
#include "core/glob.hpp"
#include "core/log.hpp"
#include "hub/prepared_push.hpp"
#include "metrics/catalog.hpp"
#include "session/channel_rules.hpp"
#include "session/data_format.hpp"

#include <mutex>

namespace gyre::api {

namespace {

reply failed(method m, const error& e) {
    reply r;
    r.kind = m;
    r.err = e;
    return r;
}

reply succeeded(method m) {
    reply r;
    r.kind = m;
    return r;
}

/// `b64` when given (it wins over the raw field), else `raw`; nullopt for bad base64.
std::optional<std::string> payload(const std::string& raw, const std::string& b64) {
    if (b64.empty()) {
        return raw;
    }
    return base64::decode(b64);
}

/// Counts down parallel parts of one request (broadcast, parallel batch) and answers once.
/// Every part completes on the caller's shard, so no lock is needed.
struct fan_in {
    std::vector<reply> replies;
    std::size_t remaining = 0;
    unique_function<void(std::vector<reply>)> done;

    void complete(std::size_t i, reply r) {
        replies[i] = std::move(r);
        if (--remaining == 0) {
            done(std::move(replies));
        }
    }
};

} // namespace

executor::executor(session::context& ctx, std::string uid)
    : ctx_(ctx)
    , uid_(std::move(uid)) {}

const config::config& executor::cfg(std::size_t shard) const noexcept {
    return *ctx_.current(shard)->cfg;
}

void executor::execute(std::size_t shard, request q, done_fn done) {
    const method m = q.kind;
    if (m != method::batch) { // a batch is counted command by command, as in Centrifugo
        done = [m, started = std::chrono::steady_clock::now(), done = std::move(done)](
                   reply r) mutable {
            const auto name = method_name(m);
            static metrics::child_cache<metrics::histogram, 64> durations;
            durations
                .get(metrics::api_command_duration, static_cast<std::size_t>(m), {"http", name})
                .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                             .count());
            if (r.err) {
                metrics::api_command_errors.with({"http", name, std::to_string(r.err->code)}).inc();
            }
            done(std::move(r));
        };
    }
    std::visit(
        [&](auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, publish_request>) {
                publish(shard, body, std::move(done));
            } else if constexpr (std::is_same_v<T, broadcast_request>) {
                broadcast(shard, body, std::move(done));
            } else if constexpr (std::is_same_v<T, subscribe_request>) {
                subscribe(shard, body, std::move(done));
            } else if constexpr (std::is_same_v<T, unsubscribe_request>) {
                unsubscribe(shard, body, std::move(done));
            } else if constexpr (std::is_same_v<T, disconnect_request>) {
                disconnect(shard, body, std::move(done));
            } else if constexpr (std::is_same_v<T, refresh_request>) {
                refresh(shard, body, std::move(done));
            } else if constexpr (std::is_same_v<T, channel_request>) {
                if (m == method::history_remove) {
                    history(shard, m, body.channel, nullptr, std::move(done));
                } else {
                    presence(shard, m, body, std::move(done));
                }
            } else if constexpr (std::is_same_v<T, history_request>) {
                history(shard, m, body.channel, &body, std::move(done));
            } else if constexpr (std::is_same_v<T, channels_request>) {
                channels(shard, body, std::move(done));
            } else if constexpr (std::is_same_v<T, info_request>) {
                info(shard, std::move(done));
            } else if constexpr (std::is_same_v<T, rpc_request>) {
                // No server-side RPC extensions are registered (as in Centrifugo OSS).
                done(failed(m, body.method.empty() ? errors::bad_request : errors::not_found));
            } else {
                batch(shard, std::move(body), std::move(done));
            }
        },
        q.body);
}

// ---- publish ------------------------------------------------------------------------------

void executor::publish(std::size_t shard, const publish_request& q, done_fn done) {
    if (q.channel.empty()) {
        done(failed(method::publish, errors::bad_request));
        return;
    }
    const auto data = payload(q.pub.data, q.pub.b64data);
    if (!data) {
        done(failed(method::publish, errors::bad_request));
        return;
    }
    publish_one(shard, q.channel, *data, q.pub, std::move(done));
}

void executor::publish_one(std::size_t shard,
                           const std::string& channel,
                           const std::string& data,
                           const publication_fields& f,
                           done_fn done) {
    const auto* opts = session::channel_options_for(cfg(shard), channel);
    if (opts == nullptr) {
        done(failed(method::publish, errors::unknown_channel));
        return;
    }
    if (!session::publication_data_fits(data, opts->publication_data_format)) {
        done(failed(method::publish, errors::bad_request));
        return;
    }
    protocol::client::push p;
    p.channel = channel;
    protocol::client::publication pub;
    pub.data = data;
    pub.tags = f.tags;
    p.body = std::move(pub);
    node::publish_options options;
    if (!f.skip_history) {
        options.history_size = opts->history_size;
        options.history_ttl = opts->history_ttl;
    }
    options.history_meta_ttl = session::history_meta_ttl(cfg(shard), *opts);
    options.idempotency_key = f.idempotency_key;
    options.version = f.version;
    options.version_epoch = f.version_epoch;
    ctx_.node().publish(shard,
                        std::move(p),
                        std::move(options),
                        [done = std::move(done)](const node::publish_result& r) mutable {
                            if (!r.ok) {
                                done(failed(method::publish, errors::internal));
                                return;
                            }
                            reply out = succeeded(method::publish);
                            out.result = publish_result{r.offset, r.epoch};
                            done(std::move(out));
                        });
}

void executor::broadcast(std::size_t shard, const broadcast_request& q, done_fn done) {
    if (q.channels.empty()) {
        done(failed(method::broadcast, errors::bad_request));
        return;
    }
    const auto data = payload(q.pub.data, q.pub.b64data);
    if (!data) {
        done(failed(method::broadcast, errors::bad_request));
        return;
    }
    // Every channel is published at once; all replies arrive on this shard.
    auto gather = std::make_shared<fan_in>();
    gather->replies.resize(q.channels.size());
    gather->remaining = q.channels.size();
    gather->done = [done = std::move(done)](std::vector<reply> replies) mutable {
        reply out = succeeded(method::broadcast);
        out.result = broadcast_result{std::move(replies)};
        done(std::move(out));
    };
    for (std::size_t i = 0; i < q.channels.size(); ++i) {
        if (q.channels[i].empty()) {
            gather->complete(i, failed(method::publish, errors::bad_request));
            continue;
        }
        publish_one(shard, q.channels[i], *data, q.pub, [gather, i](reply r) {
            gather->complete(i, std::move(r));
        });
    }
}

// ---- user commands ------------------------------------------------------------------------

void executor::subscribe(std::size_t shard, const subscribe_request& q, done_fn done) {
    if (q.channel.empty()) {
        done(failed(method::subscribe, errors::bad_request));
        return;
    }
    if (session::channel_options_for(cfg(shard), q.channel) == nullptr) {
        done(failed(method::subscribe, errors::unknown_channel));
        return;
    }
    const auto data = payload(q.data, q.b64data);
    const auto info = payload(q.info, q.b64info);
    if (!data || !info) {
        done(failed(method::subscribe, errors::bad_request));
        return;
    }
    node::subscribe_action a;
    a.channel = q.channel;
    a.chan_info = *info;
    a.data = *data;
    a.expire_at = q.expire_at;
    a.override_options = q.override_options;
    a.recover_since = q.recover_since;
    node::user_command cmd{q.user, q.client, q.session, {}, std::move(a)};
    ctx_.node().run_user_command(shard, std::move(cmd), [done = std::move(done)]() mutable {
        done(succeeded(method::subscribe));
    });
}

void executor::unsubscribe(std::size_t shard, const unsubscribe_request& q, done_fn done) {
    if (!q.channel.empty() && session::channel_options_for(cfg(shard), q.channel) == nullptr) {
        done(failed(method::unsubscribe, errors::unknown_channel));
        return;
    }
    node::user_command cmd{q.user, q.client, q.session, {}, node::unsubscribe_action{q.channel}};
    ctx_.node().run_user_command(shard, std::move(cmd), [done = std::move(done)]() mutable {
        done(succeeded(method::unsubscribe));
    });
}

void executor::disconnect(std::size_t shard, const disconnect_request& q, done_fn done) {
    node::disconnect_action a; // default: 3503 "force disconnect"
    if (q.disconnect) {
        a.code = q.disconnect->first;
        a.reason = q.disconnect->second;
    }
    node::user_command cmd{q.user, q.client, q.session, q.whitelist, std::move(a)};
    ctx_.node().run_user_command(shard, std::move(cmd), [done = std::move(done)]() mutable {
        done(succeeded(method::disconnect));
    });
}

void executor::refresh(std::size_t shard, const refresh_request& q, done_fn done) {
    node::user_command cmd{
        q.user, q.client, q.session, {}, node::refresh_action{q.expired, q.expire_at, q.info}};
    ctx_.node().run_user_command(shard, std::move(cmd), [done = std::move(done)]() mutable {
        done(succeeded(method::refresh));
    });
}

// ---- reads --------------------------------------------------------------------------------

void executor::presence(std::size_t shard, method m, const channel_request& q, done_fn done) {
    if (q.channel.empty()) {
        done(failed(m, errors::bad_request));
        return;
    }
    const auto* opts = session::channel_options_for(cfg(shard), q.channel);
    if (opts == nullptr) {
        done(failed(m, errors::unknown_channel));
        return;
    }
    if (!opts->presence) {
        done(failed(m, errors::not_available));
        return;
    }
    if (m == method::presence_stats) {
        ctx_.node().presence_stats(
            shard,
            q.channel,
            [done = std::move(done)](std::optional<node::presence_counts> c) mutable {
                if (!c) { // the store could not answer: 100, never "nobody here"
                    done(failed(method::presence_stats, errors::internal));
                    return;
                }
                reply out = succeeded(method::presence_stats);
                out.result = presence_stats_result{c->num_clients, c->num_users};
                done(std::move(out));
            });
        return;
    }
    ctx_.node().presence(
        shard, q.channel, [done = std::move(done)](std::optional<node::presence_map> p) mutable {
            if (!p) {
                done(failed(method::presence, errors::internal));
                return;
            }
            reply out = succeeded(method::presence);
            out.result = presence_result{std::move(*p)};
            done(std::move(out));
        });
}

void executor::history(std::size_t shard,
                       method m,
                       const std::string& channel,
                       const history_request* q,
                       done_fn done) {
    if (channel.empty()) {
        done(failed(m, errors::bad_request));
        return;
    }
    const auto& c = cfg(shard);
    const auto* opts = session::channel_options_for(c, channel);
    if (opts == nullptr) {
        done(failed(m, errors::unknown_channel));
        return;
    }
    if (!opts->history_enabled()) {
        done(failed(m, errors::not_available));
        return;
    }
    if (q == nullptr) { // history_remove
        ctx_.node().remove_history(
            shard, channel, [m, done = std::move(done)]() mutable { done(succeeded(m)); });
        return;
    }
    node::history_filter f; // the server API is not capped by history_max_publication_limit
    f.since = q->since;
    f.limit = q->limit;
    f.reverse = q->reverse;
    ctx_.node().history(
        shard,
        channel,
        f,
        session::history_meta_ttl(c, *opts),
        [m, done = std::move(done)](node::history_result h) mutable {
            if (h.failed) {
                done(failed(m, errors::internal));
                return;
            }
            if (h.bad_request || h.unrecoverable) {
                done(failed(m,
                            h.bad_request ? errors::bad_request : errors::unrecoverable_position));
                return;
            }
            history_result result;
            result.epoch = std::move(h.top.epoch);
            result.offset = h.top.offset;
            for (const auto& p : h.publications) {
                result.publications.push_back(
                    std::get<protocol::client::publication>(p->push().body));
            }
            reply out = succeeded(m);
            out.result = std::move(result);
            done(std::move(out));
        });
}

void executor::channels(std::size_t shard, const channels_request& q, done_fn done) {
    if (!glob::valid(q.pattern)) {
        done(failed(method::channels, errors::internal)); // Centrifugo's survey fails alike
        return;
    }
    ctx_.node().channels(
        shard, [pattern = q.pattern, done = std::move(done)](node::channel_counts counts) mutable {
            channels_result result;
            for (auto& [channel, n] : counts) {
                if (n > 0 && (pattern.empty() || glob::match(pattern, channel))) {
                    result.channels.emplace(channel, n);
                }
            }
            reply out = succeeded(method::channels);
            out.result = std::move(result);
            done(std::move(out));
        });
}

void executor::info(std::size_t shard, done_fn done) {
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - started_)
                            .count();
    ctx_.node().stats(shard, [this, uptime, done = std::move(done)](node::node_stats s) mutable {
        node_info n;
        n.uid = uid_;
        n.name = ctx_.node_name();
        n.version = GYRE_VERSION;
        n.num_clients = s.num_clients;
        n.num_users = s.num_users;
        n.num_channels = s.num_channels;
        n.num_subs = s.num_subs;
        n.uptime = static_cast<std::uint32_t>(uptime);
        const auto usage = ctx_.node().process();
        n.cpu_percent = usage.cpu_percent;
        n.rss_bytes = usage.rss_bytes;
        info_result result{{std::move(n)}};
        for (auto& peer : ctx_.node().peers()) { // other nodes, through the broker
            node_info other;
            other.uid = std::move(peer.uid);
            other.name = std::move(peer.name);
            other.version = std::move(peer.version);
            other.num_clients = peer.stats.num_clients;
            other.num_users = peer.stats.num_users;
            other.num_channels = peer.stats.num_channels;
            other.num_subs = peer.stats.num_subs;
            other.uptime = peer.uptime;
            other.cpu_percent = peer.cpu_percent;
            other.rss_bytes = peer.rss_bytes;
            result.nodes.push_back(std::move(other));
        }
        reply out = succeeded(method::info);
        out.result = std::move(result);
        done(std::move(out));
    });
}

// ---- batch --------------------------------------------------------------------------------

void executor::batch(std::size_t shard, std::shared_ptr<batch_request> q, done_fn done) {
    auto finish = [done = std::move(done)](std::vector<reply> replies) mutable {
        reply out = succeeded(method::batch);
        out.result = batch_result{std::move(replies)};
        done(std::move(out));
    };
    const std::size_t n = q->commands.size();
    if (n == 0) {
        finish({});
        return;
    }
    auto gather = std::make_shared<fan_in>();
    gather->replies.resize(n);
    gather->remaining = n;
    gather->done = std::move(finish);
    if (q->parallel) {
        for (std::size_t i = 0; i < n; ++i) {
            auto& cmd = q->commands[i];
            if (const auto* e = std::get_if<error>(&cmd)) {
                gather->complete(i, failed(method::publish, *e));
                continue;
            }
            execute(shard, std::move(std::get<request>(cmd)), [gather, i](reply r) {
                gather->complete(i, std::move(r));
            });
        }
        return;
    }

    // Sequential: each command starts once the previous one has answered. Commands that
    // answer at once (errors) loop here instead of recursing, so a long batch cannot overflow
    // the stack.
    struct sequencer : std::enable_shared_from_this<sequencer> {
        executor* self = nullptr;
        std::size_t shard = 0;
        std::shared_ptr<batch_request> q;
        std::shared_ptr<fan_in> gather;
        std::size_t next = 0;
        bool waiting = false;
        bool looping = false;

        void pump() {
            looping = true;
            while (!waiting && next < q->commands.size()) {
                const std::size_t i = next++;
                auto& cmd = q->commands[i];
                if (const auto* e = std::get_if<error>(&cmd)) {
                    gather->complete(i, failed(method::publish, *e));
                    continue;
                }
                waiting = true;
                self->execute(
                    shard, std::move(std::get<request>(cmd)), [s = shared_from_this(), i](reply r) {
                        s->waiting = false;
                        s->gather->complete(i, std::move(r));
                        if (!s->looping) {
                            s->pump();
                        }
                    });
            }
            looping = false;
        }
    };

    auto seq = std::make_shared<sequencer>();
    seq->self = this;
    seq->shard = shard;
    seq->q = std::move(q);
    seq->gather = std::move(gather);
    seq->pump();
}

} // namespace gyre::api
