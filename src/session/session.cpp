#include "session/session.hpp"

#include "auth/jwks.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "protocol/client/codes.hpp"
#include "protocol/client/json_codec.hpp"
#include "protocol/client/protobuf_codec.hpp"
#include "session/channel_rules.hpp"
#include "session/claims.hpp"
#include "session/connect_channels.hpp"
#include "session/data_format.hpp"
#include "session/position.hpp"
#include "session/timing_rules.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>

namespace gyre::session {
namespace pc = protocol::client;
namespace errs = protocol::client::errors;
namespace disc = model::disconnects;

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// client.channel_position_max_time_lag: a publication with an offset that reached this
/// subscriber later than that after the broker took it leaves the stream untrustworthy.
bool lags(const config::config& c, const hub::prepared_push& p) {
    const auto max = c.client.channel_position_max_time_lag;
    return max.count() > 0 && p.published_ms() > 0 &&
           position_lag_exceeded(p.published_ms(), hub::unix_ms_now(), max);
}

bool any_lags(const config::config& c, const std::vector<hub::prepared_push_ptr>& pushes) {
    if (c.client.channel_position_max_time_lag.count() <= 0) {
        return false;
    }
    return std::any_of(pushes.begin(), pushes.end(), [&c](const hub::prepared_push_ptr& p) {
        return std::get<pc::publication>(p->push().body).offset != 0 && lags(c, *p);
    });
}

std::mt19937_64& rng() {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return gen;
}

const shared_bytes& ping_message(hub::wire w) {
    static const shared_bytes json_ping{std::string("{}")};
    static const shared_bytes protobuf_ping{std::string(1, '\0')}; // length prefix 0
    return hub::is_json(w) ? json_ping : protobuf_ping;
}

bool token_time_error(auth::verify_error e) {
    return e == auth::verify_error::expired || e == auth::verify_error::not_yet_valid;
}

std::uint32_t ttl_from(std::int64_t expires_at) {
    const auto left = expires_at - unix_now();
    return left > 0 ? static_cast<std::uint32_t>(left) : 0;
}

/// Centrifugo's frame_type label of a command (and of its reply).
metrics::frame frame_of(pc::method m) noexcept {
    switch (m) {
    case pc::method::connect:
        return metrics::frame::connect;
    case pc::method::subscribe:
        return metrics::frame::subscribe;
    case pc::method::unsubscribe:
        return metrics::frame::unsubscribe;
    case pc::method::publish:
        return metrics::frame::publish;
    case pc::method::presence:
        return metrics::frame::presence;
    case pc::method::presence_stats:
        return metrics::frame::presence_stats;
    case pc::method::history:
        return metrics::frame::history;
    case pc::method::send:
        return metrics::frame::send;
    case pc::method::rpc:
        return metrics::frame::rpc;
    case pc::method::refresh:
        return metrics::frame::refresh;
    case pc::method::sub_refresh:
        return metrics::frame::sub_refresh;
    case pc::method::ping:
    case pc::method::none:
        break;
    }
    return metrics::frame::unknown;
}

metrics::frame frame_of(pc::push_kind k) noexcept {
    switch (k) {
    case pc::push_kind::pub:
        return metrics::frame::push_publication;
    case pc::push_kind::join:
        return metrics::frame::push_join;
    case pc::push_kind::leave:
        return metrics::frame::push_leave;
    case pc::push_kind::unsubscribe:
        return metrics::frame::push_unsubscribe;
    case pc::push_kind::message:
        return metrics::frame::push_message;
    case pc::push_kind::subscribe:
        return metrics::frame::push_subscribe;
    case pc::push_kind::connect:
        return metrics::frame::push_connect;
    case pc::push_kind::disconnect:
        return metrics::frame::push_disconnect;
    case pc::push_kind::refresh:
        return metrics::frame::push_refresh;
    case pc::push_kind::none:
        break;
    }
    return metrics::frame::server_ping;
}

/// OSS Centrifugo registers no client names, so every SDK is "unregistered" (or "unnamed").
std::string_view name_label(const std::string& v, std::string_view empty) {
    return v.empty() ? empty : std::string_view("unregistered");
}

} // namespace

session::session(context& ctx, std::size_t shard, transport& t)
    : ctx_(ctx)
    , shard_(shard)
    , transport_(t)
    , wire_(t.wire_format())
    , unidirectional_(t.unidirectional())
    , session_id_(t.emulation_session())
    , counters_(metrics::for_transport(t.name())) {
    if (unidirectional_ && session_id_.empty()) {
        session_id_ = random_uuid();
    }
}

session::~session() {
    cleanup();
}

const config::config& session::cfg() const noexcept {
    return *ctx_.current(shard_)->cfg;
}

// ---- input -------------------------------------------------------------------------------

void session::on_frame(std::string_view frame, bool binary) {
    if (closed_) {
        return;
    }
    if (binary != (wire_ == hub::wire::protobuf)) {
        close(disc::bad_request); // a binary frame on a JSON connection, or the reverse
        return;
    }
    if (unidirectional_) {
        on_connect_request(frame);
        return;
    }
    auto decoded = hub::is_json(wire_)
                       ? pc::json::decode_commands(frame)
                       : pc::protobuf::decode_commands(
                             frame, static_cast<std::size_t>(cfg().websocket.message_size_limit));
    if (!decoded) {
        GYRE_LOG_DEBUG(
            "malformed command client={} error=\"{}\"", client_, pc::to_string(decoded.error()));
        close(decoded.error() == pc::codec_error::invalid_payload ? disc::inappropriate_protocol
                                                                  : disc::bad_request);
        return;
    }
    const std::size_t share = decoded->empty() ? 0 : frame.size() / decoded->size();
    for (auto& c : *decoded) {
        counters_.count_received(c.is_pong() ? metrics::frame::client_pong : frame_of(c.kind()),
                                 share);
        commands_.push_back(std::move(c));
    }
    pump();
}

void session::on_connect_request(std::string_view text) {
    if (state_ != state::connecting || !commands_.empty() || busy_) {
        return; // one connect request only: anything later is dropped
    }
    auto request = pc::json::decode_connect_request(text);
    if (!request) {
        close(disc::bad_request);
        return;
    }
    command cmd;
    cmd.id = 1;
    cmd.request = std::move(*request);
    commands_.push_back(std::move(cmd));
    pump();
}

void session::pump() {
    while (!busy_ && !closed_ && !commands_.empty()) {
        command cmd = std::move(commands_.front());
        commands_.pop_front();
        current_ = &cmd;
        dispatch(cmd);
        current_ = nullptr;
        jwks_retry_ = false;
        // A backend answer belongs to the command it was asked for, even if that command
        // ended before using it (its channel got subscribed meanwhile, ...).
        proxied_.reset();
    }
}

std::optional<session::verify_result> session::verify_token(bool subscription_token,
                                                            const std::string& token) {
    const auto settings = ctx_.current(shard_);
    const auto& verifier =
        subscription_token ? settings->subscription_verifier() : settings->connection_tokens;
    auto result = verifier.verify(token, unix_now());
    if (result || result.error() != auth::verify_error::key_unavailable) {
        return result;
    }
    const auto url = verifier.jwks_url_for(token);
    if (jwks_retry_ || !ctx_.fetch() || !url || current_ == nullptr) {
        return verify_result(auth::verify_error::no_key); // fetched already, or cannot fetch
    }
    // Park this command until the key arrives; it runs again from the start, then with the key
    // in the cache. The fetch runs off the shards; the shard never blocks.
    busy_ = true;
    auto cache = verifier.jwks();
    auto& shard = ctx_.node().shards().at(shard_);
    const bool fetch_now = cache->begin_fetch(
        *url, [weak = weak_from_this(), &shard, cmd = *current_](bool /*stored*/) mutable {
            shard.submit([weak, cmd = std::move(cmd)]() mutable {
                if (auto self = weak.lock(); self && !self->closed_) {
                    self->commands_.push_front(std::move(cmd));
                    self->busy_ = false;
                    self->jwks_retry_ = true; // pump() clears it after this command
                    self->pump();
                }
            });
        });
    if (fetch_now) {
        ctx_.fetch()(*url, [cache, u = *url](std::optional<std::string> body) {
            if (body) {
                if (auto set = auth::jwk_set::parse(*body)) {
                    cache->store(u, *set);
                    return;
                }
            }
            cache->fetch_failed(u);
        });
    }
    return std::nullopt;
}

void session::finish_command() {
    busy_ = false;
    pump();
}

