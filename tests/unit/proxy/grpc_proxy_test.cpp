// The gRPC proxy client against an in-process CentrifugoProxy server: request fields and metadata
// arrive as Centrifugo sends them, results / errors / disconnects come back converted, transport
// failures and timeouts become proxy::failure, and `done` always runs on the asking shard.
#include "core/base64.hpp"
#include "proxy/grpc_proxy.hpp"
#include "proxy/proxy.grpc.pb.h"
#include "runtime/shard_set.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace gyre::proxy {
namespace {

namespace pb = ::centrifugal::centrifugo::proxy;
using metadata = std::multimap<std::string, std::string>;

/// Records what arrives and answers with whatever the test scripted.
class backend final : public pb::CentrifugoProxy::Service {
public:
    std::function<void(pb::ConnectResponse&)> on_connect = [](auto&) {
    };
    std::function<void(pb::RefreshResponse&)> on_refresh = [](auto&) {
    };
    std::function<void(pb::SubscribeResponse&)> on_subscribe = [](auto&) {
    };
    std::function<void(pb::PublishResponse&)> on_publish = [](auto&) {
    };
    std::function<void(pb::RPCResponse&)> on_rpc = [](auto&) {
    };
    std::function<void(pb::SubRefreshResponse&)> on_sub_refresh = [](auto&) {
    };
    std::chrono::milliseconds delay{0};

    pb::ConnectRequest connect;
    pb::RefreshRequest refresh;
    pb::SubscribeRequest subscribe;
    pb::PublishRequest publish;
    pb::RPCRequest rpc;
    pb::SubRefreshRequest sub_refresh;
    metadata last_metadata;
    std::atomic<int> calls{0};

    grpc::Status
    Connect(grpc::ServerContext* c, const pb::ConnectRequest* q, pb::ConnectResponse* r) override {
        return handle(c, *q, connect, *r, on_connect);
    }

    grpc::Status
    Refresh(grpc::ServerContext* c, const pb::RefreshRequest* q, pb::RefreshResponse* r) override {
        return handle(c, *q, refresh, *r, on_refresh);
    }

    grpc::Status Subscribe(grpc::ServerContext* c,
                           const pb::SubscribeRequest* q,
                           pb::SubscribeResponse* r) override {
        return handle(c, *q, subscribe, *r, on_subscribe);
    }

    grpc::Status
    Publish(grpc::ServerContext* c, const pb::PublishRequest* q, pb::PublishResponse* r) override {
        return handle(c, *q, publish, *r, on_publish);
    }

    grpc::Status RPC(grpc::ServerContext* c, const pb::RPCRequest* q, pb::RPCResponse* r) override {
        return handle(c, *q, rpc, *r, on_rpc);
    }

    grpc::Status SubRefresh(grpc::ServerContext* c,
                            const pb::SubRefreshRequest* q,
                            pb::SubRefreshResponse* r) override {
        return handle(c, *q, sub_refresh, *r, on_sub_refresh);
    }

    metadata seen_metadata() {
        std::lock_guard lock(mutex_);
        return last_metadata;
    }

    template <typename Request>
    Request seen(const Request& field) {
        std::lock_guard lock(mutex_);
        return field;
    }

private:
    template <typename Request, typename Response>
    grpc::Status handle(grpc::ServerContext* c,
                        const Request& q,
                        Request& record,
                        Response& r,
                        const std::function<void(Response&)>& fill) {
        {
            std::lock_guard lock(mutex_);
            record = q;
            last_metadata.clear();
            for (const auto& [k, v] : c->client_metadata()) {
                last_metadata.emplace(std::string(k.data(), k.size()),
                                      std::string(v.data(), v.size()));
            }
        }
        calls.fetch_add(1);
        if (delay.count() > 0) {
            std::this_thread::sleep_for(delay);
        }
        fill(r);
        return grpc::Status::OK;
    }

    std::mutex mutex_;
};

class GrpcProxy : public ::testing::Test {
protected:
    void SetUp() override {
        shards_.start();
        start_server();
    }

    void TearDown() override {
        stop_server();
        shards_.stop();
        shards_.join();
    }

    void start_server() {
        grpc::ServerBuilder builder;
        builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
        builder.RegisterService(&backend_);
        server_ = builder.BuildAndStart();
        ASSERT_TRUE(server_);
        ASSERT_GT(port_, 0);
    }

    void stop_server() {
        if (server_) {
            server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
            server_->Wait();
            server_.reset();
        }
    }

