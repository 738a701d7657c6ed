#include "node/redis_broker.hpp"

#include "core/log.hpp"
#include "core/uuid.hpp"
#include "engine/redis/cluster.hpp"
#include "engine/redis/connection.hpp"
#include "engine/redis/sharding.hpp"
#include "engine/redis/subscriber.hpp"
#include "node/broker_framing.hpp"
#include "node/node.hpp"
#include "protocol/client/protobuf_codec.hpp"

#include <atomic>
#include <charconv>
#include <cmath>
#include <iterator>
#include <utility>

namespace gyre::node {
namespace {

namespace pc = protocol::client;
namespace rd = engine::redis;

// Appends to the channel's stream and publishes in one step, so that every node sees the
// publications of a channel in offset order. KEYS: stream, meta, idempotency result (always a
// key of the channel's slot, for Redis Cluster; used only when ARGV[10] is '1'). ARGV: payload,
// history size, history ttl s, PUB/SUB channel, meta ttl s (0 = keep), epoch to use if the
// stream has none, result ttl s, version, version epoch, idempotent (0/1).
// Returns {offset, epoch, suppressed(0/1)}.
constexpr const char* publish_with_history = R"lua(
if ARGV[10] == '1' then
  local cached = redis.call('hmget', KEYS[3], 's', 'e')
  if cached[1] then return {tonumber(cached[1]), cached[2], 1} end
end
local meta = redis.call('hmget', KEYS[2], 'e', 's', 'v', 've')
local epoch = meta[1]
if not epoch then
  epoch = ARGV[6]
  redis.call('hset', KEYS[2], 'e', epoch)
end
if ARGV[8] ~= '0' and meta[3] and meta[4] == ARGV[9] and tonumber(meta[3]) >= tonumber(ARGV[8]) then
  return {tonumber(meta[2] or 0), epoch, 1}
end
if ARGV[8] ~= '0' then
  redis.call('hset', KEYS[2], 'v', ARGV[8], 've', ARGV[9])
end
local offset = redis.call('hincrby', KEYS[2], 's', 1)
if ARGV[5] ~= '0' then redis.call('expire', KEYS[2], ARGV[5]) end
if offset == 1 then redis.call('del', KEYS[1]) end
redis.call('xadd', KEYS[1], 'MAXLEN', ARGV[2], offset, 'd', ARGV[1])
redis.call('expire', KEYS[1], ARGV[3])
redis.call('publish', ARGV[4], '__p1:' .. offset .. ':' .. epoch .. '__' .. ARGV[1])
if ARGV[10] == '1' then
  redis.call('hset', KEYS[3], 's', offset, 'e', epoch)
  redis.call('expire', KEYS[3], ARGV[7])
end
return {offset, epoch, 0}
)lua";

// Reads a stream's position and (optionally) publications. KEYS: stream, meta. ARGV: epoch to
// use if none, meta ttl s (0 = keep), read mode ('' = position only, 'f' forward, 'r'
// reverse), from, to, count (0 = all). Returns {top, epoch, entries}.
constexpr const char* read_history = R"lua(
local meta = redis.call('hmget', KEYS[2], 'e', 's')
local epoch = meta[1]
if not epoch then
  epoch = ARGV[1]
  redis.call('hset', KEYS[2], 'e', epoch)
end
if ARGV[2] ~= '0' then redis.call('expire', KEYS[2], ARGV[2]) end
local entries = {}
if ARGV[3] == 'f' then
  if ARGV[6] == '0' then entries = redis.call('xrange', KEYS[1], ARGV[4], ARGV[5])
  else entries = redis.call('xrange', KEYS[1], ARGV[4], ARGV[5], 'COUNT', ARGV[6]) end
elseif ARGV[3] == 'r' then
  if ARGV[6] == '0' then entries = redis.call('xrevrange', KEYS[1], ARGV[4], ARGV[5])
  else entries = redis.call('xrevrange', KEYS[1], ARGV[4], ARGV[5], 'COUNT', ARGV[6]) end
end
return {tonumber(meta[2] or 0), epoch, entries}
)lua";