void session::dispatch(command& cmd) {
    const auto kind = cmd.kind();
    time_command(cmd);
    if (state_ == state::connecting && kind != pc::method::connect) {
        close(disc::bad_request); // the first command must be connect (a pong too)
        return;
    }
    if (cmd.is_pong()) {
        handle_pong();
        return;
    }
    if (cmd.id == 0 && kind != pc::method::send) {
        close(disc::bad_request);
        return;
    }
    switch (kind) {
    case pc::method::connect:
        handle_connect(cmd.id, std::get<pc::connect_request>(cmd.request));
        break;
    case pc::method::subscribe:
        handle_subscribe(cmd.id, std::get<pc::subscribe_request>(cmd.request));
        break;
    case pc::method::unsubscribe:
        handle_unsubscribe(cmd.id, std::get<pc::unsubscribe_request>(cmd.request));
        break;
    case pc::method::publish:
        handle_publish(cmd.id, std::get<pc::publish_request>(cmd.request));
        break;
    case pc::method::presence:
        handle_presence(cmd.id, std::get<pc::presence_request>(cmd.request).channel, false);
        break;
    case pc::method::presence_stats:
        handle_presence(cmd.id, std::get<pc::presence_stats_request>(cmd.request).channel, true);
        break;
    case pc::method::history:
        handle_history(cmd.id, std::get<pc::history_request>(cmd.request));
        break;
    case pc::method::rpc:
        handle_rpc(cmd.id, std::get<pc::rpc_request>(cmd.request));
        break;
    case pc::method::send:
        close(disc::not_available); // no message handler, as in Centrifugo OSS
        break;
    case pc::method::refresh:
        handle_refresh(cmd.id, std::get<pc::refresh_request>(cmd.request));
        break;
    case pc::method::sub_refresh:
        handle_sub_refresh(cmd.id, std::get<pc::sub_refresh_request>(cmd.request));
        break;
    case pc::method::ping: // deprecated and never sent by SDKs: Centrifugo disconnects
    case pc::method::none:
        close(disc::bad_request);
        break;
    }
}

// ---- backend proxies ----------------------------------------------------------------------

proxy::client_context session::proxy_context(const proxy::client& p) const {
    proxy::client_context c;
    c.client = client_;
    c.transport = std::string(transport_.name());
    c.protocol = wire_ == hub::wire::protobuf ? "protobuf" : "json";
    c.encoding = p.binary_encoding() ? "binary" : "json";
    c.user = user_;
    if (p.include_connection_meta() && !meta_.empty()) {
        c.meta = meta_;
    }
    const auto& wanted = p.forwarded_headers();
    for (const auto& [name, value] : transport_.request_headers()) {
        if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) {
            c.headers.emplace_back(name, value);
        }
    }
    return c;
}

std::optional<proxy::response> session::ask_proxy(proxy::client& p, proxy::request req) {
    if (proxied_) {
        auto answer = std::move(*proxied_);
        proxied_.reset();
        return answer;
    }
    if (current_ == nullptr) {
        return proxy::response{proxy::failure{"no command to ask about"}};
    }
    busy_ = true;
    p.call(shard_,
           proxy_context(p),
           std::move(req),
           [weak = weak_from_this(), cmd = *current_](proxy::response r) mutable {
               auto self = weak.lock();
               if (!self || self->closed_) {
                   return;
               }
               self->proxied_ = std::move(r);
               self->commands_.push_front(std::move(cmd));
               self->busy_ = false;
               self->pump();
           });
    return std::nullopt;
}

bool session::proxy_refused(std::uint32_t id, const proxy::response& r) {
    if (const auto* f = std::get_if<proxy::failure>(&r)) {
        GYRE_LOG_WARN("proxy call failed client={} error=\"{}\"", client_, f->what);
        reply_error(id, errs::internal.to_error());
        return true;
    }
    if (const auto* e = std::get_if<proxy::error>(&r)) {
        reply_error(id, error_info{e->code, e->message, e->temporary});
        return true;
    }
    if (const auto* d = std::get_if<proxy::disconnect>(&r)) {
        close(model::disconnect{d->code, d->reason});
        return true;
    }
    return false;
}

std::variant<proxy::client*, session::error_info>
session::rpc_proxy_for(const std::string& method) const {
    const auto* backend = ctx_.backend();
    const auto& rpc = cfg().tree.at("rpc").as_object();
    if (backend == nullptr || backend->rpc.empty()) {
        // As Centrifugo: no RPC proxy and no rpc.ping means no RPC handler at all (108);
        // with the ping handler alone, any other method is not found (104).
        return rpc.at("ping").as_object().at("enabled").as_bool()
                   ? errs::method_not_found.to_error()
                   : errs::not_available.to_error();
    }
    const std::string boundary(rpc.at("namespace_boundary").as_string());
    const boost::json::object* ns = &rpc.at("without_namespace").as_object();
    if (const auto at = boundary.empty() ? std::string::npos : method.find(boundary);
        at != std::string::npos) {
        const auto name = method.substr(0, at);
        ns = nullptr;
        for (const auto& item : rpc.at("namespaces").as_array()) {
            if (item.as_object().at("name").as_string() == name) {
                ns = &item.as_object();
            }
        }
        if (ns == nullptr) {
            return errs::method_not_found.to_error();
        }
    }
    if (!ns->at("proxy_enabled").as_bool()) {
        return errs::not_available.to_error();
    }
    auto* p = proxies::find(backend->rpc, std::string(ns->at("proxy_name").as_string()));
    if (p == nullptr) {
        return errs::not_available.to_error();
    }
    return p;
}

void session::handle_pong() {
    if (!awaiting_pong_) {
        close(disc::bad_request); // a pong without an outstanding ping
        return;
    }
    awaiting_pong_ = false;
    counters_.ping_pong->observe(std::chrono::duration<double>(clock::now() - ping_sent_).count());
}

// ---- connect -----------------------------------------------------------------------------

