#include "node/nats_broker.hpp"

#include "core/log.hpp"
#include "core/uuid.hpp"
#include "node/broker_framing.hpp"
#include "node/node.hpp"
#include "protocol/client/protobuf_codec.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nats/nats.h>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gyre::node {
namespace {

namespace pc = protocol::client;

/// Centrifugo's NATS broker stamps a stream position into this tag (redisnats); never shown.
constexpr std::string_view epoch_tag = "__centrifugo_epoch";

/// "nats://user:secret@host" -> "nats://user:***@host": URLs are logged.
std::string strip_password(std::string url) {
    const auto scheme = url.find("://");
    const auto start = scheme == std::string::npos ? 0 : scheme + 3;
    const auto at = url.find('@', start);
    const auto colon = url.find(':', start);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
        url.replace(colon + 1, at - colon - 1, "***");
    }
    return url;
}

std::string status_text(natsStatus s) {
    std::string out = natsStatus_GetText(s);
    const char* last = nats_GetLastError(nullptr);
    if (last != nullptr && *last != '\0' && out != last) {
        out += ": ";
        out += last;
    }
    return out;
}

/// Centrifugo refuses NATS wildcards in channels unless allow_wildcards (not supported here).
bool has_wildcard(std::string_view channel) noexcept {
    return channel.find_first_of("*>") != std::string_view::npos;
}

/// One thread that runs queued tasks in order: libnats calls that may block on the network
/// (a full write buffer, a flush round trip) run here, never on a shard.
class task_thread {
public:
    /// `after_batch` runs on the thread after each batch of tasks (everything queued at the
    /// time), so a caller can confirm many tasks with one round trip.
    explicit task_thread(unique_function<void()> after_batch = {})
        : after_batch_(std::move(after_batch))
        , thread_([this] { run(); }) {}

    task_thread(const task_thread&) = delete;
    task_thread& operator=(const task_thread&) = delete;

    ~task_thread() { stop(); }

    void post(unique_function<void()> task) {
        {
            const std::lock_guard lock(mu_);
            if (stopping_) {
                return;
            }
            tasks_.push_back(std::move(task));
        }
        cv_.notify_one();
    }