// Presence: a HASH of client -> ClientInfo and a ZSET of client -> expiry (unix seconds),
// Centrifuge's layout; with user mapping also a ZSET of user -> expiry and a HASH of user ->
// connections. KEYS: data, expire, user expire, user clients. ARGV: client, info, ttl s,
// expires at, user, user mapping (0/1).
constexpr const char* presence_add_script = R"lua(
local new_client = ARGV[6] == '1' and redis.call('hexists', KEYS[1], ARGV[1]) == 0
redis.call('zadd', KEYS[2], ARGV[4], ARGV[1])
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])
redis.call('expire', KEYS[2], ARGV[3])
if ARGV[6] == '1' then
  if new_client then redis.call('hincrby', KEYS[4], ARGV[5], 1) end
  redis.call('zadd', KEYS[3], ARGV[4], ARGV[5])
  redis.call('expire', KEYS[3], ARGV[3])
  redis.call('expire', KEYS[4], ARGV[3])
end
)lua";

// KEYS: data, expire, user expire, user clients. ARGV: client, user, user mapping (0/1).
constexpr const char* presence_remove_script = R"lua(
local existed = redis.call('hdel', KEYS[1], ARGV[1]) == 1
redis.call('zrem', KEYS[2], ARGV[1])
if ARGV[3] == '1' and existed then
  if redis.call('hincrby', KEYS[4], ARGV[2], -1) <= 0 then
    redis.call('hdel', KEYS[4], ARGV[2])
    redis.call('zrem', KEYS[3], ARGV[2])
  end
end
)lua";

// With user mapping: purge expired clients and users, then {clients, users}.
constexpr const char* presence_stats_script = R"lua(
local expired = redis.call('zrangebyscore', KEYS[2], '0', ARGV[1])
for _, c in ipairs(expired) do redis.call('hdel', KEYS[1], c) end
redis.call('zremrangebyscore', KEYS[2], '0', ARGV[1])
local gone = redis.call('zrangebyscore', KEYS[3], '0', ARGV[1])
for _, u in ipairs(gone) do redis.call('hdel', KEYS[4], u) end
redis.call('zremrangebyscore', KEYS[3], '0', ARGV[1])
return {redis.call('hlen', KEYS[1]), redis.call('hlen', KEYS[4])}
)lua";

constexpr const char* presence_get_script = R"lua(
local expired = redis.call('zrangebyscore', KEYS[2], '0', ARGV[1])
for _, c in ipairs(expired) do redis.call('hdel', KEYS[1], c) end
redis.call('zremrangebyscore', KEYS[2], '0', ARGV[1])
return redis.call('hgetall', KEYS[1])
)lua";

std::string unix_seconds() {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
}

/// Control and join/leave pushes between Gyre nodes use node/broker_framing.hpp; publications
/// use Centrifuge's framing.
constexpr std::string_view pub_marker = "__p1:";

std::string seconds(std::chrono::nanoseconds d) {
    const auto s = std::chrono::ceil<std::chrono::seconds>(d).count();
    return std::to_string(s > 0 ? s : 0);
}