void session::handle_connect(std::uint32_t id, pc::connect_request& req) {
    if (state_ != state::connecting) {
        close(disc::bad_request);
        return;
    }
    const auto settings = ctx_.current(shard_);
    const auto& c = *settings->cfg;
    std::vector<server_subscription> server_channels;
    std::string connect_data;   ///< the connect proxy's data for the client
    bool backend_chose = false; ///< the connect proxy saw `subs` and picked the channels
    if (!req.token.empty()) {
        const auto maybe_verified = verify_token(false, req.token);
        if (!maybe_verified) {
            return; // waiting for a JWKS fetch; the command runs again
        }
        const auto& verified = *maybe_verified;
        if (!verified) {
            if (token_time_error(verified.error())) {
                reply_error(id, errs::token_expired.to_error());
            } else {
                GYRE_LOG_INFO("invalid connection token error=\"{}\"",
                              auth::to_string(verified.error()));
                close(disc::invalid_token);
            }
            return;
        }
        const auto claims = read_claims(verified->claims_json);
        if (claims.malformed || claims.channel) {
            close(disc::invalid_token); // a connection token must not carry `channel`
            return;
        }
        user_ = verified->user;
        if (user_.empty() && c.client.disallow_anonymous_connection_tokens) {
            close(disc::permission_denied);
            return;
        }
        if (claims.info) {
            conn_info_ = *claims.info;
        }
        if (claims.expire_at) {
            expires_at_ = *claims.expire_at;
        } else if (verified->exp) {
            expires_at_ = *verified->exp;
        }
        server_channels = claims.channels;
    } else if (auto* px = ctx_.backend() != nullptr ? ctx_.backend()->connect.get() : nullptr) {
        // The backend authenticates a client without a token (cookies, sessions).
        if (client_.empty()) {
            client_ = random_uuid(); // the proxy request names the client
        }
        proxy::connect_request ask{req.name, req.version, req.data, {}};
        for (const auto& [channel, sub] : req.subs) {
            ask.channels.push_back(channel);
        }
        const auto answer = ask_proxy(*px, std::move(ask));
        if (!answer) {
            return;
        }
        if (proxy_refused(id, *answer)) {
            return;
        }
        backend_chose = true;
        const auto& granted = std::get<proxy::connect_result>(std::get<proxy::result>(*answer));
        user_ = granted.user;
        conn_info_ = granted.info;
        expires_at_ = granted.expire_at;
        meta_ = granted.meta;
        connect_data = granted.data;
        for (const auto& ch : granted.channels) {
            server_channels.push_back(server_subscription{ch, {}, {}, {}});
        }
        for (const auto& [ch, options] : granted.subs) {
            server_channels.push_back(options);
            server_channels.back().channel = ch;
        }
    } else if (c.client.insecure || c.client.allow_anonymous_connect_without_token) {
        // Anonymous. As in Centrifugo, this wins over client.user_id_http_header.
    } else if (!transport_.header_user().empty()) {
        user_ = transport_.header_user(); // a gateway in front authenticated the connection
    } else {
        close(disc::bad_request); // no credentials and anonymous access not allowed
        return;
    }
    if (expires_at_ > 0 && expires_at_ <= unix_now()) {
        reply_error(id, errs::expired.to_error());
        return;
    }
    if (c.client.user_connection_limit > 0 && !user_.empty()) {
        counted_user_ = true;
        if (ctx_.node().add_user_connection(user_) >
            static_cast<std::size_t>(c.client.user_connection_limit)) {
            close(disc::connection_limit);
            return;
        }
    }
    if (c.client.personal_channel.enabled && !user_.empty()) {
        // client.subscribe_to_user_personal_channel: "#user" in the configured namespace.
        const auto& ns = c.client.personal_channel.personal_channel_namespace;
        std::string personal = ns.empty() ? std::string{} : ns + c.channel.namespace_boundary;
        personal += c.channel.user_boundary + user_;
        server_channels.push_back(server_subscription{std::move(personal), {}, {}, {}});
    }
    if (!backend_chose) { // channels the client asks for and may subscribe to itself
        auto asked = grant_connect_channels(c, req.subs, user_);
        if (asked.unknown_namespace) {
            close(disc::bad_request);
            return;
        }
        for (auto& ch : asked.granted) {
            server_channels.push_back(server_subscription{std::move(ch), {}, {}, {}});
        }
    }
    std::set<std::string> seen;
    std::erase_if(server_channels, [&seen](const server_subscription& s) {
        return !seen.insert(s.channel).second; // first entry of a channel wins
    });
    for (const auto& sub : server_channels) {
        if (channel_options_for(c, sub.channel) == nullptr) {
            reply_error(id, errs::unknown_channel.to_error());
            return;
        }
    }
    if (client_.empty()) {
        client_ = random_uuid();
    }
    state_ = state::connected;
    ctx_.node().add_connection(shard_, user_, this);
    indexed_ = true;
    metrics::count_action(metrics::action::add_client);
    {
        const auto name = name_label(req.name, "unnamed");
        const auto version = name_label(req.version, "unversioned");
        metrics::client_connections_accepted.with({transport_.name(), "", name, version}).inc();
        connections_inflight_ =
            &metrics::client_connections_inflight.with({transport_.name(), "", name, version});
        connections_inflight_->inc();
        subscriptions_inflight_ = &metrics::client_subscriptions_inflight.with({name, ""});
    }

    pc::connect_result result;
    result.client = client_;
    result.version = GYRE_VERSION;
    result.data = std::move(connect_data);
    if (expires_at_ > 0 && refresh_proxy() == nullptr) {
        result.expires = true; // else the server refreshes through the backend
        result.ttl = ttl_from(expires_at_);
    }
    if (!transport_.emulation_session().empty() || unidirectional_) {
        result.session = session_id_;
    }
    if (!transport_.emulation_session().empty()) {
        result.node = ctx_.node().uid(); // /emulation requests are routed by it
    }
    const auto ping = std::chrono::duration_cast<std::chrono::seconds>(c.client.ping_interval);
    if (ping.count() > 0) {
        result.ping = static_cast<std::uint32_t>(ping.count());
        // Unidirectional clients cannot answer: their pings are empty pushes, no pong.
        result.pong = c.client.pong_timeout.count() > 0 && !unidirectional_;
        expects_pong_ = result.pong;
        // First ping at a random point in [interval/2, interval): spreads mass reconnects.
        const auto half = c.client.ping_interval / 2;
        std::uniform_int_distribution<std::int64_t> spread(0,
                                                           std::max<std::int64_t>(half.count(), 1));
        next_ping_ = clock::now() + half + std::chrono::nanoseconds(spread(rng()));
        transport_.wake_at(next_ping_);
    }
    wake_for_expiry();
    if (c.client.connect_include_server_time) {
        result.time = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    }
    if (server_channels.empty()) {
        reply(pc::reply{id, std::move(result)});
        return;
    }
    // Server-side subscriptions: the connect reply goes first, with every channel in `subs`;
    // pushes that arrive meanwhile wait in each subscription's pending list.
    busy_ = true;
    auto remaining = std::make_shared<std::size_t>(server_channels.size());
    auto shared_result = std::make_shared<pc::connect_result>(std::move(result));
    auto channels = std::make_shared<std::vector<std::string>>();
    for (auto& entry : server_channels) {
        const auto& ch = entry.channel;
        channels->push_back(ch);
        pc::subscribe_result sub_result;
        sub_result.data = entry.data.value_or(std::string{});
        shared_result->subs[ch] = std::move(sub_result);
        subscription sub;
        sub.server_side = true;
        sub.chan_info = entry.info.value_or(std::string{});
        const auto* opts = channel_options_for(c, ch);
        apply_options(sub, *opts, entry.override_options, false);
        // Server-side subscriptions are positioned (and recovered from the position the
        // client sends back in `subs`) when the namespace or the token forces it.
        recovery_request rec;
        if (opts->history_enabled()) {
            const auto& o = entry.override_options;
            sub.recoverable = o.force_recovery.value_or(opts->force_recovery);
            sub.positioned =
                sub.recoverable || o.force_positioning.value_or(opts->force_positioning);
            rec.cache = opts->force_recovery_mode == "cache";
            if (const auto it = req.subs.find(ch); it != req.subs.end() && sub.recoverable) {
                rec.recover = it->second.recover;
                rec.offset = it->second.offset;
                rec.epoch = it->second.epoch;
            }
            rec.recover = rec.recover || (sub.recoverable && rec.cache && opts->auto_cache_recover);
        }
        const bool positioned = sub.positioned;
        auto done = [this, id, remaining, shared_result, channels] {
            if (--*remaining > 0) {
                return;
            }
            reply(pc::reply{id, std::move(*shared_result)});
            for (const auto& name : *channels) {
                activate(name);
            }
            enforce_single_connection();
            finish_command();
        };
        start_subscription(
            ch, std::move(sub), [this, ch, positioned, rec, shared_result, done]() mutable {
                if (!positioned) {
                    done();
                    return;
                }
                read_position(
                    ch, rec, [this, ch, rec, shared_result, done](node::history_result h) mutable {
                        if (h.failed) {
                            close(disc::server_error); // no position to give: reconnect
                            return;
                        }
                        (void)fill_position(ch, rec, std::move(h), shared_result->subs[ch]);
                        done();
                    });
            });
    }
}

void session::enforce_single_connection() {
    const auto& c = cfg();
    if (!c.client.personal_channel.single_connection || user_.empty()) {
        return;
    }
    // Every connection of the user is subscribed to the personal channel, on every shard:
    // a disconnect push there (skipping this client) closes the others with 3504.
    const auto& ns = c.client.personal_channel.personal_channel_namespace;
    pc::push p;
    p.channel = (ns.empty() ? std::string{} : ns + c.channel.namespace_boundary) +
                c.channel.user_boundary + user_;
    p.body = pc::to_push(model::disconnects::connection_limit);
    node::publish_options options;
    options.except_client = client_;
    ctx_.node().publish(shard_, std::move(p), std::move(options), {});
}

// ---- subscriptions -----------------------------------------------------------------------

pc::client_info session::info_for(const subscription& sub) const {
    return pc::client_info{user_, client_, conn_info_, sub.chan_info};
}

void session::apply_options(subscription& sub,
                            const config::channel_options& opts,
                            const channel_override& o,
                            bool client_wants_join_leave) const {
    const auto& c = cfg();
    sub.presence = o.presence.value_or(opts.presence);
    sub.emit_join_leave = o.join_leave.value_or(opts.join_leave);
    const bool force_push = o.force_push_join_leave.value_or(opts.force_push_join_leave);
    const bool anonymous_ok = !user_.empty() || opts.allow_presence_for_anonymous;
    const bool presence_allowed =
        c.client.insecure ||
        ((opts.allow_presence_for_client || opts.allow_presence_for_subscriber) && anonymous_ok);
    // Server-side subscriptions deliver join/leave whenever the channel emits them.
    sub.join_leave = sub.emit_join_leave && (force_push || sub.server_side ||
                                             (client_wants_join_leave && presence_allowed));
}

void session::start_subscription(const std::string& channel,
                                 subscription sub,
                                 unique_function<void()> ready) {
    if (sub.expires_at > 0 && !has_expiring_subs_) {
        has_expiring_subs_ = true;
        transport_.wake_at(clock::now() + std::chrono::seconds(1));
    }
    subs_[channel] = std::move(sub);
    metrics::count_action(metrics::action::add_subscription);
    if (subscriptions_inflight_ != nullptr) {
        subscriptions_inflight_->inc();
    }
    auto weak = weak_from_this();
    ctx_.node().subscribe(shard_, channel, this, [weak, ready = std::move(ready)](bool ok) mutable {
        auto self = weak.lock();
        if (!self || self->closed_) {
            return;
        }
        if (!ok) {
            // The broker could not subscribe (Redis down): the client reconnects and retries.
            self->close(disc::server_error);
            return;
        }
        ready();
    });
}

void session::activate(const std::string& channel) {
    const auto it = subs_.find(channel);
    if (it == subs_.end()) {
        return;
    }
    auto& sub = it->second;
    sub.ready = true;
    auto pending = std::move(sub.pending);
    sub.pending.clear();
    if (sub.presence) {
        ctx_.node().presence_add(channel, client_, info_for(sub));
    }
    if (sub.emit_join_leave) {
        pc::push join;
        join.channel = channel;
        join.body = pc::join_push{info_for(sub)};
        ctx_.node().publish(shard_, std::move(join));
    }
    // What arrived while subscribing goes through the normal path now: positioned
    // subscriptions skip what the reply already covered.
    for (const auto& p : pending) {
        deliver(p);
    }
}

