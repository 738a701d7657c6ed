#include "proxy/grpc_proxy.hpp"

#include "core/base64.hpp"
#include "proxy/proxy.grpc.pb.h"
#include "runtime/shard_set.hpp"

#include <chrono>
#include <functional>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/status.h>
#include <set>
#include <type_traits>
#include <utility>

namespace gyre::proxy {

namespace pb = ::centrifugal::centrifugo::proxy;

namespace {

// ---- metadata -----------------------------------------------------------------------------

/// gRPC refuses (fails the call on) keys other than [0-9a-z_.-], pseudo-headers and reserved
/// names; such a header is not forwarded rather than failing every call of the client.
bool legal_key(std::string_view key) {
    if (key.empty() || key.starts_with("grpc-")) {
        return false;
    }
    for (const char c : key) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return key != "content-type" && key != "te" && key != "host" && key != "connection";
}

bool legal_value(std::string_view key, std::string_view value) {
    if (key.ends_with("-bin")) {
        return true; // binary metadata: any bytes (gRPC base64-encodes them on the wire)
    }
    for (const char c : value) {
        if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

// ---- request conversion -------------------------------------------------------------------

template <typename Message>
void set_common(Message& m, const client_context& ctx, const options& o) {
    m.set_client(ctx.client);
    m.set_transport(ctx.transport);
    m.set_protocol(ctx.protocol);
    m.set_encoding(!ctx.encoding.empty() ? ctx.encoding
                                         : std::string(o.binary_encoding ? "binary" : "json"));
}

/// Fields every request but connect carries.
template <typename Message>
void set_user_meta(Message& m, const client_context& ctx, const options& o) {
    m.set_user(ctx.user);
    if (o.include_connection_meta && ctx.meta) {
        m.set_meta(*ctx.meta);
    }
}

template <typename Message>
void set_data(Message& m, const std::string& data, const options& o) {
    if (o.binary_encoding) {
        m.set_b64data(base64::encode(data));
    } else {
        m.set_data(data);
    }
}

// ---- response conversion ------------------------------------------------------------------

/// A payload the backend may send as bytes or as base64 text (b64 wins, as in Centrifugo).
/// False when the base64 is malformed.
bool payload(const std::string& raw, const std::string& b64, std::string& out) {
    if (b64.empty()) {
        out = raw;
        return true;
    }
    auto decoded = base64::decode(b64);
    if (!decoded) {
        return false;
    }
    out = std::move(*decoded);
    return true;
}

option_override from_pb(const pb::SubscribeOptionOverride& o) {
    option_override r;
    if (o.has_presence()) {
        r.presence = o.presence().value();
    }
    if (o.has_join_leave()) {
        r.join_leave = o.join_leave().value();
    }
    if (o.has_force_push_join_leave()) {
        r.force_push_join_leave = o.force_push_join_leave().value();
    }
    if (o.has_force_positioning()) {
        r.force_positioning = o.force_positioning().value();
    }
    if (o.has_force_recovery()) {
        r.force_recovery = o.force_recovery().value();
    }
    return r;
}

failure bad_base64() {
    return failure{"grpc proxy: malformed base64 in the backend's result"};
}

// One overload per response type: the result when present (Centrifugo's meaning of an absent one).

response convert_result(const pb::ConnectResponse& r) {
    if (!r.has_result()) {
        // Centrifugo then has no credentials and refuses the connection unless anonymous
        // connections are allowed; refusing is the safe reading here.
        return failure{"grpc proxy: connect response without result"};
    }
    const auto& p = r.result();
    connect_result c;
    c.user = p.user();
    c.expire_at = p.expire_at();
    if (!payload(p.info(), p.b64info(), c.info) || !payload(p.data(), p.b64data(), c.data)) {
        return bad_base64();
    }
    c.channels.assign(p.channels().begin(), p.channels().end());
    for (const auto& [channel, so] : p.subs()) {
        subscribe_options s;
        s.channel = channel;
        s.expire_at = so.expire_at();
        std::string info;
        std::string data;
        if (!payload(so.info(), so.b64info(), info) || !payload(so.data(), so.b64data(), data)) {
            return bad_base64();
        }
        if (!info.empty()) {
            s.info = std::move(info);
        }
        if (!data.empty()) {
            s.data = std::move(data);
        }
        if (so.has_override()) {
            s.override_options = from_pb(so.override());
        }
        c.subs.emplace(channel, std::move(s));
    }
    c.meta = p.meta();
    return result{std::move(c)};
}

response convert_result(const pb::RefreshResponse& r) {
    refresh_result c;
    if (!r.has_result()) {
        c.expired = true; // as Centrifugo: no result means the connection expires
        return result{std::move(c)};
    }
    const auto& p = r.result();
    c.expired = p.expired();
    c.expire_at = p.expire_at();
    if (!payload(p.info(), p.b64info(), c.info)) {
        return bad_base64();
    }
    c.meta = p.meta();
    return result{std::move(c)};
}

response convert_result(const pb::SubscribeResponse& r) {
    subscribe_result c;
    if (r.has_result()) {
        const auto& p = r.result();
        c.expire_at = p.expire_at();
        if (!payload(p.info(), p.b64info(), c.info) || !payload(p.data(), p.b64data(), c.data)) {
            return bad_base64();
        }
        if (p.has_override()) {
            c.override_options = from_pb(p.override());
        }
    }
    return result{std::move(c)};
}

response convert_result(const pb::PublishResponse& r) {
    publish_result c;
    if (r.has_result()) {
        const auto& p = r.result();
        if (!p.data().empty()) {
            c.data = p.data();
        } else if (!p.b64data().empty()) {
            auto decoded = base64::decode(p.b64data());
            if (!decoded) {
                return bad_base64();
            }
            c.data = std::move(*decoded);
        }
        c.skip_history = p.skip_history();
    }
    return result{std::move(c)};
}

response convert_result(const pb::SubRefreshResponse& r) {
    sub_refresh_result c;
    if (!r.has_result()) {
        c.expired = true; // as Centrifugo: no result unsubscribes
        return result{std::move(c)};
    }
    const auto& p = r.result();
    c.expired = p.expired();
    c.expire_at = p.expire_at();
    if (!payload(p.info(), p.b64info(), c.info)) {
        return bad_base64();
    }
    return result{std::move(c)};
}

response convert_result(const pb::RPCResponse& r) {
    rpc_result c;
    if (r.has_result() && !payload(r.result().data(), r.result().b64data(), c.data)) {
        return bad_base64();
    }
    return result{std::move(c)};
}

/// disconnect, then error, then result: Centrifugo's order.
template <typename Response>
response convert(const Response& r) {
    if (r.has_disconnect()) {
        return disconnect{r.disconnect().code(), r.disconnect().reason()};
    }
    if (r.has_error()) {
        return error{r.error().code(), r.error().message(), r.error().temporary()};
    }
    return convert_result(r);
}

const char* status_name(grpc::StatusCode code) {
    switch (code) {
    case grpc::StatusCode::OK:
        return "OK";
    case grpc::StatusCode::CANCELLED:
        return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
        return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
        return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
        return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
        return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
        return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
        return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
        return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
        return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
        return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
        return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
        return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
        return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
        return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
        return "UNAUTHENTICATED";
    default:
        return "UNKNOWN";
    }
}

// ---- the client ---------------------------------------------------------------------------

using stub_type = pb::CentrifugoProxy::Stub;

/// One call in flight; its address is the completion-queue tag.
struct pending_base {
    virtual ~pending_base() = default;
    /// The completion thread: the reply (or the failure) for `done`.
    virtual response outcome() = 0;

    grpc::ClientContext context;
    grpc::Status status;
    std::size_t shard = 0;
    unique_function<void(response)> done;
};

template <typename Request, typename Response>
struct pending_call final : pending_base {
    response outcome() override { return convert(reply); }

    Request request;
    Response reply;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};

/// Calls run on grpc++'s asynchronous API with one completion queue and one thread per client
/// (not the callback API: grpc 1.51 without a background poller runs callbacks on a shared
/// "nexting" thread pool that tears itself down from its own thread when the last channel goes,
/// which crashes if that happens inside a callback). The thread converts each reply and submits
/// `done` to the asking shard. Destruction cancels what is in flight and waits for the thread.
class grpc_client final : public client {
public:
    grpc_client(runtime::shard_set& shards, const options& o)
        : client(o)
        , shards_(shards) {
        grpc::ChannelArguments args;
        args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, "gyre/" GYRE_VERSION);
        stub_ = std::make_unique<stub_type>(grpc::CreateCustomChannel(
            grpc_target(o.endpoint), grpc::InsecureChannelCredentials(), args));
        thread_ = std::thread([this] { complete(); });
    }

    grpc_client(const grpc_client&) = delete;
    grpc_client& operator=(const grpc_client&) = delete;

    ~grpc_client() override {
        {
            std::lock_guard lock(mutex_);
            closing_ = true;
            for (auto* c : in_flight_) {
                c->context.TryCancel(); // its `done` still runs, with a failure
            }
        }
        cq_.Shutdown(); // Next() returns false once every started call has completed
        thread_.join();
    }

    void send(std::size_t shard,
              const client_context& ctx,
              request req,
              unique_function<void(response)> done) override {
        std::visit([&](auto& r) { dispatch(shard, ctx, r, std::move(done)); }, req);
    }

private:
    void dispatch(std::size_t shard,
                  const client_context& ctx,
                  connect_request& r,
                  unique_function<void(response)> done) {
        auto c = prepare<pb::ConnectRequest, pb::ConnectResponse>(shard, ctx, std::move(done));
        set_common(c->request, ctx, options_);
        set_data(c->request, r.data, options_);
        c->request.set_name(std::move(r.name));
        c->request.set_version(std::move(r.version));
        for (auto& ch : r.channels) {
            c->request.add_channels(std::move(ch));
        }
        start(std::move(c), &stub_type::PrepareAsyncConnect);
    }

    void dispatch(std::size_t shard,
                  const client_context& ctx,
                  refresh_request&,
                  unique_function<void(response)> done) {
        auto c = prepare<pb::RefreshRequest, pb::RefreshResponse>(shard, ctx, std::move(done));
        set_common(c->request, ctx, options_);
        set_user_meta(c->request, ctx, options_);
        start(std::move(c), &stub_type::PrepareAsyncRefresh);
    }

    void dispatch(std::size_t shard,
                  const client_context& ctx,
                  subscribe_request& r,
                  unique_function<void(response)> done) {
        auto c = prepare<pb::SubscribeRequest, pb::SubscribeResponse>(shard, ctx, std::move(done));
        set_common(c->request, ctx, options_);
        set_user_meta(c->request, ctx, options_);
        c->request.set_channel(std::move(r.channel));
        c->request.set_token(std::move(r.token));
        set_data(c->request, r.data, options_);
        start(std::move(c), &stub_type::PrepareAsyncSubscribe);
    }

    void dispatch(std::size_t shard,
                  const client_context& ctx,
                  publish_request& r,
                  unique_function<void(response)> done) {
        auto c = prepare<pb::PublishRequest, pb::PublishResponse>(shard, ctx, std::move(done));
        set_common(c->request, ctx, options_);
        set_user_meta(c->request, ctx, options_);
        c->request.set_channel(std::move(r.channel));
        set_data(c->request, r.data, options_);
        start(std::move(c), &stub_type::PrepareAsyncPublish);
    }

    void dispatch(std::size_t shard,
                  const client_context& ctx,
                  sub_refresh_request& r,
                  unique_function<void(response)> done) {
        auto c =
            prepare<pb::SubRefreshRequest, pb::SubRefreshResponse>(shard, ctx, std::move(done));
        set_common(c->request, ctx, options_);
        set_user_meta(c->request, ctx, options_);
        c->request.set_channel(std::move(r.channel));
        start(std::move(c), &stub_type::PrepareAsyncSubRefresh);
    }

    void dispatch(std::size_t shard,
                  const client_context& ctx,
                  rpc_request& r,
                  unique_function<void(response)> done) {
        auto c = prepare<pb::RPCRequest, pb::RPCResponse>(shard, ctx, std::move(done));
        set_common(c->request, ctx, options_);
        set_user_meta(c->request, ctx, options_);
        c->request.set_method(std::move(r.method));
        set_data(c->request, r.data, options_);
        start(std::move(c), &stub_type::PrepareAsyncRPC);
    }

    /// A new call with deadline, compression and metadata set (static metadata first, then the
    /// forwarded headers replacing a static key of the same name, then the credentials).
    template <typename Request, typename Response>
    std::unique_ptr<pending_call<Request, Response>>
    prepare(std::size_t shard, const client_context& ctx, unique_function<void(response)> done) {
        auto c = std::make_unique<pending_call<Request, Response>>();
        c->shard = shard;
        c->done = std::move(done);
        auto& context = c->context;
        context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
        if (options_.grpc_compression) {
            context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
        }
        std::set<std::string_view> forwarded;
        for (const auto& [key, value] : ctx.headers) {
            forwarded.insert(key);
        }
        auto add = [&context](const std::string& key, const std::string& value) {
            if (legal_key(key) && legal_value(key, value)) {
                context.AddMetadata(key, value);
            }
        };
        for (const auto& [key, value] : options_.grpc_static_metadata) {
            if (!forwarded.contains(key)) {
                add(key, value);
            }
        }
        for (const auto& [key, value] : ctx.headers) {
            add(key, value);
        }
        if (!options_.grpc_credentials_key.empty()) {
            add(options_.grpc_credentials_key, options_.grpc_credentials_value);
        }
        return c;
    }

    /// Starts the call; `done` never runs inside call(), always later on the shard.
    template <typename Request, typename Response, typename Prepare>
    void start(std::unique_ptr<pending_call<Request, Response>> c, Prepare prepare_async) {
        std::unique_lock lock(mutex_);
        if (closing_) {
            lock.unlock();
            post(c->shard, std::move(c->done), failure{"grpc proxy " + options_.name + ": closed"});
            return;
        }
        auto* raw = c.get();
        raw->reader = ((*stub_).*prepare_async)(&raw->context, raw->request, &cq_);
        raw->reader->StartCall();
        raw->reader->Finish(&raw->reply, &raw->status, static_cast<pending_base*>(raw));
        in_flight_.insert(c.release());
    }

    /// The completion thread.
    void complete() {
        void* tag = nullptr;
        bool ok = false;
        while (cq_.Next(&tag, &ok)) {
            std::unique_ptr<pending_base> c(static_cast<pending_base*>(tag));
            {
                std::lock_guard lock(mutex_);
                in_flight_.erase(c.get());
            }
            response r = c->status.ok() ? c->outcome()
                                        : response{failure{"grpc proxy " + options_.name + ": " +
                                                           status_name(c->status.error_code()) +
                                                           ": " + c->status.error_message()}};
            post(c->shard, std::move(c->done), std::move(r));
        }
    }

    void post(std::size_t shard, unique_function<void(response)> done, response r) {
        shards_.at(shard).submit(
            [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    }

    runtime::shard_set& shards_;
    std::unique_ptr<stub_type> stub_;
    grpc::CompletionQueue cq_;
    std::mutex mutex_;
    bool closing_ = false;
    std::unordered_set<pending_base*> in_flight_;
    std::thread thread_;
};

} // namespace

std::string grpc_target(std::string_view endpoint) {
    constexpr std::string_view scheme = "grpc://";
    if (endpoint.starts_with(scheme)) {
        endpoint.remove_prefix(scheme.size());
        if (const auto slash = endpoint.find_first_of("/?#"); slash != std::string_view::npos) {
            endpoint = endpoint.substr(0, slash);
        }
    }
    return std::string(endpoint);
}

std::unique_ptr<client> make_grpc_client(runtime::shard_set& shards, const options& o) {
    return std::make_unique<grpc_client>(shards, o);
}

} // namespace gyre::proxy