std::uint64_t to_u64(std::string_view s) {
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

/// "123-0" -> 123 (stream IDs are the offsets).
std::uint64_t entry_offset(std::string_view id) {
    return to_u64(id.substr(0, id.find('-')));
}

class redis_broker final : public broker {
public:
    redis_broker(node& n, redis_broker_options options)
        : node_(n)
        , prefix_(std::move(options.prefix))
        , control_channel_(prefix_ + ".control")
        , uid_(random_uuid())
        , user_mapping_(options.presence_user_mapping) {
        std::string described;
        for (const auto& address : options.addresses) {
            instance inst;
            inst.cluster = address.is_cluster();
            // In a cluster a plain SUBSCRIBE on one node hears PUBLISH made on any node.
            rd::address pubsub_address = address;
            if (inst.cluster) {
                pubsub_address.mode = rd::address_mode::standalone; // the first seed
            }
            std::vector<rd::address> seeds;
            for (const auto& seed : address.seeds) {
                rd::address a = pubsub_address;
                a.host = seed.host;
                a.port = seed.port;
                seeds.push_back(std::move(a));
            }
            for (std::size_t i = 0; i < n.shards().size(); ++i) {
                auto& ctx = n.shards().at(i).context();
                command_link c;
                if (inst.cluster) {
                    c.cluster = rd::cluster_connection::create(ctx, seeds);
                    c.cluster->start();
                } else {
                    c.single = rd::connection::create(ctx, address);
                    c.single->start();
                }
                inst.commands.push_back(std::move(c));
                if (options.presence_only) {
                    continue;
                }
                auto s = rd::subscriber::create(ctx, pubsub_address);
                s->on_message([this, i](std::string_view channel, std::string_view payload) {
                    if (channel == control_channel_) {
                        on_control(i, payload);
                    } else {
                        on_message(channel, payload);
                    }
                });
                if (i == 0) {
                    // Control messages go out over any instance, so every instance is heard.
                    s->subscribe(std::vector<std::string>{control_channel_}); // kept on reconnect
                }
                s->start();
                inst.subscribers.push_back(std::move(s));
            }
            instances_.push_back(std::move(inst));
            described += (described.empty() ? "" : ",") + address.describe();
        }
        GYRE_LOG_INFO("using redis {} address={} shards={} prefix={}",
                      options.presence_only ? "presence manager" : "broker",
                      described,
                      instances_.size(),
                      prefix_);
    }

    ~redis_broker() override {
        for (auto& inst : instances_) {
            for (auto& c : inst.commands) {
                c.stop();
            }
            for (auto& s : inst.subscribers) {
                s->stop();
            }
        }
    }

    void
    publish(std::size_t origin, pc::push p, publish_options options, publish_done done) override {
        on_shard(origin,
                 [this,
                  origin,
                  p = std::move(p),
                  options = std::move(options),
                  done = std::move(done)]() mutable {
                     do_publish(origin, std::move(p), std::move(options), std::move(done));
                 });
    }

    void history(std::size_t origin,
                 const std::string& channel,
                 history_filter filter,
                 std::chrono::nanoseconds meta_ttl,
                 history_done done) override {
        on_shard(origin,
                 [this, origin, channel, filter, meta_ttl, done = std::move(done)]() mutable {
                     do_history(origin, channel, filter, meta_ttl, std::move(done));
                 });
    }

    void remove_history(std::size_t origin,
                        const std::string& channel,
                        unique_function<void()> done) override {
        on_shard(origin, [this, origin, channel, done = std::move(done)]() mutable {
            commands(origin, channel)
                .command({"DEL", stream_key(channel)},
                         [done = std::move(done)](rd::command_result) mutable {
                             if (done) {
                                 done();
                             }
                         });
        });
    }

    void tick(std::size_t, std::chrono::steady_clock::time_point) override {}

    bool keeps_presence() const noexcept override { return true; }

    bool delivers_every_publication() const noexcept override { return false; }

    void presence_add(std::size_t origin,
                      const std::string& channel,
                      const std::string& client,
                      const pc::client_info& info,
                      std::chrono::seconds ttl) override {
        std::string bytes;
        pc::protobuf::append_client_info(bytes, info);
        on_shard(origin,
                 [this,
                  origin,
                  channel,
                  client,
                  user = info.user,
                  bytes = std::move(bytes),
                  ttl]() mutable {
                     const auto expires = std::to_string(
                         std::chrono::duration_cast<std::chrono::seconds>(
                             (std::chrono::system_clock::now() + ttl).time_since_epoch())
                             .count());
                     commands(origin, channel)
                         .command(presence_eval(presence_add_script,
                                                channel,
                                                {client,
                                                 std::move(bytes),
                                                 std::to_string(ttl.count()),
                                                 expires,
                                                 std::move(user),
                                                 user_mapping_ ? "1" : "0"}),
                                  [](rd::command_result) {});
                 });
    }

    void presence_remove(std::size_t origin,
                         const std::string& channel,
                         const std::string& client,
                         const std::string& user) override {
        on_shard(origin, [this, origin, channel, client, user] {
            commands(origin, channel)
                .command(presence_eval(presence_remove_script,
                                       channel,
                                       {client, user, user_mapping_ ? "1" : "0"}),
                         [](rd::command_result) {});
        });
    }

    void presence_stats(std::size_t origin,
                        const std::string& channel,
                        unique_function<void(std::optional<presence_counts>)> done) override {
        if (!user_mapping_) {
            broker::presence_stats(origin, channel, std::move(done));
            return;
        }
        // Users are counted in their own keys: no need to fetch every client's info.
        on_shard(origin, [this, origin, channel, done = std::move(done)]() mutable {
            commands(origin, channel)
                .command(
                    presence_eval(presence_stats_script, channel, {unix_seconds()}),
                    [done = std::move(done)](rd::command_result r) mutable {
                        const auto& v = r.value;
                        if (!r.ok() || v.elements.size() != 2) {
                            done(std::nullopt); // unreachable is not "nobody here"
                            return;
                        }
                        done(presence_counts{static_cast<std::uint32_t>(v.elements[0].integer),
                                             static_cast<std::uint32_t>(v.elements[1].integer)});
                    });
        });
    }

    void presence_get(std::size_t origin,
                      const std::string& channel,
                      unique_function<void(std::optional<presence_clients>)> done) override {
        on_shard(origin, [this, origin, channel, done = std::move(done)]() mutable {
            commands(origin, channel)
                .command(presence_eval(presence_get_script, channel, {unix_seconds()}),
                         [done = std::move(done)](rd::command_result r) mutable {
                             if (!r.ok() || r.value.is_error()) {
                                 done(std::nullopt); // unreachable is not "nobody here"
                                 return;
                             }
                             presence_clients out;
                             const auto& items = r.value.elements;
                             for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
                                 if (auto info =
                                         pc::protobuf::decode_client_info(items[i + 1].text)) {
                                     out.emplace(items[i].text, std::move(*info));
                                 }
                             }
                             done(std::move(out));
                         });
        });
    }

    void send_control(std::size_t origin, std::string payload) override {
        on_shard(origin, [this, origin, payload = std::move(payload)]() mutable {
            // "<sender uid>:<payload>": a node skips its own messages.
            // Round robin over the instances, as every instance carries the control channel.
            auto& inst = instances_[next_control_++ % instances_.size()];
            inst.commands[origin].command({"PUBLISH", control_channel_, uid_ + ":" + payload},
                                          [](rd::command_result) {});
        });
    }

    void subscribe(const std::string& channel, unique_function<void(bool)> ready) override {
        instance_for(channel).subscribers[node_.home(channel)]->subscribe(client_channel(channel),
                                                                          std::move(ready));
    }

    void unsubscribe(const std::string& channel) override {
        instance_for(channel).subscribers[node_.home(channel)]->unsubscribe(
            {client_channel(channel)});
    }

private:
    /// Commands to one instance: one pipelined connection, or a cluster client routing by slot.
    struct command_link {
        std::shared_ptr<rd::connection> single;
        std::shared_ptr<rd::cluster_connection> cluster;

        void command(std::vector<std::string> args, rd::reply_callback done) {
            single ? single->command(std::move(args), std::move(done))
                   : cluster->command(std::move(args), std::move(done));
        }

        void stop() { single ? single->stop() : cluster->stop(); }
    };

    /// One Redis instance or cluster (one entry of the address list): commands and a PUB/SUB
    /// connection per Gyre shard.
    struct instance {
        bool cluster = false; ///< keys wrap the channel in a {hash tag}: one slot per channel
        std::vector<command_link> commands;
        std::vector<std::shared_ptr<rd::subscriber>> subscribers;
    };

    instance& instance_for(std::string_view channel) {
        return instances_.size() == 1
                   ? instances_.front()
                   : instances_[rd::consistent_index(channel, instances_.size())];
    }

    command_link& commands(std::size_t origin, std::string_view channel) {
        return instance_for(channel).commands[origin];
    }

    /// `<prefix><infix><channel>`, the channel as `{channel}` on a cluster (Centrifugo's keys).
    std::string key(std::string_view infix, std::string_view ch) {
        std::string out = prefix_;
        out += infix;
        if (instance_for(ch).cluster) {
            out += '{';
            out += ch;
            out += '}';
        } else {
            out += ch;
        }
        return out;
    }

    std::string client_channel(std::string_view ch) { return key(".client.", ch); }

    std::string stream_key(std::string_view ch) { return key(".stream.", ch); }

    std::string meta_key(std::string_view ch) { return key(".stream.meta.", ch); }

    /// EVAL of a presence script over the channel's keys (Centrifuge's layout): data HASH,
    /// expire ZSET, and for user mapping the user ZSET and the user -> connections HASH.
    std::vector<std::string>
    presence_eval(const char* script, std::string_view ch, std::vector<std::string> argv) {
        std::vector<std::string> args{"EVAL",
                                      script,
                                      "4",
                                      key(".presence.data.", ch),
                                      key(".presence.expire.", ch),
                                      key(".presence.user.expire.", ch),
                                      key(".presence.user.clients.", ch)};
        std::move(argv.begin(), argv.end(), std::back_inserter(args));
        return args;
    }

    void on_shard(std::size_t shard, unique_function<void()> fn) {
        if (node_.shards().at(shard).is_current()) {
            fn();
        } else {
            node_.shards().at(shard).submit(std::move(fn));
        }
    }

    static void answer(publish_done& done, publish_result r) {
        if (done) {
            done(std::move(r));
        }
    }

    void do_publish(std::size_t origin, pc::push p, publish_options options, publish_done done) {
        auto& conn = commands(origin, p.channel);
        const std::string channel = client_channel(p.channel);
        auto* pub = std::get_if<pc::publication>(&p.body);
        if (pub == nullptr) {
            // Join/leave and control pushes: Gyre's own framing, never kept.
            conn.command({"PUBLISH", channel, detail::encode_gyre_push(p, options.except_client)},
                         [done = std::move(done)](rd::command_result r) mutable {
                             answer(done, publish_result{r.ok() && !r.value.is_error(), 0, {}});
                         });
            return;
        }
        // The time travels with the publication (as Centrifuge's does): the receiving nodes
        // measure the delivery lag from it, and clients never see it.
        pub->time = hub::unix_ms_now();
        std::string payload;
        pc::protobuf::append_publication(payload, *pub);
        if (!options.history_enabled() && options.idempotency_key.empty()) {
            conn.command({"PUBLISH", channel, std::move(payload)},
                         [done = std::move(done)](rd::command_result r) mutable {
                             answer(done, publish_result{r.ok() && !r.value.is_error(), 0, {}});
                         });
            return;
        }
        const bool keep = options.history_enabled();
        // Without an idempotency key the result key is never touched, only named (same slot).
        std::string result_key = key(".result.", p.channel);
        const bool idempotent = !options.idempotency_key.empty();
        if (idempotent) {
            result_key += "." + options.idempotency_key;
        }
        std::vector<std::string> args{"EVAL",
                                      publish_with_history,
                                      "3",
                                      stream_key(p.channel),
                                      meta_key(p.channel),
                                      result_key,
                                      std::move(payload),
                                      std::to_string(keep ? options.history_size : 1),
                                      keep ? seconds(options.history_ttl) : "1",
                                      channel,
                                      seconds(options.history_meta_ttl),
                                      new_epoch(),
                                      "300", // Centrifuge keeps idempotent results for 5 minutes
                                      std::to_string(options.version),
                                      options.version_epoch,
                                      idempotent ? "1" : "0"};
        conn.command(std::move(args), [done = std::move(done)](rd::command_result r) mutable {
            publish_result out;
            const auto& v = r.value;
            if (!r.ok() || v.is_error() || v.elements.size() != 3) {
                if (!r.ok() || v.is_error()) {
                    GYRE_LOG_WARN("redis publish failed error=\"{}\"", r.ok() ? v.text : r.failure);
                }
                out.ok = false;
                answer(done, std::move(out));
                return;
            }
            out.offset = static_cast<std::uint64_t>(v.elements[0].integer);
            out.epoch = v.elements[1].text;
            answer(done, std::move(out));
        });
    }

    void do_history(std::size_t origin,
                    const std::string& channel,
                    history_filter filter,
                    std::chrono::nanoseconds meta_ttl,
                    history_done done) {
        if (filter.since && filter.reverse && filter.since->offset == 0) {
            history_result bad;
            bad.bad_request = true;
            done(std::move(bad));
            return;
        }
        std::string mode;
        std::string from;
        std::string to;
        if (filter.limit != 0) {
            if (!filter.reverse) {
                mode = "f";
                from = filter.since ? std::to_string(filter.since->offset + 1) : "-";
                to = "+";
            } else {
                mode = "r";
                from = filter.since ? std::to_string(filter.since->offset - 1) : "+";
                to = "-";
            }
        }
        const std::string count = filter.limit > 0 ? std::to_string(filter.limit) : "0";
        commands(origin, channel)
            .command(
                {"EVAL",
                 read_history,
                 "2",
                 stream_key(channel),
                 meta_key(channel),
                 new_epoch(),
                 seconds(meta_ttl),
                 mode,
                 from,
                 to,
                 count},
                [channel, filter, done = std::move(done)](rd::command_result r) mutable {
                    history_result out;
                    const auto& v = r.value;
                    if (!r.ok() || v.is_error() || v.elements.size() != 3) {
                        out.failed = true;
                        done(std::move(out));
                        return;
                    }
                    out.top = {static_cast<std::uint64_t>(v.elements[0].integer),
                               v.elements[1].text};
                    if (filter.since && !filter.since->epoch.empty() &&
                        filter.since->epoch != out.top.epoch) {
                        out.unrecoverable = true;
                    }
                    for (const auto& entry : v.elements[2].elements) {
                        if (entry.elements.size() != 2 || entry.elements[1].elements.size() < 2) {
                            continue;
                        }
                        auto pub =
                            pc::protobuf::decode_publication(entry.elements[1].elements[1].text);
                        if (!pub) {
                            continue;
                        }
                        pub->offset = entry_offset(entry.elements[0].text);
                        pub->time = 0; // kept for the lag check only, never sent to clients
                        pc::push p;
                        p.channel = channel;
                        p.body = std::move(*pub);
                        out.publications.push_back(std::make_shared<hub::prepared_push>(
                            std::move(p), std::string{}, out.top.epoch));
                    }
                    done(std::move(out));
                });
    }

    void on_control(std::size_t shard, std::string_view payload) {
        const auto colon = payload.find(':');
        if (colon == std::string_view::npos || payload.substr(0, colon) == uid_) {
            return;
        }
        node_.on_control(shard, payload.substr(colon + 1));
    }

    /// On the channel's home shard: a message from Redis becomes a push for local subscribers.
    void on_message(std::string_view channel, std::string_view payload) {
        const std::string client_prefix = prefix_ + ".client.";
        if (channel.substr(0, client_prefix.size()) != client_prefix) {
            return;
        }
        pc::push p;
        auto name = channel.substr(client_prefix.size());
        if (name.size() >= 2 && name.front() == '{' && name.back() == '}') {
            name = name.substr(1, name.size() - 2); // a cluster's hash-tagged channel
        }
        p.channel = std::string(name);
        std::string except_client;
        std::string epoch;
        std::int64_t published_ms = 0;
        if (detail::is_gyre_push(payload)) {
            auto decoded = detail::decode_gyre_push(payload, p.channel);
            if (!decoded) {
                return;
            }
            p = std::move(decoded->push);
            except_client = std::move(decoded->except_client);
        } else {
            std::uint64_t offset = 0;
            if (payload.substr(0, pub_marker.size()) == pub_marker) {
                // __p1:<offset>:<epoch>__<publication>
                const auto rest = payload.substr(pub_marker.size());
                const auto colon = rest.find(':');
                const auto end = rest.find("__");
                if (colon == std::string_view::npos || end == std::string_view::npos ||
                    end < colon) {
                    return;
                }
                offset = to_u64(rest.substr(0, colon));
                epoch = std::string(rest.substr(colon + 1, end - colon - 1));
                payload = rest.substr(end + 2);
            }
            auto pub = pc::protobuf::decode_publication(payload);
            if (!pub) {
                GYRE_LOG_DEBUG("undecodable publication from redis channel={}", p.channel);
                return;
            }
            pub->offset = offset;
            published_ms = std::exchange(pub->time, 0); // for the lag check, not for clients
            p.body = std::move(*pub);
        }
        node_.fan_out(std::make_shared<hub::prepared_push>(
            std::move(p), std::move(except_client), std::move(epoch), published_ms));
    }

    node& node_;
    std::string prefix_;
    std::string control_channel_;
    std::string uid_;                          ///< this node, to skip its own control messages
    std::vector<instance> instances_;          ///< channels spread over them by consistent_index
    std::atomic<std::size_t> next_control_{0}; // send_control runs on any shard
    bool user_mapping_ = false; ///< presence_user_mapping: users counted in their own keys
};

} // namespace

std::unique_ptr<broker> make_redis_broker(node& n, redis_broker_options options) {
    return std::make_unique<redis_broker>(n, std::move(options));
}

} // namespace gyre::node