void session::end_subscription(const std::string& channel) {
    const auto it = subs_.find(channel);
    if (it == subs_.end()) {
        return;
    }
    const subscription sub = std::move(it->second);
    subs_.erase(it);
    ctx_.node().unsubscribe(shard_, channel, this);
    metrics::count_action(metrics::action::remove_subscription);
    if (subscriptions_inflight_ != nullptr) {
        subscriptions_inflight_->dec();
    }
    if (sub.presence) {
        ctx_.node().presence_remove(channel, client_, user_);
    }
    if (sub.emit_join_leave && sub.ready) {
        pc::push leave;
        leave.channel = channel;
        leave.body = pc::leave_push{info_for(sub)};
        ctx_.node().publish(shard_, std::move(leave));
    }
}

void session::handle_subscribe(std::uint32_t id, pc::subscribe_request& req) {
    const auto settings = ctx_.current(shard_);
    const auto& c = *settings->cfg;
    const std::string& ch = req.channel;
    const auto* opts = ch.empty() ? nullptr : channel_options_for(c, ch);
    if (opts == nullptr) {
        reply_error(id, errs::unknown_channel.to_error());
        return;
    }
    if (!is_valid_channel_name(c, *opts, ch)) {
        reply_error(id, errs::bad_request.to_error());
        return;
    }
    if (subs_.contains(ch)) {
        reply_error(id, errs::already_subscribed.to_error());
        return;
    }
    if (static_cast<std::int64_t>(subs_.size()) >= c.client.channel_limit) {
        reply_error(id, errs::limit_exceeded.to_error());
        return;
    }
    subscription sub;
    pc::subscribe_result result;
    channel_override token_override;
    bool allowed = false;
    if (is_private_channel(c, ch) && req.token.empty()) {
        reply_error(id, errs::permission_denied.to_error());
        return;
    }
    if (!req.token.empty()) {
        const auto maybe_verified = verify_token(true, req.token);
        if (!maybe_verified) {
            return;
        }
        const auto& verified = *maybe_verified;
        if (!verified) {
            reply_error(id,
                        token_time_error(verified.error()) ? errs::token_expired.to_error()
                                                           : errs::permission_denied.to_error());
            return;
        }
        const auto claims = read_claims(verified->claims_json);
        if (claims.malformed || !claims.channel) {
            reply_error(id, errs::permission_denied.to_error());
            return;
        }
        if (*claims.channel != ch || verified->user != user_ ||
            (claims.client && *claims.client != client_)) {
            close(disc::invalid_token);
            return;
        }
        if (claims.info) {
            sub.chan_info = *claims.info;
        }
        if (claims.data) {
            result.data = *claims.data;
        }
        token_override = claims.override_options;
        sub.expires_at = claims.expire_at ? *claims.expire_at : verified->exp.value_or(0);
        if (sub.expires_at > 0 && sub.expires_at <= unix_now()) {
            reply_error(id, errs::expired.to_error());
            return;
        }
        if (sub.expires_at > 0) {
            result.expires = true;
            result.ttl = ttl_from(sub.expires_at);
        }
        allowed = true;
    } else if (is_user_limited(c, ch) && opts->allow_user_limited_channels &&
               user_allowed_in_channel(c, ch, user_)) {
        allowed = true;
    } else if (opts->subscribe_proxy_enabled && !is_user_limited(c, ch)) {
        // The backend's answer is final: no allow_* rule, and only the namespace (or the
        // backend's override) decides recovery and join/leave, as in Centrifugo.
        auto* px = ctx_.backend() != nullptr
                       ? proxies::find(ctx_.backend()->subscribe, opts->subscribe_proxy_name)
                       : nullptr;
        if (px == nullptr) {
            reply_error(id, errs::not_available.to_error());
            return;
        }
        const auto answer = ask_proxy(*px, proxy::subscribe_request{ch, req.token, req.data});
        if (!answer) {
            return;
        }
        if (proxy_refused(id, *answer)) {
            return;
        }
        const auto& granted = std::get<proxy::subscribe_result>(std::get<proxy::result>(*answer));
        sub.chan_info = granted.info;
        result.data = granted.data;
        token_override = granted.override_options;
        sub.expires_at = granted.expire_at;
        if (sub.expires_at > 0 && sub.expires_at <= unix_now()) {
            reply_error(id, errs::expired.to_error());
            return;
        }
        if (sub.expires_at > 0 && !opts->sub_refresh_proxy_enabled) {
            result.expires = true; // the client refreshes with a subscription token
            result.ttl = ttl_from(sub.expires_at);
        }
        req.recoverable = req.positioned = req.join_leave = req.recover = false;
        allowed = true;
    } else if (opts->allow_subscribe_for_client &&
               (!user_.empty() || opts->allow_subscribe_for_anonymous) && !is_user_limited(c, ch)) {
        allowed = true;
    } else if (c.client.insecure) {
        allowed = true;
    }
    if (!allowed) {
        reply_error(id, errs::permission_denied.to_error());
        return;
    }
    apply_options(sub, *opts, token_override, req.join_leave);
    // Positioning and recovery need a stream; clients opt in where the namespace allows it
    // (or they may read history), or the namespace (or token) forces it.
    recovery_request rec;
    if (opts->history_enabled()) {
        const bool history_access = has_history_access(*opts, ch);
        sub.recoverable = token_override.force_recovery.value_or(opts->force_recovery) ||
                          (req.recoverable && (opts->allow_recovery || history_access));
        sub.positioned = sub.recoverable ||
                         token_override.force_positioning.value_or(opts->force_positioning) ||
                         (req.positioned && (opts->allow_positioning || history_access));
        rec.cache = opts->force_recovery_mode == "cache";
        rec.recover = sub.recoverable && (req.recover || (rec.cache && opts->auto_cache_recover));
        rec.reject_unrecovered = (req.flag & 2) != 0;
        rec.offset = req.offset;
        rec.epoch = req.epoch;
    }
    const bool positioned = sub.positioned;
    busy_ = true;
    auto shared_result = std::make_shared<pc::subscribe_result>(std::move(result));
    start_subscription(ch, std::move(sub), [this, id, ch, shared_result, positioned, rec] {
        if (positioned) {
            position_subscription(id, ch, rec, shared_result);
            return;
        }
        reply(pc::reply{id, std::move(*shared_result)});
        activate(ch);
        finish_command();
    });
}

bool session::has_history_access(const config::channel_options& opts,
                                 const std::string& channel) const {
    const auto& c = cfg();
    const bool anonymous_ok = !user_.empty() || opts.allow_history_for_anonymous;
    return c.client.insecure || (opts.allow_history_for_client && anonymous_ok) ||
           (opts.allow_history_for_subscriber && subs_.contains(channel) && anonymous_ok);
}

void session::read_position(const std::string& channel,
                            const recovery_request& rec,
                            unique_function<void(node::history_result)> then) {
    const auto& c = cfg();
    const auto* opts = channel_options_for(c, channel);
    node::history_filter f;
    if (rec.recover && rec.cache) {
        f.limit = 1; // the latest publication only
        f.reverse = true;
    } else if (rec.recover) {
        f.since = pc::stream_position{rec.offset, rec.epoch};
        const auto cap = c.client.recovery_max_publication_limit;
        f.limit = cap > 0 ? cap : -1;
    }
    // The read runs on the channel's home shard after this subscriber was registered there,
    // so every publication is either in the read or delivered afterwards (or both: the
    // position check drops duplicates).
    auto weak = weak_from_this();
    ctx_.node().history(shard_,
                        channel,
                        f,
                        opts != nullptr ? history_meta_ttl(c, *opts) : c.channel.history_meta_ttl,
                        [weak, then = std::move(then)](node::history_result h) mutable {
                            auto self = weak.lock();
                            if (!self || self->closed_) {
                                return;
                            }
                            then(std::move(h));
                        });
}

void session::position_subscription(std::uint32_t id,
                                    const std::string& channel,
                                    recovery_request rec,
                                    std::shared_ptr<pc::subscribe_result> result) {
    read_position(channel, rec, [this, id, channel, rec, result](node::history_result h) {
        if (h.failed) {
            // The broker is unreachable: as Centrifugo, 3004 so the client reconnects and
            // recovers, rather than an error that leaves a subscription retrying on its own.
            close(disc::server_error);
            return;
        }
        if (!fill_position(channel, rec, std::move(h), *result)) {
            end_subscription(channel);
            reply_error(id, errs::unrecoverable_position.to_error());
        } else {
            reply(pc::reply{id, std::move(*result)});
            activate(channel);
        }
        finish_command();
    });
}

