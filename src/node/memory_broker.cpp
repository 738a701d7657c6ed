#include "node/memory_broker.hpp"

#include "node/history.hpp"
#include "node/node.hpp"

#include <chrono>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace gyre::node {

namespace {

/// One node, no network: a publication goes straight to the channel's home shard, which owns
/// the channel's history stream and idempotency keys, so both need no lock.
class memory_broker final : public broker {
public:
    explicit memory_broker(node& n)
        : node_(n)
        , states_(n.shards().size()) {}

    void publish(std::size_t origin,
                 protocol::client::push p,
                 publish_options options,
                 publish_done done) override {
        const std::string channel = p.channel;
        // Stamped here, as Centrifuge's memory broker does: the hop to the home shard counts
        // towards the delivery lag that positioned subscribers check.
        const auto published_ms = hub::unix_ms_now();
        node_.on_home(channel,
                      [this,
                       origin,
                       published_ms,
                       p = std::move(p),
                       options = std::move(options),
                       done = std::move(done)]() mutable {
                          auto result =
                              on_home_publish(std::move(p), std::move(options), published_ms);
                          if (done) {
                              node_.shards().at(origin).submit(
                                  [done = std::move(done), result]() mutable { done(result); });
                          }
                      });
    }

    void history(std::size_t origin,
                 const std::string& channel,
                 history_filter filter,
                 std::chrono::nanoseconds meta_ttl,
                 history_done done) override {
        node_.on_home(channel,
                      [this, origin, channel, filter, meta_ttl, done = std::move(done)]() mutable {
                          auto& st = states_[node_.home(channel)];
                          const auto now = std::chrono::steady_clock::now();
                          auto& stream = st.streams.touch(channel, now, meta_ttl);
                          auto result = stream.read(filter);
                          node_.shards().at(origin).submit(
                              [done = std::move(done), result = std::move(result)]() mutable {
                                  done(std::move(result));
                              });
                      });
    }

    void remove_history(std::size_t origin,
                        const std::string& channel,
                        unique_function<void()> done) override {
        node_.on_home(channel, [this, origin, channel, done = std::move(done)]() mutable {
            auto& st = states_[node_.home(channel)];
            if (auto* stream = st.streams.find(channel, std::chrono::steady_clock::now())) {
                stream->clear();
            }
            if (done) {
                node_.shards().at(origin).submit(std::move(done));
            }
        });
    }

    void tick(std::size_t shard, std::chrono::steady_clock::time_point now) override {
        auto& st = states_[shard];
        st.expire_results(now);
        st.streams.sweep(now);
    }

    void subscribe(const std::string& /*channel*/, unique_function<void(bool)> ready) override {
        ready(true); // one node: publications are local
    }

    void unsubscribe(const std::string& /*channel*/) override {}

private:
    /// Centrifuge's default idempotent result window.
    static constexpr std::chrono::minutes result_window{5};

    struct home_state {
        struct entry {
            std::chrono::steady_clock::time_point expires;
            std::string channel;
            std::string key;
        };

        history_store streams;
        std::unordered_map<std::string, std::unordered_map<std::string, publish_result>> results;
        std::deque<entry> order; // oldest first: keys expire in insertion order

        bool seen(const std::string& channel, const std::string& key, publish_result& out) const {
            const auto ch = results.find(channel);
            if (ch == results.end()) {
                return false;
            }
            const auto it = ch->second.find(key);
            if (it == ch->second.end()) {
                return false;
            }
            out = it->second;
            return true;
        }

        void remember(const std::string& channel,
                      std::string key,
                      const publish_result& r,
                      std::chrono::steady_clock::time_point now) {
            results[channel][key] = r;
            order.push_back({now + result_window, channel, std::move(key)});
        }

        void expire_results(std::chrono::steady_clock::time_point now) {
            while (!order.empty() && order.front().expires <= now) {
                const auto& e = order.front();
                if (const auto ch = results.find(e.channel); ch != results.end()) {
                    ch->second.erase(e.key);
                    if (ch->second.empty()) {
                        results.erase(ch);
                    }
                }
                order.pop_front();
            }
        }
    };

    /// Runs on the channel's home shard: dedupe, stamp the offset, keep, fan out.
    publish_result
    on_home_publish(protocol::client::push p, publish_options options, std::int64_t published_ms) {
        auto& st = states_[node_.home(p.channel)];
        const auto now = std::chrono::steady_clock::now();
        st.expire_results(now);
        publish_result result;
        if (!options.idempotency_key.empty() &&
            st.seen(p.channel, options.idempotency_key, result)) {
            return result; // a repeat: answered, not delivered again
        }
        auto* pub = std::get_if<protocol::client::publication>(&p.body);
        std::shared_ptr<hub::prepared_push> prepared;
        if (pub != nullptr && options.history_enabled()) {
            auto& stream = st.streams.touch(p.channel, now, options.history_meta_ttl);
            result.epoch = stream.epoch();
            if (stream.stale_version(options.version, options.version_epoch)) {
                result.offset = stream.top(); // out of order: suppressed
                return result;
            }
            if (options.version > 0) {
                stream.set_version(options.version, options.version_epoch);
            }
            pub->offset = stream.next_offset(); // before the push is encoded
            prepared = std::make_shared<hub::prepared_push>(
                std::move(p), options.except_client, stream.epoch(), published_ms);
            stream.append(prepared, static_cast<std::size_t>(options.history_size));
            stream.items_expire =
                now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          options.history_ttl);
            result.offset = stream.top();
        } else {
            prepared = std::make_shared<hub::prepared_push>(
                std::move(p), options.except_client, std::string{}, published_ms);
        }
        if (!options.idempotency_key.empty()) {
            st.remember(prepared->channel(), std::move(options.idempotency_key), result, now);
        }
        node_.fan_out(std::move(prepared));
        return result;
    }

    node& node_;
    std::vector<home_state> states_; // per home shard
};

} // namespace

std::unique_ptr<broker> make_memory_broker(node& n) {
    return std::make_unique<memory_broker>(n);
}

} // namespace gyre::node
