#include "server/http_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <thread>

namespace gyre::server {
namespace {
namespace net = boost::asio;

std::string round_trip(std::uint16_t port, const std::string& request) {
    net::io_context ctx;
    net::ip::tcp::socket sock(ctx);
    sock.connect({net::ip::make_address("127.0.0.1"), port});
    net::write(sock, net::buffer(request));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
        const auto n = sock.read_some(net::buffer(buf), ec);
        out.append(buf, n);
        if (ec) {
            break;
        }
    }
    return out;
}

TEST(router, exact_beats_prefix_and_longest_prefix_wins) {
    router r;
    int hit = 0;
    r.add("/a", [&](const http_request&, responder) { hit = 1; });
    r.add_prefix("/", [&](const http_request&, responder) { hit = 2; });
    r.add_prefix("/a/", [&](const http_request&, responder) { hit = 3; });
    http_request req;
    (*r.find("/a"))(req, {});
    EXPECT_EQ(hit, 1);
    (*r.find("/a/b"))(req, {});
    EXPECT_EQ(hit, 3);
    (*r.find("/zzz"))(req, {});
    EXPECT_EQ(hit, 2);
    router empty;
    EXPECT_EQ(empty.find("/x"), nullptr);
}

TEST(http_request, headers_and_query) {
    http_request req;
    req.headers = {{"X-Api-Key", "k1"}, {"Content-Type", "a"}};
    req.query = "api_key=a%2Fb+c&empty&x=1";
    EXPECT_EQ(req.header("x-api-key"), "k1");
    EXPECT_EQ(req.header("missing"), "");
    EXPECT_EQ(req.query_param("api_key"), "a/b c");
    EXPECT_EQ(req.query_param("x"), "1");
    EXPECT_EQ(req.query_param("empty"), "");
    EXPECT_EQ(req.query_param("nope"), "");
}

TEST(http_server, serves_routes_limits_and_async_handlers_across_shards) {
    runtime::shard_set shards(2);
    auto routes = std::make_shared<router>();
    routes->add_sync("/sync", [](const http_request& r) {
        return http_response::text(200, "method=" + r.method + " body=" + r.body);
    });
    // An asynchronous handler answering from another thread, as engine calls will.
    routes->add("/async", [](const http_request&, responder done) {
        std::thread([d = std::move(done)]() mutable {
            d(http_response::json(202, "{}"));
        }).detach();
    });
    limits lim;
    lim.max_body_bytes = 100;
    lim.max_header_bytes = 2048;
    http_server http(shards, lim, {{"127.0.0.1", 0, routes}});
    http.start();
    shards.start();
    const auto port = http.bound_port(0);
    ASSERT_NE(port, 0);

    EXPECT_NE(round_trip(port,
                         "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: "
                         "close\r\n\r\nhi")
                  .find("method=POST body=hi"),
              std::string::npos);
    EXPECT_EQ(round_trip(port, "GET /async HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .rfind("HTTP/1.1 202", 0),
              0U);
    EXPECT_EQ(round_trip(port, "GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .rfind("HTTP/1.1 404", 0),
              0U);
    EXPECT_EQ(round_trip(port,
                         "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n" +
                             std::string(500, 'x'))
                  .rfind("HTTP/1.1 413", 0),
              0U);
    EXPECT_EQ(round_trip(port, "GET /sync HTTP/1.1\r\nX: " + std::string(4000, 'y') + "\r\n\r\n")
                  .rfind("HTTP/1.1 431", 0),
              0U);
    EXPECT_EQ(round_trip(port, "NOT HTTP AT ALL\r\n\r\n").rfind("HTTP/1.1 400", 0), 0U);
    // HTTP/1.1 needs exactly one Host header; HTTP/1.0 may go without.
    EXPECT_EQ(round_trip(port, "GET /none HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400", 0), 0U);
    EXPECT_EQ(round_trip(port, "GET /none HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
                  .rfind("HTTP/1.1 400", 0),
              0U);
    EXPECT_EQ(round_trip(port, "GET /none HTTP/1.0\r\n\r\n").find(" 404 "), 8U);

    http.shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    EXPECT_EQ(http.active_connections(), 0U);
    shards.stop();
    shards.join();
}

} // namespace
} // namespace gyre::server

#include "server/transport_routes.hpp"

#include <unistd.h>

namespace gyre::server {
namespace {

TEST(cors, echoes_an_allowed_origin_and_the_requested_headers) {
    http_request req;
    req.headers = {{"Origin", "https://app.example.com"},
                   {"Access-Control-Request-Headers", "content-type"}};
    const std::vector<std::pair<std::string, std::string>> allowed{
        {"Access-Control-Allow-Origin", "https://app.example.com"},
        {"Access-Control-Allow-Headers", "content-type"},
        {"Access-Control-Allow-Credentials", "true"}};
    EXPECT_EQ(cors_headers({"https://*.example.com"}, req), allowed);
    EXPECT_EQ(cors_headers({"*"}, req), allowed);
    EXPECT_TRUE(cors_headers({"https://other.com"}, req).empty());
    EXPECT_TRUE(cors_headers({}, req).empty()) << "an empty list authorizes no browser origin";
    // No Origin (not a browser): passes, with an empty Allow-Origin as Centrifugo sends.
    http_request plain;
    const auto h = cors_headers({}, plain);
    ASSERT_EQ(h.size(), 2U);
    EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Access-Control-Allow-Origin", ""}));
}

TEST(http_server, route_body_limit_and_connection_takeover) {
    runtime::shard_set shards(1);
    auto routes = std::make_shared<router>();
    routes->add(
        "/stream",
        [](const http_request& req, responder done) {
            // Takes the socket over and writes its own bytes, as the streaming transports do.
            http_response r;
            r.takeover = [body = req.body](int fd) {
                const std::string out = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nowned:" + body;
                EXPECT_EQ(::write(fd, out.data(), out.size()), static_cast<ssize_t>(out.size()));
                ::close(fd);
            };
            done(std::move(r));
        },
        8);
    http_server http(shards, limits{}, {{"127.0.0.1", 0, routes}});
    http.start();
    shards.start();
    const auto port = http.bound_port(0);
    const auto owned =
        round_trip(port, "POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_NE(owned.find("owned:abc"), std::string::npos) << owned;
    EXPECT_EQ(round_trip(port,
                         "POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n" +
                             std::string(9, 'x'))
                  .rfind("HTTP/1.1 413", 0),
              0U)
        << "the route's own limit, below the server's";
    http.shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(2));
    shards.stop();
    shards.join();
}

} // namespace
} // namespace gyre::server