bool session::fill_position(const std::string& channel,
                            const recovery_request& rec,
                            node::history_result h,
                            pc::subscribe_result& result) {
    const auto it = subs_.find(channel);
    if (it == subs_.end()) {
        return true;
    }
    auto& sub = it->second;
    result.positioned = true;
    result.recoverable = sub.recoverable;
    result.epoch = h.top.epoch;
    result.offset = h.top.offset;
    if (rec.recover) {
        result.was_recovering = true;
        bool recovered = false;
        const auto& pubs = h.publications;
        const auto offset_at = [&pubs](std::size_t i) {
            return std::get<pc::publication>(pubs[i]->push().body).offset;
        };
        if (rec.cache) {
            const bool same_state =
                rec.offset > 0 && rec.offset == h.top.offset && rec.epoch == h.top.epoch;
            if (pubs.empty()) {
                recovered = same_state;
            } else {
                recovered = offset_at(0) == h.top.offset;
                if (same_state) {
                    h.publications.clear(); // the client has it already
                }
            }
        } else if (!h.unrecoverable && (rec.epoch.empty() || rec.epoch == h.top.epoch)) {
            recovered = pubs.empty() ? h.top.offset == rec.offset
                                     : offset_at(0) == rec.offset + 1 &&
                                           offset_at(pubs.size() - 1) == h.top.offset;
        }
        if (!recovered && rec.reject_unrecovered) {
            return false;
        }
        result.recovered = recovered;
        metrics::count_action(metrics::action::history_recover);
        metrics::client_recover
            .with(
                {recovered ? "yes" : "no", "", recovered && !h.publications.empty() ? "yes" : "no"})
            .inc();
        if (recovered) {
            for (const auto& p : h.publications) {
                result.publications.push_back(std::get<pc::publication>(p->push().body));
            }
        }
    }
    sub.offset = result.offset;
    sub.epoch = result.epoch;
    return true;
}

bool session::advance_position(const std::string& channel,
                               subscription& sub,
                               const hub::prepared_push_ptr& p) {
    const auto offset = std::get<pc::publication>(p->push().body).offset;
    if (offset != 0 && lags(cfg(), *p)) {
        insufficient_state(channel, sub); // Centrifuge: "client insufficient state (lag)"
        return false;
    }
    switch (next_position_step(sub.offset, sub.epoch, offset, p->epoch())) {
    case position_step::duplicate:
        return false; // delivered already (in the subscribe reply, or before)
    case position_step::gap:
        insufficient_state(channel, sub); // missed publications, or the stream restarted
        return false;
    case position_step::deliver:
        break;
    }
    if (offset != 0 && !p->epoch().empty()) {
        sub.offset = offset;
        sub.epoch = p->epoch();
    }
    return true;
}

bool session::advance_position_over(subscription& sub,
                                    const std::vector<hub::prepared_push_ptr>& pushes) {
    std::uint64_t offset = sub.offset;
    const std::string* epoch = &sub.epoch;
    for (const auto& p : pushes) {
        const auto next = std::get<pc::publication>(p->push().body).offset;
        if (next_position_step(offset, *epoch, next, p->epoch()) != position_step::deliver) {
            return false;
        }
        if (next != 0 && !p->epoch().empty()) {
            offset = next;
            epoch = &p->epoch();
        }
    }
    sub.offset = offset;
    if (epoch != &sub.epoch) {
        sub.epoch = *epoch;
    }
    return true;
}

void session::insufficient_state(const std::string& channel, subscription& sub) {
    if (sub.server_side) {
        close(disc::insufficient_state);
        return;
    }
    // Unsubscribed with 2500: the client resubscribes and recovers from its position. The
    // hub is iterating (deliver): the subscription ends on a later loop turn.
    pc::push p;
    p.channel = channel;
    p.body = protocol::client::unsubscribe_codes::insufficient_state.to_push();
    send_push(std::move(p));
    sub.ready = false;
    sub.positioned = false;
    transport_.defer([weak = weak_from_this(), channel] {
        if (auto self = weak.lock(); self && !self->closed_) {
            self->end_subscription(channel);
        }
    });
}

void session::handle_unsubscribe(std::uint32_t id, const pc::unsubscribe_request& req) {
    end_subscription(req.channel);
    reply(pc::reply{id, pc::unsubscribe_result{}});
}

// ---- publish, presence, history, rpc, refresh -------------------------------------------

void session::handle_publish(std::uint32_t id, pc::publish_request& req) {
    const auto& c = cfg();
    const auto* opts = req.channel.empty() ? nullptr : channel_options_for(c, req.channel);
    if (opts == nullptr) {
        reply_error(id, errs::unknown_channel.to_error());
        return;
    }
    if (!is_valid_channel_name(c, *opts, req.channel) ||
        !publication_data_fits(req.data, opts->publication_data_format)) {
        reply_error(id, errs::bad_request.to_error());
        return;
    }
    const bool anonymous_ok = !user_.empty() || opts->allow_publish_for_anonymous;
    const auto sub = subs_.find(req.channel);
    const bool subscribed = sub != subs_.end();
    bool skip_history = false;
    if (opts->publish_proxy_enabled) {
        // The backend decides instead of the allow_* rules, and may rewrite the data.
        auto* px = ctx_.backend() != nullptr
                       ? proxies::find(ctx_.backend()->publish, opts->publish_proxy_name)
                       : nullptr;
        if (px == nullptr) {
            reply_error(id, errs::not_available.to_error());
            return;
        }
        const auto answer = ask_proxy(*px, proxy::publish_request{req.channel, req.data});
        if (!answer) {
            return;
        }
        if (proxy_refused(id, *answer)) {
            return;
        }
        const auto& granted = std::get<proxy::publish_result>(std::get<proxy::result>(*answer));
        if (granted.data) {
            req.data = *granted.data;
        }
        skip_history = granted.skip_history;
    } else if (!(c.client.insecure || (opts->allow_publish_for_client && anonymous_ok) ||
                 (opts->allow_publish_for_subscriber && subscribed && anonymous_ok))) {
        reply_error(id, errs::permission_denied.to_error());
        return;
    }
    pc::push p;
    p.channel = req.channel;
    pc::publication pub;
    pub.data = std::move(req.data);
    pub.info = subscribed ? info_for(sub->second) : info_for(subscription{});
    p.body = std::move(pub);
    // No need to wait before the next command: publications of one connection reach the
    // channel's home shard in order, so a batch of publishes flows through in one go.
    node::publish_options options;
    options.history_size = skip_history ? 0 : opts->history_size;
    options.history_ttl = skip_history ? std::chrono::nanoseconds{} : opts->history_ttl;
    options.history_meta_ttl = history_meta_ttl(c, *opts);
    auto weak = weak_from_this();
    ctx_.node().publish(
        shard_, std::move(p), std::move(options), [weak, id](const node::publish_result& r) {
            auto self = weak.lock();
            if (!self || self->closed_) {
                return;
            }
            if (!r.ok) {
                self->reply_error(id, errs::internal.to_error());
                return;
            }
            self->reply(pc::reply{id, pc::publish_result{}});
        });
}

void session::handle_presence(std::uint32_t id, const std::string& channel, bool stats) {
    const auto& c = cfg();
    const auto* opts = channel.empty() ? nullptr : channel_options_for(c, channel);
    if (opts == nullptr) {
        reply_error(id, errs::unknown_channel.to_error());
        return;
    }
    if (!opts->presence) {
        reply_error(id, errs::not_available.to_error());
        return;
    }
    const bool anonymous_ok = !user_.empty() || opts->allow_presence_for_anonymous;
    const bool allowed =
        c.client.insecure || (opts->allow_presence_for_client && anonymous_ok) ||
        (opts->allow_presence_for_subscriber && subs_.contains(channel) && anonymous_ok);
    if (!allowed) {
        reply_error(id, errs::permission_denied.to_error());
        return;
    }
    busy_ = true;
    auto weak = weak_from_this();
    if (stats) {
        ctx_.node().presence_stats(
            shard_, channel, [weak, id](std::optional<node::presence_counts> s) {
                if (auto self = weak.lock(); self && !self->closed_) {
                    if (!s) { // the store could not answer: 100, never "nobody here"
                        self->reply_error(id, errs::internal.to_error());
                    } else {
                        self->reply(
                            pc::reply{id, pc::presence_stats_result{s->num_clients, s->num_users}});
                    }
                    self->finish_command();
                }
            });
        return;
    }
    ctx_.node().presence(shard_, channel, [weak, id](std::optional<node::presence_map> m) {
        if (auto self = weak.lock(); self && !self->closed_) {
            if (!m) {
                self->reply_error(id, errs::internal.to_error());
            } else {
                self->reply(pc::reply{id, pc::presence_result{std::move(*m)}});
            }
            self->finish_command();
        }
    });
}

void session::handle_history(std::uint32_t id, const pc::history_request& req) {
    const auto& c = cfg();
    const auto* opts = req.channel.empty() ? nullptr : channel_options_for(c, req.channel);
    if (opts == nullptr) {
        reply_error(id, errs::unknown_channel.to_error());
        return;
    }
    if (!is_valid_channel_name(c, *opts, req.channel)) {
        reply_error(id, errs::bad_request.to_error());
        return;
    }
    if (!opts->history_enabled()) {
        reply_error(id, errs::not_available.to_error());
        return;
    }
    if (!has_history_access(*opts, req.channel)) {
        reply_error(id, errs::permission_denied.to_error());
        return;
    }
    node::history_filter f;
    f.since = req.since;
    f.limit = req.limit;
    f.reverse = req.reverse;
    const auto cap = c.client.history_max_publication_limit;
    if (cap > 0 && (f.limit < 0 || f.limit > cap)) {
        f.limit = cap;
    }
    busy_ = true;
    auto weak = weak_from_this();
    ctx_.node().history(
        shard_, req.channel, f, history_meta_ttl(c, *opts), [weak, id](node::history_result h) {
            auto self = weak.lock();
            if (!self || self->closed_) {
                return;
            }
            if (h.failed) {
                self->reply_error(id, errs::internal.to_error()); // the broker is unreachable
            } else if (h.bad_request || h.unrecoverable) {
                self->reply_error(id,
                                  h.bad_request ? errs::bad_request.to_error()
                                                : errs::unrecoverable_position.to_error());
            } else {
                pc::history_result result;
                result.epoch = h.top.epoch;
                result.offset = h.top.offset;
                for (const auto& p : h.publications) {
                    result.publications.push_back(std::get<pc::publication>(p->push().body));
                }
                self->reply(pc::reply{id, std::move(result)});
            }
            self->finish_command();
        });
}