    /// Runs what is queued, then ends the thread. Idempotent.
    void stop() {
        {
            const std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_one();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    void run() {
        std::unique_lock lock(mu_);
        for (;;) {
            cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) {
                return; // stopping, and nothing left
            }
            auto batch = std::move(tasks_);
            tasks_.clear();
            lock.unlock();
            for (auto& t : batch) {
                t();
            }
            batch.clear(); // captured state goes before the lock is taken again
            if (after_batch_) {
                after_batch_();
            }
            lock.lock();
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<unique_function<void()>> tasks_;
    bool stopping_ = false;
    unique_function<void()> after_batch_;
    std::thread thread_; // last: starts once the members above exist
};

class nats_broker final : public broker {
public:
    nats_broker(node& n, nats_broker_options options)
        : node_(n)
        , url_(strip_password(options.url))
        , client_prefix_(options.prefix + ".client.")
        , control_subject_(options.prefix + ".control")
        , uid_(random_uuid())
        , flush_timeout_ms_(std::max<std::int64_t>(options.write_timeout.count(), 1)) {
        connect(options);
        GYRE_LOG_INFO("using nats broker url={} prefix={}", url_, options.prefix);
    }

    nats_broker(const nats_broker&) = delete;
    nats_broker& operator=(const nats_broker&) = delete;

    ~nats_broker() override {
        closing_.store(true);
        publisher_.stop();
        subscriptions_.stop();
        natsConnection_Close(conn_);
        for (auto& [subject, sub] : subs_) {
            natsSubscription_Destroy(sub);
        }
        natsSubscription_Destroy(control_sub_);
        natsConnection_Destroy(conn_);
        // Message and connection callbacks run on libnats threads and use `this`: wait until
        // they have all ended (and the library has released its memory, for LSan).
        if (nats_CloseAndWait(5000) != NATS_OK) {
            GYRE_LOG_WARN("nats library did not shut down in time");
        }
    }

    void
    publish(std::size_t origin, pc::push p, publish_options options, publish_done done) override {
        // NATS keeps no history: like Centrifugo's broker, history, idempotency and version
        // options are ignored and the result has no stream position.
        if (has_wildcard(p.channel)) {
            answer(origin, std::move(done), false);
            return;
        }
        std::string subject = client_prefix_ + p.channel;
        std::string payload = encode(p, options.except_client);
        publisher_.post([this,
                         origin,
                         subject = std::move(subject),
                         payload = std::move(payload),
                         done = std::move(done)]() mutable {
            const bool ok = send(subject, payload);
            answer(origin, std::move(done), ok);
        });
    }

    void history(std::size_t origin,
                 const std::string& /*channel*/,
                 history_filter /*filter*/,
                 std::chrono::nanoseconds /*meta_ttl*/,
                 history_done done) override {
        // Centrifugo's NATS broker answers ErrorNotAvailable, which its API reports as an
        // internal error (100).
        node_.shards().at(origin).submit([done = std::move(done)]() mutable {
            history_result r;
            r.failed = true;
            done(std::move(r));
        });
    }

    void remove_history(std::size_t origin,
                        const std::string& /*channel*/,
                        unique_function<void()> done) override {
        if (done) {
            node_.shards().at(origin).submit(std::move(done));
        }
    }

    void tick(std::size_t, std::chrono::steady_clock::time_point) override {}

    void send_control(std::size_t /*origin*/, std::string payload) override {
        publisher_.post([this, payload = uid_ + ":" + payload] {
            // "<sender uid>:<payload>": a node skips its own messages.
            (void)send(control_subject_, payload);
        });
    }

    /// On the channel's home shard; the SUB goes out and is confirmed on the subscription
    /// thread, and `ready` comes back to the home shard.
    void subscribe(const std::string& channel, unique_function<void(bool)> ready) override {
        const std::size_t home = node_.home(channel);
        if (has_wildcard(channel)) {
            ready(false);
            return;
        }
        subscriptions_.post([this, home, channel, ready = std::move(ready)]() mutable {
            const std::string subject = client_prefix_ + channel;
            if (subs_.find(subject) == subs_.end()) {
                natsSubscription* sub = nullptr;
                const natsStatus s =
                    natsConnection_Subscribe(&sub, conn_, subject.c_str(), &on_message, this);
                if (s != NATS_OK) {
                    GYRE_LOG_WARN(
                        "nats subscribe failed channel={} error=\"{}\"", channel, status_text(s));
                    node_.shards().at(home).submit(
                        [ready = std::move(ready)]() mutable { ready(false); });
                    return;
                }
                subs_.emplace(subject, sub);
            }
            pending_ready_.push_back({home, subject, std::move(ready)});
        });
    }

    void unsubscribe(const std::string& channel) override {
        subscriptions_.post([this, subject = client_prefix_ + channel] { drop(subject); });
    }

private:
    struct waiting_ready {
        std::size_t home;
        std::string subject;
        unique_function<void(bool)> ready;
    };

    void connect(const nats_broker_options& options) {
        natsOptions* opts = nullptr;
        if (natsOptions_Create(&opts) != NATS_OK) {
            throw std::runtime_error("cannot create nats options");
        }
        std::vector<std::string> urls;
        for (std::size_t start = 0; start <= options.url.size();) {
            auto end = options.url.find(',', start);
            if (end == std::string::npos) {
                end = options.url.size();
            }
            if (end > start) {
                urls.push_back(options.url.substr(start, end - start));
            }
            start = end + 1;
        }
        std::vector<const char*> servers;
        for (const auto& u : urls) {
            servers.push_back(u.c_str());
        }
        natsStatus s =
            natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
        if (s == NATS_OK) {
            s = natsOptions_SetTimeout(opts,
                                       std::max<std::int64_t>(options.dial_timeout.count(), 1));
        }
        if (s == NATS_OK) {
            s = natsOptions_SetWriteDeadline(opts, flush_timeout_ms_);
        }
        if (s == NATS_OK) {
            s = natsOptions_SetMaxReconnect(opts, -1); // as Centrifugo: reconnect forever
        }
        if (s == NATS_OK) {
            s = natsOptions_SetReconnectWait(opts, 500);
        }
        if (s == NATS_OK) {
            // A thread per subscription by default; one small pool keeps per-subject order.
            s = natsOptions_UseGlobalMessageDelivery(opts, true);
        }
        if (s == NATS_OK) {
            s = natsOptions_SetDisconnectedCB(opts, &on_disconnected, this);
        }
        if (s == NATS_OK) {
            s = natsOptions_SetReconnectedCB(opts, &on_reconnected, this);
        }
        if (s == NATS_OK) {
            s = natsOptions_SetErrorHandler(opts, &on_error, this);
        }
        if (s == NATS_OK) {
            s = natsConnection_Connect(&conn_, opts);
        }
        natsOptions_Destroy(opts);
        if (s == NATS_OK) {
            s = natsConnection_Subscribe(
                &control_sub_, conn_, control_subject_.c_str(), &on_message, this);
        }
        if (s == NATS_OK) {
            s = natsConnection_FlushTimeout(conn_, flush_timeout_ms_);
        }
        if (s != NATS_OK) {
            const std::string text = status_text(s);
            natsSubscription_Destroy(control_sub_);
            natsConnection_Destroy(conn_);
            nats_CloseAndWait(5000);
            throw std::runtime_error("error connecting to " + url_ + ": " + text);
        }
    }

    /// Centrifugo's payloads: a bare protobuf Push (publication, join, leave). A push that
    /// must skip a connection, or that Centrifugo never sends, goes in Gyre's framing.
    static std::string encode(const pc::push& p, const std::string& except_client) {
        const auto kind = p.kind();
        const bool centrifugo_form =
            except_client.empty() && (kind == pc::push_kind::pub || kind == pc::push_kind::join ||
                                      kind == pc::push_kind::leave);
        if (!centrifugo_form) {
            return detail::encode_gyre_push(p, except_client);
        }
        std::string payload;
        if (const auto* pub = std::get_if<pc::publication>(&p.body)) {
            pc::protobuf::append_publication_push(payload,
                                                  p.channel,
                                                  *pub,
                                                  pc::push_form::unidirectional,
                                                  pc::protobuf::framing::bare);
        } else {
            pc::protobuf::append_push(
                payload, p, pc::push_form::unidirectional, pc::protobuf::framing::bare);
        }
        return payload;
    }

    /// Publisher thread: false while libnats is disconnected (Centrifugo disables the
    /// reconnect buffer, so its publishes fail then too).
    bool send(const std::string& subject, const std::string& payload) {
        if (closing_.load() || natsConnection_Status(conn_) != NATS_CONN_STATUS_CONNECTED) {
            return false;
        }
        const natsStatus s = natsConnection_Publish(
            conn_, subject.c_str(), payload.data(), static_cast<int>(payload.size()));
        if (s != NATS_OK) {
            GYRE_LOG_WARN("nats publish failed error=\"{}\"", status_text(s));
            return false;
        }
        return true;
    }

    void answer(std::size_t origin, publish_done done, bool ok) {
        if (!done) {
            return;
        }
        node_.shards().at(origin).submit([done = std::move(done), ok]() mutable {
            done(publish_result{ok, 0, {}});
        });
    }

    /// Subscription thread, after a batch: one round trip confirms every SUB of the batch.
    void on_subscriptions_sent() {
        if (pending_ready_.empty()) {
            return;
        }
        auto waiting = std::move(pending_ready_);
        pending_ready_.clear();
        // While libnats reconnects a flush cannot succeed: answer at once.
        const natsStatus s = closing_.load() ? NATS_CONNECTION_CLOSED
                             : natsConnection_Status(conn_) != NATS_CONN_STATUS_CONNECTED
                                 ? NATS_CONNECTION_DISCONNECTED
                                 : natsConnection_FlushTimeout(conn_, flush_timeout_ms_);
        if (s != NATS_OK) {
            GYRE_LOG_WARN("nats subscribe not confirmed error=\"{}\"", status_text(s));
        }
        for (auto& w : waiting) {
            if (s != NATS_OK) {
                drop(w.subject); // not subscribed: the next subscriber asks again
            }
            node_.shards().at(w.home).submit(
                [ready = std::move(w.ready), ok = s == NATS_OK]() mutable { ready(ok); });
        }
    }

    /// Subscription thread.
    void drop(const std::string& subject) {
        const auto it = subs_.find(subject);
        if (it == subs_.end()) {
            return;
        }
        natsSubscription_Unsubscribe(it->second);
        natsSubscription_Destroy(it->second);
        subs_.erase(it);
    }

    /// libnats delivery thread: decode here, off the shards, then hand the push to the
    /// channel's home shard (one delivery thread per subscription keeps per-channel order).
    static void
    on_message(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg, void* closure) {
        auto* self = static_cast<nats_broker*>(closure);
        if (!self->closing_.load()) {
            const std::string_view subject = natsMsg_GetSubject(msg);
            const std::string_view data(natsMsg_GetData(msg),
                                        static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
            self->dispatch(subject, data);
        }
        natsMsg_Destroy(msg);
    }

    void dispatch(std::string_view subject, std::string_view payload) {
        if (subject == control_subject_) {
            const auto colon = payload.find(':');
            if (colon == std::string_view::npos || payload.substr(0, colon) == uid_) {
                return;
            }
            node_.shards().at(0).submit([this, body = std::string(payload.substr(colon + 1))] {
                node_.on_control(0, body);
            });
            return;
        }
        if (subject.substr(0, client_prefix_.size()) != client_prefix_) {
            return;
        }
        std::string channel(subject.substr(client_prefix_.size()));
        std::string except_client;
        std::string epoch;
        std::int64_t published_ms = 0;
        pc::push p;
        if (detail::is_gyre_push(payload)) {
            auto decoded = detail::decode_gyre_push(payload, channel);
            if (!decoded) {
                return;
            }
            p = std::move(decoded->push);
            except_client = std::move(decoded->except_client);
        } else {
            auto decoded = pc::protobuf::decode_push(payload);
            if (!decoded) {
                GYRE_LOG_DEBUG("undecodable push from nats channel={}", channel);
                return;
            }
            p = std::move(*decoded);
            p.channel = channel;
            if (auto* pub = std::get_if<pc::publication>(&p.body)) {
                published_ms = std::exchange(pub->time, 0); // for the lag check only
                if (const auto it = pub->tags.find(std::string(epoch_tag)); it != pub->tags.end()) {
                    if (pub->offset > 0) {
                        epoch = it->second;
                    }
                    pub->tags.erase(it);
                }
            } else if (p.kind() != pc::push_kind::join && p.kind() != pc::push_kind::leave) {
                GYRE_LOG_DEBUG("unexpected push from nats channel={}", channel);
                return;
            }
        }
        auto prepared = std::make_shared<hub::prepared_push>(
            std::move(p), std::move(except_client), std::move(epoch), published_ms);
        node_.shards()
            .at(node_.home(channel))
            .submit([this, prepared = std::move(prepared)]() mutable {
                node_.fan_out(std::move(prepared));
            });
    }

    static void on_disconnected(natsConnection* /*nc*/, void* closure) {
        const auto* self = static_cast<const nats_broker*>(closure);
        if (!self->closing_.load()) {
            GYRE_LOG_WARN("nats disconnected url={}, reconnecting", self->url_);
        }
    }

    static void on_reconnected(natsConnection* /*nc*/, void* closure) {
        const auto* self = static_cast<const nats_broker*>(closure);
        // libnats sends the SUBs of every live subscription again before this runs.
        GYRE_LOG_INFO("nats reconnected url={}", self->url_);
    }

    static void
    on_error(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsStatus err, void* /*closure*/) {
        GYRE_LOG_WARN("nats error=\"{}\"", natsStatus_GetText(err));
    }

    node& node_;
    std::string url_; ///< for logs, without password
    std::string client_prefix_;
    std::string control_subject_;
    std::string uid_; ///< this node, to skip its own control messages
    std::int64_t flush_timeout_ms_;
    std::atomic<bool> closing_{false};
    natsConnection* conn_ = nullptr;
    natsSubscription* control_sub_ = nullptr;
    // Subscription thread only:
    std::unordered_map<std::string, natsSubscription*> subs_;
    std::vector<waiting_ready> pending_ready_;
    task_thread publisher_; ///< publishes and control messages, in order
    task_thread subscriptions_{[this] {
        on_subscriptions_sent();
    }}; ///< SUB / UNSUB, confirmed
};

} // namespace

std::unique_ptr<broker> make_nats_broker(node& n, nats_broker_options options) {
    return std::make_unique<nats_broker>(n, std::move(options));
}

} // namespace gyre::node
