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

    http.shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    EXPECT_EQ(http.active_connections(), 0U);
    shards.stop();
    shards.join();
}

} // namespace
} // namespace gyre::server