void session::handle_rpc(std::uint32_t id, pc::rpc_request& req) {
    const auto& ping = cfg().tree.at("rpc").as_object().at("ping").as_object();
    if (ping.at("enabled").as_bool() && req.method == ping.at("method").as_string()) {
        reply(pc::reply{id, pc::rpc_result{}});
        return;
    }
    auto target = rpc_proxy_for(req.method);
    if (auto* e = std::get_if<error_info>(&target)) {
        reply_error(id, *e);
        return;
    }
    const auto answer =
        ask_proxy(*std::get<proxy::client*>(target), proxy::rpc_request{req.method, req.data});
    if (!answer) {
        return;
    }
    if (proxy_refused(id, *answer)) {
        return;
    }
    pc::rpc_result result;
    result.data = std::get<proxy::rpc_result>(std::get<proxy::result>(*answer)).data;
    reply(pc::reply{id, std::move(result)});
}

void session::handle_refresh(std::uint32_t id, const pc::refresh_request& req) {
    if (req.token.empty() || refresh_proxy() != nullptr) { // server-side refresh expected
        close(disc::bad_request);
        return;
    }
    if (req.token.empty()) {
        close(disc::bad_request);
        return;
    }
    const auto maybe_verified = verify_token(false, req.token);
    if (!maybe_verified) {
        return;
    }
    const auto& verified = *maybe_verified;
    if (!verified) {
        close(token_time_error(verified.error()) ? disc::expired : disc::invalid_token);
        return;
    }
    if (verified->user != user_) {
        close(disc::invalid_token);
        return;
    }
    const auto claims = read_claims(verified->claims_json);
    expires_at_ = claims.expire_at ? *claims.expire_at : verified->exp.value_or(0);
    wake_for_expiry();
    pc::refresh_result result;
    result.client = client_;
    result.version = GYRE_VERSION;
    if (expires_at_ > 0) {
        result.expires = true;
        result.ttl = ttl_from(expires_at_);
    }
    reply(pc::reply{id, std::move(result)});
}

void session::handle_sub_refresh(std::uint32_t id, const pc::sub_refresh_request& req) {
    const auto it = subs_.find(req.channel);
    if (it == subs_.end()) {
        reply_error(id, errs::permission_denied.to_error());
        return;
    }
    if (req.token.empty()) {
        reply_error(id, errs::bad_request.to_error());
        return;
    }
    const auto maybe_verified = verify_token(true, req.token);
    if (!maybe_verified) {
        return;
    }
    const auto& verified = *maybe_verified;
    if (!verified) {
        if (token_time_error(verified.error())) {
            reply_error(id, errs::token_expired.to_error());
        } else {
            close(disc::invalid_token);
        }
        return;
    }
    const auto claims = read_claims(verified->claims_json);
    if (!claims.channel || *claims.channel != req.channel || verified->user != user_) {
        close(disc::invalid_token);
        return;
    }
    it->second.expires_at = claims.expire_at ? *claims.expire_at : verified->exp.value_or(0);
    if (it->second.expires_at > 0 && !has_expiring_subs_) {
        has_expiring_subs_ = true;
        transport_.wake_at(clock::now() + std::chrono::seconds(1));
    }
    pc::sub_refresh_result result;
    if (it->second.expires_at > 0) {
        result.expires = true;
        result.ttl = ttl_from(it->second.expires_at);
    }
    reply(pc::reply{id, std::move(result)});
}

// ---- server API actions ------------------------------------------------------------------

void session::apply(const node::user_command& cmd) {
    if (closed_ || state_ != state::connected) {
        return;
    }
    std::visit(
        [this](const auto& a) {
            using action = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<action, node::subscribe_action>) {
                server_subscribe(a);
            } else if constexpr (std::is_same_v<action, node::unsubscribe_action>) {
                server_unsubscribe(a);
            } else if constexpr (std::is_same_v<action, node::disconnect_action>) {
                close(model::disconnect{a.code, a.reason}); // the transport copies the reason
            } else {
                server_refresh(a);
            }
        },
        cmd.action);
}

void session::server_subscribe(const node::subscribe_action& a) {
    const auto& c = cfg();
    const auto* opts = channel_options_for(c, a.channel);
    if (opts == nullptr || subs_.contains(a.channel)) {
        return; // namespace gone after a reload, or already subscribed: nothing to do
    }
    if (c.client.channel_limit > 0 &&
        static_cast<std::int64_t>(subs_.size()) >= c.client.channel_limit) {
        close(disc::channel_limit);
        return;
    }
    subscription sub;
    sub.server_side = true;
    sub.chan_info = a.chan_info;
    sub.expires_at = a.expire_at;
    apply_options(sub, *opts, a.override_options, false);
    start_subscription(a.channel, std::move(sub), [this, ch = a.channel, data = a.data] {
        if (!subs_.contains(ch)) {
            return; // unsubscribed meanwhile
        }
        pc::push p;
        p.channel = ch;
        pc::subscribe_push body;
        body.data = data;
        p.body = std::move(body);
        send_push(std::move(p)); // before any publication that waited for it
        activate(ch);
    });
}

void session::server_unsubscribe(const node::unsubscribe_action& a) {
    std::vector<std::string> channels;
    for (const auto& [ch, sub] : subs_) {
        // A subscription still waiting for its reply is left alone: the client would see the
        // unsubscribe before it knows it is subscribed.
        if (sub.ready && (a.channel.empty() || ch == a.channel)) {
            channels.push_back(ch);
        }
    }
    for (const auto& ch : channels) {
        end_subscription(ch);
        pc::push p;
        p.channel = ch;
        p.body = protocol::client::unsubscribe_codes::server.to_push();
        send_push(std::move(p));
    }
}

void session::server_refresh(const node::refresh_action& a) {
    if (a.expired) {
        close(disc::expired);
        return;
    }
    // As Centrifuge: the new expiry is capped, an expiry in the past closes the connection,
    // and zero makes the connection non-expiring.
    constexpr std::int64_t max_ttl = 10LL * 365 * 24 * 3600;
    const auto now = unix_now();
    const auto expire_at = a.expire_at > 0 ? std::min(a.expire_at, now + max_ttl) : 0;
    pc::refresh_push body;
    body.expires = expire_at > 0;
    if (expire_at > 0) {
        if (expire_at <= now) {
            close(disc::expired);
            return;
        }
        body.ttl = static_cast<std::uint32_t>(expire_at - now);
        expires_at_ = expire_at;
        wake_for_expiry();
        if (!a.info.empty()) {
            conn_info_ = a.info;
        }
    } else {
        expires_at_ = 0;
    }
    pc::push p;
    p.body = body;
    send_push(std::move(p));
}

void session::wake_for_expiry() {
    if (expires_at_ <= 0) {
        return;
    }
    const auto grace =
        std::chrono::duration_cast<std::chrono::seconds>(cfg().client.expired_close_delay).count();
    const auto left = std::max<std::int64_t>(expires_at_ + grace - unix_now(), 0);
    transport_.wake_at(clock::now() + std::chrono::seconds(left + 1));
}

void session::send_push(pc::push p) {
    reply(pc::reply{0, std::move(p)});
}

// ---- output ------------------------------------------------------------------------------

void session::reply_error(std::uint32_t id, const error_info& e) {
    reply(pc::reply{id, e});
}

void session::reply(pc::reply r) {
    if (unidirectional_) {
        count_reply(r, 0);
        reply_unidirectional(r);
        return;
    }
    std::string out;
    if (wire_ == hub::wire::json) {
        if (!pc::json::append_reply(out, r)) {
            close(disc::inappropriate_protocol); // e.g. history of binary publications
            return;
        }
    } else {
        pc::protobuf::append_reply(out, r, pc::protobuf::framing::delimited);
    }
    count_reply(r, out.size());
    enqueue(shared_bytes(std::move(out)));
}

// ---- metrics -----------------------------------------------------------------------------

void session::time_command(const command& cmd) {
    if (cmd.id == 0 || cmd.id == timing_.id) {
        return; // a pong or a send, or a command run again after a backend answer
    }
    timing_ = {cmd.id, cmd.kind(), clock::now()};
}