    options opts() const {
        options o;
        o.name = "test";
        o.endpoint = "grpc://127.0.0.1:" + std::to_string(port_);
        o.timeout = std::chrono::milliseconds(2000);
        return o;
    }

    static client_context context() {
        client_context c;
        c.client = "client-id";
        c.transport = "websocket";
        c.protocol = "json";
        c.encoding = "json";
        c.user = "42";
        c.meta = R"({"m":1})";
        return c;
    }

    struct outcome {
        response r;
        bool on_shard = false;
    };

    /// Calls and waits (at most 10 s) for `done`, which must run on `shard`.
    outcome call(client& c, std::size_t shard, const client_context& ctx, request req) {
        auto promise = std::make_shared<std::promise<outcome>>();
        auto future = promise->get_future();
        c.call(shard, ctx, std::move(req), [this, shard, promise](response r) {
            promise->set_value(outcome{std::move(r), shards_.at(shard).is_current()});
        });
        EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
        return future.get();
    }

    template <typename T>
    static const T& result_of(const outcome& o) {
        EXPECT_TRUE(std::holds_alternative<result>(o.r)) << o.r.index();
        return std::get<T>(std::get<result>(o.r));
    }

    runtime::shard_set shards_{2};
    backend backend_;
    std::unique_ptr<grpc::Server> server_;
    int port_ = 0;
};

TEST(GrpcTarget, StripsSchemeAndPath) {
    EXPECT_EQ(grpc_target("grpc://localhost:10001"), "localhost:10001");
    EXPECT_EQ(grpc_target("grpc://127.0.0.1:10001/path"), "127.0.0.1:10001");
    EXPECT_EQ(grpc_target("backend:9000"), "backend:9000");
}

TEST_F(GrpcProxy, ConnectSendsFieldsAndMetadataAndConvertsTheResult) {
    auto o = opts();
    o.grpc_static_metadata = {{"x-static", "s"}, {"x-custom", "from-static"}};
    o.grpc_credentials_key = "x-api-key";
    o.grpc_credentials_value = "secret";
    o.http_headers = {"authorization", "x-custom"};
    auto c = make_grpc_client(shards_, o);
    EXPECT_EQ(c->forwarded_headers(), o.http_headers);
    EXPECT_FALSE(c->binary_encoding());

    backend_.on_connect = [](pb::ConnectResponse& rep) {
        auto* res = rep.mutable_result();
        res->set_user("u1");
        res->set_expire_at(1700000000);
        res->set_info(R"({"name":"Ann"})");
        res->set_b64data(base64::encode("\x01\x02"));
        res->add_channels("news");
        res->set_meta(R"({"k":"v"})");
        auto& sub = (*res->mutable_subs())["chat"];
        sub.set_expire_at(5);
        sub.set_data(R"({"d":1})");
        sub.set_b64info(base64::encode("bin"));
        sub.mutable_override()->mutable_presence()->set_value(false);
        sub.mutable_override()->mutable_force_recovery()->set_value(true);
    };
    auto ctx = context();
    ctx.headers = {{"authorization", "Bearer t"}, {"x-custom", "from-client"}};
    const auto out = call(*c,
                          1,
                          ctx,
                          connect_request{.name = "centrifuge-js",
                                          .version = "5.0.0",
                                          .data = R"({"hello":1})",
                                          .channels = {"a", "b"}});
    EXPECT_TRUE(out.on_shard);

    const auto q = backend_.seen(backend_.connect);
    EXPECT_EQ(q.client(), "client-id");
    EXPECT_EQ(q.transport(), "websocket");
    EXPECT_EQ(q.protocol(), "json");
    EXPECT_EQ(q.encoding(), "json");
    EXPECT_EQ(q.data(), R"({"hello":1})");
    EXPECT_TRUE(q.b64data().empty());
    EXPECT_EQ(q.name(), "centrifuge-js");
    EXPECT_EQ(q.version(), "5.0.0");
    ASSERT_EQ(q.channels_size(), 2);
    EXPECT_EQ(q.channels(1), "b");

    const auto md = backend_.seen_metadata();
    auto one = [&md](const std::string& key) {
        EXPECT_EQ(md.count(key), 1U) << key;
        const auto it = md.find(key);
        return it == md.end() ? std::string() : it->second;
    };
    EXPECT_EQ(one("authorization"), "Bearer t");
    EXPECT_EQ(one("x-custom"), "from-client"); // a forwarded header overrides static metadata
    EXPECT_EQ(one("x-static"), "s");
    EXPECT_EQ(one("x-api-key"), "secret");

    const auto& r = result_of<connect_result>(out);
    EXPECT_EQ(r.user, "u1");
    EXPECT_EQ(r.expire_at, 1700000000);
    EXPECT_EQ(r.info, R"({"name":"Ann"})");
    EXPECT_EQ(r.data, "\x01\x02");
    EXPECT_EQ(r.channels, std::vector<std::string>{"news"});
    EXPECT_EQ(r.meta, R"({"k":"v"})");
    ASSERT_EQ(r.subs.count("chat"), 1U);
    const auto& s = r.subs.at("chat");
    EXPECT_EQ(s.expire_at, 5);
    EXPECT_EQ(s.channel, "chat");
    EXPECT_EQ(s.data, std::optional<std::string>(R"({"d":1})"));
    EXPECT_EQ(s.info, std::optional<std::string>("bin"));
    EXPECT_EQ(s.override_options.presence, std::optional<bool>(false));
    EXPECT_EQ(s.override_options.force_recovery, std::optional<bool>(true));
    EXPECT_FALSE(s.override_options.join_leave.has_value());
}

TEST_F(GrpcProxy, ConnectWithoutResultIsAFailure) {
    auto c = make_grpc_client(shards_, opts());
    const auto out = call(*c, 0, context(), connect_request{});
    EXPECT_TRUE(out.on_shard);
    EXPECT_TRUE(std::holds_alternative<failure>(out.r));
}

TEST_F(GrpcProxy, RefreshSendsUserAndMetaOnlyWhenAskedTo) {
    backend_.on_refresh = [](pb::RefreshResponse& rep) {
        rep.mutable_result()->set_expire_at(99);
        rep.mutable_result()->set_info("{}");
        rep.mutable_result()->set_meta(R"({"n":2})");
    };
    {
        auto c = make_grpc_client(shards_, opts());
        const auto out = call(*c, 0, context(), refresh_request{});
        EXPECT_TRUE(out.on_shard);
        const auto q = backend_.seen(backend_.refresh);
        EXPECT_EQ(q.user(), "42");
        EXPECT_EQ(q.client(), "client-id");
        EXPECT_TRUE(q.meta().empty());
        const auto& r = result_of<refresh_result>(out);
        EXPECT_FALSE(r.expired);
        EXPECT_EQ(r.expire_at, 99);
        EXPECT_EQ(r.info, "{}");
        EXPECT_EQ(r.meta, R"({"n":2})");
    }
    auto o = opts();
    o.include_connection_meta = true;
    auto c = make_grpc_client(shards_, o);
    EXPECT_TRUE(c->include_connection_meta());
    call(*c, 1, context(), refresh_request{});
    EXPECT_EQ(backend_.seen(backend_.refresh).meta(), R"({"m":1})");

    backend_.on_refresh = [](pb::RefreshResponse&) {
    }; // no result: the connection expires
    EXPECT_TRUE(result_of<refresh_result>(call(*c, 1, context(), refresh_request{})).expired);
}

TEST_F(GrpcProxy, SubscribeResultAndError) {
    auto c = make_grpc_client(shards_, opts());
    backend_.on_subscribe = [](pb::SubscribeResponse& rep) {
        rep.mutable_result()->set_info(R"({"i":1})");
        rep.mutable_result()->set_data(R"({"d":2})");
        rep.mutable_result()->set_expire_at(7);
        rep.mutable_result()->mutable_override()->mutable_join_leave()->set_value(true);
        rep.mutable_result()->mutable_override()->mutable_force_push_join_leave()->set_value(true);
        rep.mutable_result()->mutable_override()->mutable_force_positioning()->set_value(false);
    };
    auto out =
        call(*c, 1, context(), subscribe_request{.channel = "chat", .token = "tok", .data = "[1]"});
    EXPECT_TRUE(out.on_shard);
    const auto q = backend_.seen(backend_.subscribe);
    EXPECT_EQ(q.channel(), "chat");
    EXPECT_EQ(q.token(), "tok");
    EXPECT_EQ(q.data(), "[1]");
    EXPECT_EQ(q.user(), "42");
    const auto& r = result_of<subscribe_result>(out);
    EXPECT_EQ(r.info, R"({"i":1})");
    EXPECT_EQ(r.data, R"({"d":2})");
    EXPECT_EQ(r.expire_at, 7);
    EXPECT_EQ(r.override_options.join_leave, std::optional<bool>(true));
    EXPECT_EQ(r.override_options.force_push_join_leave, std::optional<bool>(true));
    EXPECT_EQ(r.override_options.force_positioning, std::optional<bool>(false));
    EXPECT_FALSE(r.override_options.presence.has_value());

    backend_.on_subscribe = [](pb::SubscribeResponse& rep) {
        rep.mutable_error()->set_code(403);
        rep.mutable_error()->set_message("permission denied");
        rep.mutable_error()->set_temporary(true);
    };
    out = call(*c, 0, context(), subscribe_request{.channel = "chat", .token = {}, .data = {}});
    EXPECT_TRUE(out.on_shard);
    ASSERT_TRUE(std::holds_alternative<error>(out.r));
    EXPECT_EQ(std::get<error>(out.r).code, 403U);
    EXPECT_EQ(std::get<error>(out.r).message, "permission denied");
    EXPECT_TRUE(std::get<error>(out.r).temporary);
}

TEST_F(GrpcProxy, PublishBinaryEncodingAndDisconnect) {
    auto o = opts();
    o.binary_encoding = true;
    auto c = make_grpc_client(shards_, o);
    EXPECT_TRUE(c->binary_encoding());
    backend_.on_publish = [](pb::PublishResponse& rep) {
        rep.mutable_result()->set_b64data(base64::encode(std::string("\x00\xff", 2)));
        rep.mutable_result()->set_skip_history(true);
    };
    auto ctx = context();
    ctx.encoding = "binary";
    auto out = call(*c, 1, ctx, publish_request{.channel = "ch", .data = "raw\x01"});
    EXPECT_TRUE(out.on_shard);
    const auto q = backend_.seen(backend_.publish);
    EXPECT_EQ(q.channel(), "ch");
    EXPECT_EQ(q.encoding(), "binary");
    EXPECT_TRUE(q.data().empty());
    EXPECT_EQ(q.b64data(), base64::encode("raw\x01"));
    const auto& r = result_of<publish_result>(out);
    EXPECT_EQ(r.data, std::optional<std::string>(std::string("\x00\xff", 2)));
    EXPECT_TRUE(r.skip_history);

    backend_.on_publish = [](pb::PublishResponse& rep) {
        rep.mutable_result();
    };
    out = call(*c, 0, ctx, publish_request{.channel = "ch", .data = "x"});
    EXPECT_FALSE(result_of<publish_result>(out).data.has_value()); // data kept as published

    backend_.on_publish = [](pb::PublishResponse& rep) {
        rep.mutable_result()->set_b64data("not base64!");
    };
    out = call(*c, 0, ctx, publish_request{.channel = "ch", .data = "x"});
    EXPECT_TRUE(std::holds_alternative<failure>(out.r));

    backend_.on_publish = [](pb::PublishResponse& rep) {
        rep.mutable_error()->set_code(1000);
        rep.mutable_disconnect()->set_code(4500);
        rep.mutable_disconnect()->set_reason("go away");
    };
    out = call(*c, 1, ctx, publish_request{.channel = "ch", .data = "x"});
    EXPECT_TRUE(out.on_shard);
    ASSERT_TRUE(std::holds_alternative<disconnect>(out.r)); // disconnect wins over error
    EXPECT_EQ(std::get<disconnect>(out.r).code, 4500U);
    EXPECT_EQ(std::get<disconnect>(out.r).reason, "go away");
}

TEST_F(GrpcProxy, RpcRoundTripWithCompression) {
    auto o = opts();
    o.grpc_compression = true;
    auto c = make_grpc_client(shards_, o);
    backend_.on_rpc = [](pb::RPCResponse& rep) {
        rep.mutable_result()->set_data(R"({"answer":42})");
    };
    const auto out = call(*c, 0, context(), rpc_request{.method = "getAnswer", .data = "{}"});
    EXPECT_TRUE(out.on_shard);
    const auto q = backend_.seen(backend_.rpc);
    EXPECT_EQ(q.method(), "getAnswer");
    EXPECT_EQ(q.data(), "{}");
    EXPECT_EQ(q.user(), "42");
    EXPECT_EQ(result_of<rpc_result>(out).data, R"({"answer":42})");
}

TEST_F(GrpcProxy, SubRefreshResultAndMissingResult) {
    auto c = make_grpc_client(shards_, opts());
    backend_.on_sub_refresh = [](pb::SubRefreshResponse& rep) {
        rep.mutable_result()->set_expire_at(1234);
        rep.mutable_result()->set_b64info(base64::encode("info"));
    };
    auto out = call(*c, 1, context(), sub_refresh_request{.channel = "room"});
    EXPECT_TRUE(out.on_shard);
    EXPECT_EQ(backend_.seen(backend_.sub_refresh).channel(), "room");
    EXPECT_EQ(result_of<sub_refresh_result>(out).expire_at, 1234);
    EXPECT_EQ(result_of<sub_refresh_result>(out).info, "info");
    EXPECT_FALSE(result_of<sub_refresh_result>(out).expired);

    backend_.on_sub_refresh = [](pb::SubRefreshResponse&) {
    };
    out = call(*c, 1, context(), sub_refresh_request{.channel = "room"});
    EXPECT_TRUE(result_of<sub_refresh_result>(out).expired);
}

TEST_F(GrpcProxy, IllegalMetadataIsDroppedNotFatal) {
    auto o = opts();
    o.grpc_static_metadata = {{"Bad Key", "v"}};
    auto c = make_grpc_client(shards_, o);
    auto ctx = context();
    ctx.headers = {{"x-ok", "fine"}, {"x-newline", "a\nb"}, {"user-agent", "Mozilla/5.0"}};
    const auto out = call(*c, 0, ctx, rpc_request{.method = "m", .data = {}});
    EXPECT_TRUE(std::holds_alternative<result>(out.r));
    const auto md = backend_.seen_metadata();
    EXPECT_EQ(md.count("x-ok"), 1U);
    EXPECT_EQ(md.count("x-newline"), 0U);
    EXPECT_EQ(md.count("bad key"), 0U);
}

TEST_F(GrpcProxy, BackendDownIsAFailure) {
    auto o = opts();
    stop_server(); // the port is closed now
    auto c = make_grpc_client(shards_, o);
    const auto out = call(*c, 1, context(), connect_request{});
    EXPECT_TRUE(out.on_shard);
    ASSERT_TRUE(std::holds_alternative<failure>(out.r));
    EXPECT_NE(std::get<failure>(out.r).what.find("UNAVAILABLE"), std::string::npos)
        << std::get<failure>(out.r).what;
}

TEST_F(GrpcProxy, SlowBackendTimesOut) {
    backend_.delay = std::chrono::milliseconds(600);
    auto o = opts();
    o.timeout = std::chrono::milliseconds(100);
    auto c = make_grpc_client(shards_, o);
    const auto started = std::chrono::steady_clock::now();
    const auto out = call(*c, 0, context(), publish_request{.channel = "ch", .data = "1"});
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_TRUE(out.on_shard);
    ASSERT_TRUE(std::holds_alternative<failure>(out.r));
    EXPECT_NE(std::get<failure>(out.r).what.find("DEADLINE_EXCEEDED"), std::string::npos)
        << std::get<failure>(out.r).what;
    EXPECT_LT(took, std::chrono::milliseconds(500));
}

TEST_F(GrpcProxy, DestroyingTheClientCancelsCallsInFlight) {
    backend_.delay = std::chrono::milliseconds(1500);
    auto o = opts();
    o.timeout = std::chrono::milliseconds(5000);
    auto c = make_grpc_client(shards_, o);
    auto promise = std::make_shared<std::promise<outcome>>();
    auto future = promise->get_future();
    c->call(1, context(), refresh_request{}, [this, promise](response r) {
        promise->set_value(outcome{std::move(r), shards_.at(1).is_current()});
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (backend_.calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto started = std::chrono::steady_clock::now();
    c.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000));
    ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    const auto out = future.get();
    EXPECT_TRUE(out.on_shard);
    ASSERT_TRUE(std::holds_alternative<failure>(out.r));
    EXPECT_NE(std::get<failure>(out.r).what.find("CANCELLED"), std::string::npos);
}

TEST_F(GrpcProxy, ManyConcurrentCallsEachCompleteOnTheirShard) {
    backend_.on_rpc = [](pb::RPCResponse& rep) {
        rep.mutable_result()->set_data("ok");
    };
    auto c = make_grpc_client(shards_, opts());
    constexpr int n = 200;
    std::atomic<int> good{0};
    std::atomic<int> finished{0};
    std::promise<void> all;
    for (int i = 0; i < n; ++i) {
        const std::size_t shard = static_cast<std::size_t>(i) % 2;
        c->call(shard, context(), rpc_request{.method = "m", .data = {}}, [&, shard](response r) {
            if (shards_.at(shard).is_current() && std::holds_alternative<result>(r)) {
                good.fetch_add(1);
            }
            if (finished.fetch_add(1) + 1 == n) {
                all.set_value();
            }
        });
    }
    ASSERT_EQ(all.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
    EXPECT_EQ(good.load(), n);
}

} // namespace
} // namespace gyre::proxy
