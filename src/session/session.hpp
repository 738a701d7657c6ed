// File: session/session.hpp
// One client connection's protocol state machine, independent of the transport: decodes
// commands, runs them in order (connect first, then subscribe, publish, presence, ...), keeps the
// outbox (bounded by client.queue_max_size, else 3008) and coalesces queued messages into one
// transport write per loop turn. Shard-local: every method runs on the connection's shard.
#pragma once

#include "core/shared_bytes.hpp"
#include "core/small_queue.hpp"
#include "hub/subscriber.hpp"
#include "metrics/catalog.hpp"
#include "model/disconnect.hpp"
#include "node/user_command.hpp"
#include "protocol/client/messages.hpp"
#include "session/claims.hpp"
#include "session/context.hpp"
#include "session/proxies.hpp"
#include "session/transport.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gyre::session {

class session final : public hub::subscriber,
                      public node::user_connection,
                      public std::enable_shared_from_this<session> {
public:
    using clock = std::chrono::steady_clock;

    session(context& ctx, std::size_t shard, transport& t);
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    ~session();

    /// One transport frame (WebSocket message). `binary` tells binary from text frames.
    void on_frame(std::string_view frame, bool binary);

    /// The transport finished the write handed to it; `ok` false means it failed.
    void on_write_done(bool ok);

    /// The peer went away (or the transport failed): release everything, send nothing.
    void on_transport_closed();

    /// Stale connect, pings, pong timeout, expiry; returns when it next needs to run (the
    /// registry sleeps the connection until then).
    clock::time_point tick(clock::time_point now);

    /// Server-initiated close with a disconnect code (shutdown, slow, ...).
    void close(model::disconnect d);

    void deliver(const hub::prepared_push_ptr& p) override;
    void deliver_batch(const hub::push_batch& b) override;

    /// Called by context::flush_queued(): the loop turn is over, write what is queued.
    void flush_queued();

    bool is_closed() const noexcept { return closed_; }

    const std::string& client_id() const noexcept override { return client_; }

    /// Emulation and unidirectional connections have a session id (API calls may name it);
    /// WebSocket ones have none.
    const std::string& session_id() const noexcept override { return session_id_; }

    /// Server API actions on this connection (subscribe, unsubscribe, disconnect, refresh).
    void apply(const node::user_command& cmd) override;

private:
    enum class state : std::uint8_t { connecting, connected, closed };

    struct subscription {
        bool ready = false;      ///< reply sent; pushes flow
        bool join_leave = false; ///< wants join/leave pushes
        bool presence = false;   ///< registered in channel presence
        bool emit_join_leave = false;
        bool server_side = false; ///< from the token or the personal channel: expiry disconnects
        bool refreshing = false;  ///< a sub_refresh proxy call is in flight
        std::string chan_info;
        std::int64_t expires_at = 0; ///< unix seconds, 0 = never
        std::vector<hub::prepared_push_ptr> pending;
        // Positioning (history channels): the last offset and epoch delivered; a gap or an
        // epoch change means this subscriber missed something (insufficient state).
        bool positioned = false;
        bool recoverable = false;
        std::uint64_t offset = 0;
        std::string epoch;
    };

    /// What a subscribe asked for about its stream position.
    struct recovery_request {
        bool recover = false; ///< recover since offset/epoch (or auto cache recovery)
        bool cache = false;   ///< force_recovery_mode: cache (only the latest publication)
        bool reject_unrecovered = false; ///< flag bit 2: answer 112 instead of recovered:false
        std::uint64_t offset = 0;
        std::string epoch;
    };

    using command = protocol::client::command;
    using error_info = protocol::client::error;

    using verify_result = boost::system::result<auth::verified_token, auth::verify_error>;

    /// Verifies a connection or subscription token. With JWKS and an uncached key it starts a
    /// fetch, re-queues the current command to run again once the key is cached, and returns
    /// nullopt: the caller just returns.
    std::optional<verify_result> verify_token(bool subscription_token, const std::string& token);

    void pump();
    void dispatch(command& cmd);
    void finish_command();

    void handle_connect(std::uint32_t id, protocol::client::connect_request& req);
    void handle_subscribe(std::uint32_t id, protocol::client::subscribe_request& req);
    void handle_unsubscribe(std::uint32_t id, const protocol::client::unsubscribe_request& req);
    void handle_publish(std::uint32_t id, protocol::client::publish_request& req);
    void handle_presence(std::uint32_t id, const std::string& channel, bool stats);
    void handle_history(std::uint32_t id, const protocol::client::history_request& req);
    void handle_rpc(std::uint32_t id, protocol::client::rpc_request& req);
    void handle_refresh(std::uint32_t id, const protocol::client::refresh_request& req);
    void handle_sub_refresh(std::uint32_t id, const protocol::client::sub_refresh_request& req);
    void handle_pong();
    void enforce_single_connection();

    void server_subscribe(const node::subscribe_action& a);
    void server_unsubscribe(const node::unsubscribe_action& a);
    void server_refresh(const node::refresh_action& a);
    /// Asks the transport for a tick when the connection expires (expires_at_ changed).
    void wake_for_expiry();
    /// Sends a push outside any command reply (id 0).
    void send_push(protocol::client::push p);

    /// Subscribes (hub + home shard), then runs `ready` on this shard. Shared by client-side
    /// and server-side subscriptions.
    void
    start_subscription(const std::string& channel, subscription sub, unique_function<void()> ready);
    /// Presence and join/leave for a subscription: namespace options, token overrides, and
    /// the client's join_leave opt-in (which needs presence permission).
    void apply_options(subscription& sub,
                       const config::channel_options& opts,
                       const channel_override& o,
                       bool client_wants_join_leave) const;
    void activate(const std::string& channel);
    /// Reads the stream position (and, when recovering, the missed publications) of a
    /// positioned subscription on its home shard; `then` runs here unless the session closed.
    void read_position(const std::string& channel,
                       const recovery_request& rec,
                       unique_function<void(node::history_result)> then);
    /// read_position(), then the subscribe reply with the position, then activation.
    void position_subscription(std::uint32_t id,
                               const std::string& channel,
                               recovery_request rec,
                               std::shared_ptr<protocol::client::subscribe_result> result);
    /// Fills the position fields (and recovered publications) of `result` and the
    /// subscription's tracked position. False: not recovered and the client asked for 112.
    bool fill_position(const std::string& channel,
                       const recovery_request& rec,
                       node::history_result h,
                       protocol::client::subscribe_result& result);
    /// Delivery to a positioned subscription: skips what it has seen, detects gaps.
    bool advance_position(const std::string& channel,
                          subscription& sub,
                          const hub::prepared_push_ptr& p);
    /// Moves `sub` past every publication of `pushes` when each one is the next in its stream
    /// (the common case); false, changing nothing, when any of them needs the one-by-one rule.
    static bool advance_position_over(subscription& sub,
                                      const std::vector<hub::prepared_push_ptr>& pushes);
    void insufficient_state(const std::string& channel, subscription& sub);
    bool has_history_access(const config::channel_options& opts, const std::string& channel) const;
    void end_subscription(const std::string& channel);

    /// Unidirectional: the connect request (first message) becomes the connect command.
    void on_connect_request(std::string_view text);
    /// Unidirectional: a connect that failed with `code` (an error or a disconnect) ends the
    /// connection with a disconnect (Centrifugo's mapping, or the configured transforms).
    void refuse_unidirectional(std::uint32_t code,
                               std::string_view message,
                               std::optional<model::disconnect> d);
    /// Closes with `d` (close() minus the unidirectional connect rules).
    void end(model::disconnect d);
    void reply_unidirectional(protocol::client::reply& r);

    /// Asks the backend about the current command: parks it until the answer arrives and runs
    /// it again with the answer, which this returns on that second run (nullopt after parking:
    /// the caller returns). Later commands wait in order behind it.
    std::optional<proxy::response> ask_proxy(proxy::client& p, proxy::request req);
    proxy::client_context proxy_context(const proxy::client& p) const;
    /// An answer that is not a result: the error (100 for a failed call) or the disconnect is
    /// applied. True when it was one.
    bool proxy_refused(std::uint32_t id, const proxy::response& r);
    proxy::client* refresh_proxy() const;
    proxy::client* sub_refresh_proxy(const std::string& channel) const;
    /// Server-side refresh: asks the refresh proxy whether the expired connection goes on.
    void refresh_through_proxy();
    /// Asks the sub_refresh proxy whether an expired subscription goes on.
    void
    sub_refresh_through_proxy(proxy::client& px, const std::string& channel, subscription& sub);
    /// The proxy for an RPC method by its namespace, or the error to answer.
    std::variant<proxy::client*, error_info> rpc_proxy_for(const std::string& method) const;

    void reply_error(std::uint32_t id, const error_info& e);
    void reply(protocol::client::reply r);
    void enqueue(shared_bytes message);
    void schedule_flush();
    void flush();
    void cleanup();

    protocol::client::client_info info_for(const subscription& sub) const;
    const config::config& cfg() const noexcept;

    context& ctx_;
    std::size_t shard_;
    transport& transport_;
    hub::wire wire_;
    bool unidirectional_ = false;
    bool expects_pong_ = false; ///< the connect result said pong (bidirectional transports)
    state state_ = state::connecting;
    bool closed_ = false;
    bool cleaned_ = false;
    bool busy_ = false;
    small_queue<command> commands_;
    const command* current_ = nullptr;       ///< the command being dispatched
    std::optional<proxy::response> proxied_; ///< the backend's answer for the re-run command
    std::string meta_;                       ///< connection meta (connect proxy), server-only
    bool refreshing_ = false;                ///< a refresh proxy call is in flight
    bool jwks_retry_ = false; ///< the current command already waited for a JWKS fetch

    std::string client_;
    std::string session_id_;
    bool indexed_ = false; ///< in the node's user index (connected)
    std::string user_;
    std::string conn_info_;
    bool counted_user_ = false;
    std::int64_t expires_at_ = 0; ///< unix seconds; 0 = never
    // Most clients hold one or a few subscriptions: a tree costs no bucket array (~100 B less
    // per idle connection than a hash map) and finds a channel in a comparison or two.
    std::map<std::string, subscription, std::less<>> subs_;

    small_queue<shared_bytes> outbox_;
    std::vector<shared_bytes> write_batch_; ///< empty between writes; keeps its capacity
    std::size_t outbox_bytes_ = 0;
    bool write_in_flight_ = false;
    bool flush_scheduled_ = false;

    void check_subscription_expiry();
    /// Compares each positioned subscription with its stream's top; one that fell behind
    /// (a publication lost between Redis and this node) is resubscribed with 2500.
    void check_positions();

    clock::time_point created_ = clock::now();
    bool has_expiring_subs_ = false; ///< some subscription has expires_at: check each second
    clock::time_point next_ping_{};
    clock::time_point pong_deadline_{};
    clock::time_point next_presence_refresh_{}; ///< shared presence stores only
    clock::time_point next_position_check_{};   ///< brokers that may drop a publication
    bool awaiting_pong_ = false;

    // ---- metrics (Centrifugo's names; see metrics/catalog.hpp) ----
    /// Times the command being served, from its first dispatch to its reply.
    struct command_timing {
        std::uint32_t id = 0; ///< 0: none
        protocol::client::method method = protocol::client::method::none;
        clock::time_point started{};
    };

    void time_command(const command& cmd);
    void count_reply(const protocol::client::reply& r, std::size_t bytes);
    void count_disconnect(const model::disconnect& d);
    const metrics::transport_counters& counters_;
    metrics::gauge* connections_inflight_ = nullptr; ///< set while connected
    metrics::gauge* subscriptions_inflight_ = nullptr;
    command_timing timing_;
    clock::time_point ping_sent_{};
};

} // namespace gyre::session
