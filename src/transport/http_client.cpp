#include "transport/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>

namespace gyre::transport {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

struct parsed_url {
    bool tls = false;
    std::string host;
    std::string port;
    std::string target;
};

std::optional<parsed_url> parse_url(const std::string& url) {
    parsed_url u;
    std::string rest;
    if (url.starts_with("https://")) {
        u.tls = true;
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else {
        return std::nullopt;
    }
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']') == std::string::npos) {
        u.host = authority.substr(0, colon);
        u.port = authority.substr(colon + 1);
    } else {
        u.host = authority;
        u.port = u.tls ? "443" : "80";
    }
    if (u.host.empty()) {
        return std::nullopt;
    }
    return u;
}

// Synchronous Beast calls ignore tcp_stream expiry: bound reads and writes in the kernel.
void set_io_timeout(tcp::socket& socket, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

template <typename Stream>
http_get_result exchange(Stream& stream, const parsed_url& u) {
    http::request<http::empty_body> req{http::verb::get, u.target, 11};
    req.set(http::field::host, u.host);
    req.set(http::field::user_agent, "gyre");
    req.set(http::field::accept, "application/json");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(8 * 1024 * 1024);
    http::read(stream, buffer, parser);
    http_get_result r;
    r.status = parser.get().result_int();
    r.body = std::move(parser.get().body());
    r.ok = r.status == 200;
    if (!r.ok) {
        r.error = "unexpected status " + std::to_string(r.status);
    }
    return r;
}

http_get_result fetch(net::io_context& ctx,
                      net::ssl::context& tls,
                      const std::string& url,
                      std::chrono::milliseconds timeout) {
    const auto u = parse_url(url);
    if (!u) {
        return {false, 0, {}, "unsupported URL: " + url};
    }
    try {
        tcp::resolver resolver(ctx);
        const auto endpoints = resolver.resolve(u->host, u->port);
        if (!u->tls) {
            beast::tcp_stream stream(ctx);
            stream.connect(endpoints);
            set_io_timeout(stream.socket(), timeout);
            auto r = exchange(stream, *u);
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            return r;
        }
        beast::ssl_stream<beast::tcp_stream> stream(ctx, tls);
        // SSL_set_tlsext_host_name without its C cast (SNI for virtual-hosted JWKS servers).
        if (SSL_ctrl(stream.native_handle(),
                     SSL_CTRL_SET_TLSEXT_HOSTNAME,
                     TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(u->host.c_str())) != 1) {
            return {false, 0, {}, "cannot set TLS server name"};
        }
        stream.set_verify_callback(net::ssl::host_name_verification(u->host));
        beast::get_lowest_layer(stream).connect(endpoints);
        set_io_timeout(beast::get_lowest_layer(stream).socket(), timeout);
        stream.handshake(net::ssl::stream_base::client);
        return exchange(stream, *u);
    } catch (const std::exception& e) {
        return {false, 0, {}, e.what()};
    }
}

} // namespace

struct http_client::impl {
    explicit impl(std::chrono::milliseconds t)
        : timeout(t)
        , tls(net::ssl::context::tls_client) {
        tls.set_default_verify_paths();
        tls.set_verify_mode(net::ssl::verify_peer);
        thread = std::thread([this] { ctx.run(); });
    }

    ~impl() {
        work.reset();
        ctx.stop();
        thread.join();
    }

    std::chrono::milliseconds timeout;
    net::io_context ctx{1};
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work{
        ctx.get_executor()};
    net::ssl::context tls;
    std::thread thread;
};

http_client::http_client(std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(timeout)) {}

http_client::~http_client() = default;

void http_client::get(std::string url, unique_function<void(http_get_result)> done) {
    impl* i = impl_.get();
    net::post(i->ctx, [i, url = std::move(url), done = std::move(done)]() mutable {
        // Blocking I/O is fine here: this thread exists only for these fetches.
        done(fetch(i->ctx, i->tls, url, i->timeout));
    });
}

} // namespace gyre::transport