void session::count_reply(const pc::reply& r, std::size_t bytes) {
    if (r.id == 0) {
        if (const auto* push = std::get_if<pc::push>(&r.body)) {
            counters_.count_sent(frame_of(push->kind()), bytes);
            if (const auto* u = std::get_if<pc::unsubscribe_push>(&push->body)) {
                metrics::client_server_unsubscribes.with({metrics::code_label(u->code), ""}).inc();
            }
        }
        return;
    }
    const auto method = r.id == timing_.id ? timing_.method : pc::method::none;
    const auto f = frame_of(method);
    counters_.count_sent(f, bytes);
    if (const auto* e = std::get_if<pc::error>(&r.body)) {
        metrics::client_reply_errors
            .with({metrics::frame_name(f), metrics::code_label(e->code), ""})
            .inc();
    }
    if (r.id == timing_.id) {
        static metrics::child_cache<metrics::histogram, metrics::frame_count> durations;
        durations
            .get(metrics::client_command_duration,
                 static_cast<std::size_t>(f),
                 {metrics::frame_name(f), ""})
            .observe(std::chrono::duration<double>(clock::now() - timing_.started).count());
        timing_.id = 0;
    }
}

void session::count_disconnect(const model::disconnect& d) {
    const auto code = metrics::code_label(d.code);
    metrics::client_server_disconnects.with({code}).inc();
    metrics::transport_outgoing_close.with({transport_.name(), code}).inc();
}

void session::reply_unidirectional(pc::reply& r) {
    // Only the connect command exists here: its result becomes the connect push, its error a
    // disconnect; every other message is a push, sent bare.
    pc::push p;
    if (auto* result = std::get_if<pc::connect_result>(&r.body)) {
        pc::connect_push c;
        c.client = std::move(result->client);
        c.version = std::move(result->version);
        c.data = std::move(result->data);
        c.subs = std::move(result->subs);
        c.expires = result->expires;
        c.ttl = result->ttl;
        c.ping = result->ping;
        c.session = std::move(result->session);
        c.time = result->time;
        p.body = std::move(c);
    } else if (const auto* e = std::get_if<pc::error>(&r.body)) {
        refuse_unidirectional(e->code, e->message, std::nullopt);
        return;
    } else if (auto* push = std::get_if<pc::push>(&r.body)) {
        p = std::move(*push);
    } else {
        return;
    }
    std::string out;
    if (!pc::json::append_push(out, p, pc::push_form::unidirectional)) {
        close(disc::inappropriate_protocol);
        return;
    }
    enqueue(shared_bytes(std::move(out)));
}

void session::refuse_unidirectional(std::uint32_t code,
                                    std::string_view message,
                                    std::optional<model::disconnect> d) {
    if (transport_.refuse_connect(code, message)) {
        closed_ = true;
        state_ = state::closed;
        transport_.defer([self = shared_from_this()] { self->cleanup(); });
        return;
    }
    const auto& c = cfg().client;
    if (!d && c.connect_code_to_unidirectional_disconnect) { // rules map errors, not disconnects
        for (const auto& t : c.unidirectional_code_transforms) {
            if (t.code == code) {
                end(model::disconnect{t.to_code, t.to_reason});
                return;
            }
        }
    }
    if (d) {
        end(*d);
        return;
    }
    // An error reply becomes a disconnect, as Centrifugo maps them.
    switch (code) {
    case 109: // token expired
    case 110: // expired
        end(disc::expired);
        break;
    case 111:
        end(disc::too_many_requests);
        break;
    case 103:
        end(disc::permission_denied);
        break;
    default:
        end(disc::server_error);
        break;
    }
}

void session::deliver(const hub::prepared_push_ptr& p) {
    if (closed_) {
        return;
    }
    const auto it = subs_.find(p->channel());
    if (it == subs_.end()) {
        return;
    }
    auto& sub = it->second;
    const auto kind = p->kind();
    if (kind == pc::push_kind::disconnect) {
        // A control push (personal channel single_connection): never sent as is.
        if (p->except_client() != client_) {
            close(model::disconnects::connection_limit);
        }
        return;
    }
    if ((kind == pc::push_kind::join || kind == pc::push_kind::leave) && !sub.join_leave) {
        return;
    }
    if (!sub.ready) {
        sub.pending.push_back(p); // the subscribe (or connect) reply must go first
        return;
    }
    if (sub.positioned && kind == pc::push_kind::pub && !advance_position(p->channel(), sub, p)) {
        return;
    }
    if (const auto& frame = p->frame(wire_); !frame.empty()) {
        counters_.count_sent(frame_of(kind), frame.size());
        enqueue(frame);
    } else if (p->encode_failed(wire_)) {
        flush();                             // what came before still leaves, ahead of the close
        close(disc::inappropriate_protocol); // binary data for a JSON client
    }
}

void session::deliver_batch(const hub::push_batch& b) {
    const auto& pushes = b.pushes();
    if (closed_ || pushes.empty()) {
        return;
    }
    const auto it = subs_.find(pushes.front()->channel());
    if (it == subs_.end()) {
        return;
    }
    auto& sub = it->second;
    // The batch leaves as one message unless this subscriber needs each publication on its
    // own: not subscribed yet, a cap on messages per frame, or a position that is not simply
    // moving forward.
    if (!sub.ready || cfg().client.max_messages_in_frame > 0 ||
        (sub.positioned && (any_lags(cfg(), pushes) || !advance_position_over(sub, pushes)))) {
        for (const auto& p : pushes) {
            deliver(p);
        }
        return;
    }
    const auto& frame = b.frames(wire_);
    if (b.encode_failed(wire_)) {
        flush();
        close(disc::inappropriate_protocol); // binary data for a JSON client
        return;
    }
    if (!frame.empty()) {
        counters_.count_sent(metrics::frame::push_publication, frame.size(), pushes.size());
        enqueue(frame);
    }
}

void session::enqueue(shared_bytes message) {
    if (closed_) {
        return;
    }
    outbox_bytes_ += message.size();
    metrics::add_outbox_bytes(static_cast<std::int64_t>(message.size()));
    outbox_.push_back(std::move(message));
    if (static_cast<std::int64_t>(outbox_bytes_) > cfg().client.queue_max_size) {
        close(disc::slow);
        return;
    }
    schedule_flush();
}

void session::schedule_flush() {
    if (flush_scheduled_ || write_in_flight_) {
        return;
    }
    flush_scheduled_ = true;
    // Everything queued during this loop turn leaves in one write per session, and all the
    // sessions of the turn are flushed by one task.
    if (ctx_.queue_flush(shard_, shared_from_this())) {
        transport_.defer([&ctx = ctx_, shard = shard_] { ctx.flush_queued(shard); });
    }
}

void session::flush_queued() {
    flush_scheduled_ = false;
    flush();
}

void session::flush() {
    if (write_in_flight_ || outbox_.empty() || closed_) {
        return;
    }
    const auto limit = cfg().client.max_messages_in_frame;
    const std::size_t n =
        limit > 0 ? std::min(outbox_.size(), static_cast<std::size_t>(limit)) : outbox_.size();
    // Three vectors rotate (outbox, this spare, the transport's), so a busy connection
    // allocates nothing per write.
    outbox_.take(n, write_batch_);
    std::size_t taken = 0;
    for (const auto& m : write_batch_) {
        taken += m.size();
    }
    outbox_bytes_ -= taken;
    metrics::add_outbox_bytes(-static_cast<std::int64_t>(taken)); // the transport counts them now
    write_in_flight_ = true;
    transport_.write(write_batch_);
}

void session::on_write_done(bool ok) {
    write_in_flight_ = false;
    if (!ok) {
        on_transport_closed();
        return;
    }
    flush();
}

// ---- lifetime ----------------------------------------------------------------------------

session::clock::time_point session::tick(clock::time_point now) {
    // Returns when this connection next needs a tick, so that idle connections cost nothing
    // between their pings. Deadlines that move earlier (a connect, a refresh, a subscription
    // with an expiry) ask for an earlier tick with transport::wake_at().
    static constexpr auto max_sleep = std::chrono::seconds(60);
    if (closed_) {
        return clock::time_point::max();
    }
    const auto& c = cfg();
    if (state_ == state::connecting) {
        const auto stale_at = created_ + c.client.stale_close_delay;
        if (now >= stale_at) {
            close(disc::stale);
            return clock::time_point::max();
        }
        return std::min(stale_at, now + max_sleep);
    }
    if (awaiting_pong_ && now > pong_deadline_) {
        close(disc::no_pong);
        return clock::time_point::max();
    }
    if (c.client.ping_interval.count() > 0 && now >= next_ping_) {
        const auto& ping = ping_message(wire_);
        counters_.count_sent(metrics::frame::server_ping, ping.size());
        enqueue(ping);
        ping_sent_ = now;
        next_ping_ = now + c.client.ping_interval;
        if (expects_pong_ && !awaiting_pong_) {
            awaiting_pong_ = true;
            pong_deadline_ = now + c.client.pong_timeout;
        }
    }
    auto next = now + max_sleep;
    if (c.client.ping_interval.count() > 0) {
        next = std::min(next, next_ping_);
    }
    if (awaiting_pong_) {
        next = std::min(next, pong_deadline_ + std::chrono::milliseconds(1));
    }
    if (expires_at_ > 0 && refresh_proxy() != nullptr) {
        // Server-side refresh: at expiry the backend says whether the connection goes on.
        const auto left = expires_at_ - unix_now();
        if (left <= 0) {
            refresh_through_proxy();
            next = std::min(next, now + std::chrono::seconds(1));
        } else {
            next = std::min(next, now + std::chrono::seconds(left));
        }
    } else if (expires_at_ > 0) {
        const auto grace =
            std::chrono::duration_cast<std::chrono::seconds>(c.client.expired_close_delay).count();
        const auto left = expires_at_ + grace - unix_now();
        if (left < 0) {
            close(disc::expired);
            return clock::time_point::max();
        }
        next = std::min(next, now + std::chrono::seconds(left + 1));
    }
    if (has_expiring_subs_) {
        check_subscription_expiry();
        next = std::min(next, now + std::chrono::seconds(1));
    }
    if (ctx_.node().presence_needs_refresh()) {
        // A shared presence store (Redis) forgets entries after presence_ttl: refresh ours
        // every client.presence_update_interval, the first time at a random point in
        // [interval/2, interval) as Centrifuge does, so mass reconnects do not refresh at once.
        const auto interval = presence_update_period(c.client.presence_update_interval);
        if (next_presence_refresh_ == clock::time_point{}) {
            std::uniform_int_distribution<clock::rep> spread(0, (interval / 2).count());
            next_presence_refresh_ = now + interval / 2 + clock::duration(spread(rng()));
        } else if (now >= next_presence_refresh_) {
            next_presence_refresh_ = now + interval;
            for (const auto& [channel, sub] : subs_) {
                if (sub.ready && sub.presence) {
                    ctx_.node().presence_add(channel, client_, info_for(sub));
                }
            }
        }
        next = std::min(next, next_presence_refresh_);
    }
    const auto check_delay = c.client.channel_position_check_delay;
    if (!ctx_.node().delivers_every_publication() && check_delay.count() > 0) {
        const auto period = std::chrono::duration_cast<clock::duration>(check_delay);
        if (next_position_check_ == clock::time_point{}) {
            next_position_check_ = now + period;
        } else if (now >= next_position_check_) {
            next_position_check_ = now + period;
            check_positions();
        }
        next = std::min(next, next_position_check_);
    }
    return next;
}

void session::check_positions() {
    for (const auto& [channel, sub] : subs_) {
        if (!sub.ready || !sub.positioned) {
            continue;
        }
        read_position(
            channel,
            recovery_request{},
            [this, channel = channel, offset = sub.offset, epoch = sub.epoch](
                node::history_result h) {
                const auto it = subs_.find(channel);
                if (h.failed || it == subs_.end() || !it->second.ready || !it->second.positioned) {
                    return; // unreachable broker or a subscription gone: check next time
                }
                auto& s = it->second;
                if (s.offset != offset || s.epoch != epoch) {
                    return; // publications arrived meanwhile: it is moving, check next time
                }
                if (h.top.offset != offset || h.top.epoch != epoch) {
                    insufficient_state(channel, s);
                }
            });
    }
}

proxy::client* session::refresh_proxy() const {
    return ctx_.backend() != nullptr ? ctx_.backend()->refresh.get() : nullptr;
}

proxy::client* session::sub_refresh_proxy(const std::string& channel) const {
    const auto* opts = channel_options_for(cfg(), channel);
    if (opts == nullptr || !opts->sub_refresh_proxy_enabled || ctx_.backend() == nullptr) {
        return nullptr;
    }
    return proxies::find(ctx_.backend()->sub_refresh, opts->sub_refresh_proxy_name);
}

void session::refresh_through_proxy() {
    auto* px = refresh_proxy();
    if (refreshing_ || px == nullptr) {
        return;
    }
    refreshing_ = true;
    px->call(
        shard_,
        proxy_context(*px),
        proxy::refresh_request{},
        [weak = weak_from_this()](proxy::response r) {
            auto self = weak.lock();
            if (!self || self->closed_) {
                return;
            }
            self->refreshing_ = false;
            const auto now = unix_now();
            if (const auto* f = std::get_if<proxy::failure>(&r)) {
                // The backend is unreachable: keep the connection, ask again in a minute.
                GYRE_LOG_WARN(
                    "refresh proxy failed client={} error=\"{}\"", self->client_, f->what);
                self->expires_at_ = now + 60;
                self->wake_for_expiry();
                return;
            }
            const auto* res = std::get_if<proxy::result>(&r);
            const auto* granted =
                res != nullptr ? std::get_if<proxy::refresh_result>(res) : nullptr;
            if (granted == nullptr || granted->expired || granted->expire_at <= now) {
                self->close(disc::expired); // an error or a disconnect carries no result either
                return;
            }
            self->expires_at_ = granted->expire_at;
            if (!granted->info.empty()) {
                self->conn_info_ = granted->info;
            }
            if (!granted->meta.empty()) {
                self->meta_ = granted->meta;
            }
            self->transport_.wake_at(clock::now() + std::chrono::seconds(granted->expire_at - now));
        });
}

void session::sub_refresh_through_proxy(proxy::client& px,
                                        const std::string& channel,
                                        subscription& sub) {
    if (sub.refreshing) {
        return;
    }
    sub.refreshing = true;
    px.call(shard_,
            proxy_context(px),
            proxy::sub_refresh_request{channel},
            [weak = weak_from_this(), channel](proxy::response r) {
                auto self = weak.lock();
                if (!self || self->closed_) {
                    return;
                }
                const auto it = self->subs_.find(channel);
                if (it == self->subs_.end()) {
                    return;
                }
                auto& s = it->second;
                s.refreshing = false;
                const auto now = unix_now();
                if (std::holds_alternative<proxy::failure>(r)) {
                    s.expires_at = now + 60; // ask again later
                    return;
                }
                const auto* res = std::get_if<proxy::result>(&r);
                const auto* granted =
                    res != nullptr ? std::get_if<proxy::sub_refresh_result>(res) : nullptr;
                if (granted == nullptr || granted->expired ||
                    (granted->expire_at > 0 && granted->expire_at <= now)) {
                    if (s.server_side) {
                        self->close(disc::subscription_expired);
                        return;
                    }
                    self->end_subscription(channel);
                    pc::push p;
                    p.channel = channel;
                    p.body = protocol::client::unsubscribe_codes::expired.to_push();
                    self->send_push(std::move(p));
                    return;
                }
                s.expires_at = granted->expire_at; // 0: no longer expires
                if (!granted->info.empty()) {
                    s.chan_info = granted->info;
                }
            });
}

void session::check_subscription_expiry() {
    has_expiring_subs_ = false;
    const auto grace =
        std::chrono::duration_cast<std::chrono::seconds>(cfg().client.expired_sub_close_delay)
            .count();
    const auto now = unix_now();
    std::vector<std::string> expired;
    for (auto& [ch, sub] : subs_) {
        has_expiring_subs_ = has_expiring_subs_ || sub.expires_at > 0;
        if (sub.expires_at > 0 && now > sub.expires_at + grace) {
            if (auto* px = sub_refresh_proxy(ch); px != nullptr) {
                sub_refresh_through_proxy(*px, ch, sub);
                continue;
            }
            if (sub.server_side) {
                close(disc::subscription_expired);
                return;
            }
            expired.push_back(ch);
        }
    }
    for (const auto& ch : expired) {
        end_subscription(ch);
        pc::push p;
        p.channel = ch;
        p.body = protocol::client::unsubscribe_codes::expired.to_push();
        send_push(std::move(p));
    }
}

void session::close(model::disconnect d) {
    if (closed_) {
        return;
    }
    if (unidirectional_ && state_ == state::connecting) {
        refuse_unidirectional(d.code, d.reason, d);
        return;
    }
    end(d);
}

void session::end(model::disconnect d) {
    if (closed_) {
        return;
    }
    closed_ = true;
    state_ = state::closed;
    count_disconnect(d);
    transport_.close(d);
    // Cleanup touches hubs, which may be iterating right now (a slow client closed from
    // deliver): run it on a later loop turn, keeping the session alive until then.
    transport_.defer([self = shared_from_this()] { self->cleanup(); });
}

void session::on_transport_closed() {
    closed_ = true;
    state_ = state::closed;
    transport_.defer([self = shared_from_this()] { self->cleanup(); });
}

void session::cleanup() {
    if (cleaned_) {
        return;
    }
    cleaned_ = true;
    std::vector<std::string> channels;
    channels.reserve(subs_.size());
    for (const auto& [ch, sub] : subs_) {
        channels.push_back(ch);
    }
    for (const auto& ch : channels) {
        end_subscription(ch);
    }
    if (indexed_) {
        ctx_.node().remove_connection(shard_, user_, this);
        indexed_ = false;
        metrics::count_action(metrics::action::remove_client);
    }
    if (connections_inflight_ != nullptr) {
        connections_inflight_->dec();
        connections_inflight_ = nullptr;
    }
    if (counted_user_) {
        ctx_.node().remove_user_connection(user_);
        counted_user_ = false;
    }
    outbox_.clear();
    metrics::add_outbox_bytes(-static_cast<std::int64_t>(outbox_bytes_));
    outbox_bytes_ = 0;
    commands_.clear();
}

} // namespace gyre::session
