#include "server/http_server.hpp"

#include "core/log.hpp"
#include "metrics/catalog.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <list>
#include <stdexcept>
#include <thread>
#include <tuple>

namespace gyre::server {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct http_server::state {
    struct connection {
        beast::tcp_stream* stream = nullptr;
        bool idle = true;
    };

    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::list<connection> connections; // shard-local; touched only on the shard's thread
    bool closing = false;
    // Accept failures since the last line about them: one line a second per shard at most,
    // since running out of descriptors fails every accept until some close.
    std::uint64_t accept_failures = 0;
    std::chrono::steady_clock::time_point accept_failure_logged{};
};

namespace {

/// A request field in a log line: quotes and control bytes escaped, long values cut.
std::string log_safe(std::string_view v) {
    std::string out;
    for (char c : v.substr(0, 256)) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            out += '?';
        } else {
            out += c;
        }
    }
    return out;
}

/// The access log line and the request counter, as the options ask.
void note_request(const limits& lim,
                  const http_request& request,
                  const router::route* route,
                  unsigned status,
                  std::size_t bytes,
                  std::chrono::steady_clock::time_point started) {
    if (lim.count_requests) {
        metrics::http_requests
            .with({route != nullptr ? std::string_view(route->path) : std::string_view("other"),
                   request.method,
                   std::to_string(status)})
            .inc();
    }
    if (lim.access_log) {
        const auto took =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        GYRE_LOG_INFO("http request method={} path=\"{}\" status={} bytes={} duration_ms={:.3f} "
                      "remote={} user_agent=\"{}\"",
                      request.method,
                      log_safe(request.path),
                      status,
                      bytes,
                      took,
                      request.remote_address,
                      log_safe(request.header("User-Agent")));
    }
}

using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Bridges a callback-style handler into the connection coroutine. Kept out of the coroutine
// body: g++ 12 miscompiles a capturing lambda and co_await in one full-expression.
auto async_call(const handler& h, const http_request& req) {
    return net::async_initiate<const net::use_awaitable_t<>&, void(http_response)>(
        [&h, &req](auto completion) {
            auto ex = net::get_associated_executor(completion);
            h(req, responder([c = std::move(completion), ex](http_response r) mutable {
                  net::dispatch(ex, [c = std::move(c), r = std::move(r)]() mutable {
                      std::move(c)(std::move(r));
                  });
              }));
        },
        net::use_awaitable);
}

http_request
to_request(http::request<http::string_body>& req, const tcp::socket& socket, std::size_t shard) {
    http_request out;
    out.shard = shard;
    out.method = std::string(req.method_string());
    out.http11 = req.version() >= 11;
    out.target = std::string(req.target());
    const auto q = out.target.find('?');
    out.path = out.target.substr(0, q);
    if (q != std::string::npos) {
        out.query = out.target.substr(q + 1);
    }
    for (const auto& field : req) {
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(req.body()); // the body can be large (API batches): no copy
    boost::system::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (!ec) {
        out.remote_address = ep.address().to_string();
    }
    return out;
}

unsigned status_for_read_error(const boost::system::error_code& ec) {
    if (ec == http::error::header_limit) {
        return 431;
    }
    if (ec == http::error::body_limit) {
        return 413;
    }
    if (ec.category() == make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message &&
        ec != http::error::need_more) {
        return 400;
    }
    return 0; // peer went away or timed out: nothing to answer
}

/// HTTP/1.1 requires exactly one Host header (RFC 9112 §3.2); HTTP/1.0 may omit it.
bool has_one_host(const http::request<http::string_body>& req) {
    const auto hosts = req.count(http::field::host);
    return hosts == 1 || (hosts == 0 && req.version() < 11);
}

const upgrade_handler* find_upgrade(const upgrade_routes& upgrades, std::string_view target) {
    const auto path = target.substr(0, target.find('?'));
    for (const auto& [p, h] : upgrades) {
        if (p == path) {
            return &h;
        }
    }
    return nullptr;
}

net::awaitable<void> serve_connection(tcp::socket socket,
                                      std::size_t shard,
                                      listener l,
                                      limits lim,
                                      http_server::state* st,
                                      std::atomic<std::size_t>* active) {
    beast::tcp_stream stream(std::move(socket));
    auto self = st->connections.insert(st->connections.end(), {&stream, true});
    active->fetch_add(1);
    beast::flat_buffer buffer;
    for (;;) {
        self->idle = true;
        if (st->closing) {
            break;
        }
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(lim.max_header_bytes));
        parser.body_limit(lim.max_body_bytes);
        stream.expires_after(lim.idle_timeout);
        auto [read_ec, bytes] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        self->idle = false;
        const auto target = parser.get().target();
        const auto* route = l.routes->find_route(target.substr(0, target.find('?')));
        if (!read_ec && route != nullptr && route->max_body_bytes > 0) {
            // Transports cap their bodies (64 KiB). A declared length was checked against the
            // server's limit with the header; check it against the route's here.
            parser.body_limit(route->max_body_bytes);
            if (const auto length = parser.content_length();
                length && *length > route->max_body_bytes) {
                read_ec = http::error::body_limit;
            }
        }
        if (!read_ec && !parser.is_done()) {
            // Clients such as curl ask before sending a large body and wait for this
            // interim answer (Go's server sends it too).
            if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
                http::response<http::empty_body> cont{http::status::continue_, 11};
                auto [cont_ec, cont_n] = co_await http::async_write(stream, cont, use_tuple);
                (void)cont_n;
                read_ec = cont_ec;
            }
            if (!read_ec) {
                std::tie(read_ec, bytes) =
                    co_await http::async_read(stream, buffer, parser, use_tuple);
            }
        }
        if (!read_ec && !has_one_host(parser.get())) {
            read_ec = http::error::bad_value; // answered 400, as Go's server does
        }
        if (read_ec) {
            if (const unsigned status = status_for_read_error(read_ec); status != 0) {
                http::response<http::string_body> res{static_cast<http::status>(status), 11};
                res.set(http::field::content_type, "text/plain; charset=utf-8");
                res.set(http::field::connection, "close");
                res.body() = std::string(http::obsolete_reason(res.result())) + "\n";
                res.prepare_payload();
                stream.expires_after(std::chrono::seconds(5));
                auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
                (void)write_ec;
                (void)written;
                GYRE_LOG_DEBUG(
                    "rejected http request status={} error=\"{}\"", status, read_ec.message());
            }
            break;
        }
        if (beast::websocket::is_upgrade(parser.get())) {
            if (const auto* up = find_upgrade(*l.upgrades, parser.get().target()); up != nullptr) {
                // The transport owns the socket from here on.
                stream.expires_never();
                st->connections.erase(self);
                active->fetch_sub(1);
                (*up)(shard, stream.release_socket(), parser.release());
                co_return;
            }
        }
        auto& raw = parser.get();
        const http_request request = to_request(raw, stream.socket(), shard);
        const auto started = std::chrono::steady_clock::now();
        http_response response;
        if (route != nullptr) {
            stream.expires_never(); // the handler may wait on the engine or a proxy
            response = co_await async_call(route->fn, request);
        } else {
            response = http_response::text(404, "404 page not found\n");
        }
        if (lim.access_log || lim.count_requests) {
            note_request(lim,
                         request,
                         route,
                         response.takeover ? 200 : response.status,
                         response.body.size(),
                         started);
        }
        if (response.takeover) {
            // A streaming transport owns the connection from here on.
            st->connections.erase(self);
            active->fetch_sub(1);
            boost::system::error_code ec;
            const int fd = stream.release_socket().release(ec);
            if (!ec) {
                std::move(response.takeover)(fd);
            }
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(response.status),
                                              raw.version()};
        if (!response.content_type.empty()) {
            res.set(http::field::content_type, response.content_type);
        }
        for (const auto& [k, v] : response.headers) {
            res.set(k, v);
        }
        res.body() = std::move(response.body);
        const bool keep_alive = raw.keep_alive() && !st->closing;
        res.keep_alive(keep_alive);
        res.prepare_payload();
        stream.expires_after(std::chrono::seconds(30));
        auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
        (void)written;
        if (write_ec || !keep_alive) {
            break;
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
    st->connections.erase(self);
    active->fetch_sub(1);
}

net::awaitable<void> accept_loop(tcp::acceptor* acceptor,
                                 std::size_t shard,
                                 listener l,
                                 limits lim,
                                 http_server::state* st,
                                 std::atomic<std::size_t>* active) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor->is_open()) {
                co_return;
            }
            // Out of descriptors or a transient error: back off instead of spinning.
            ++st->accept_failures;
            if (const auto now = std::chrono::steady_clock::now();
                now - st->accept_failure_logged >= std::chrono::seconds(1)) {
                GYRE_LOG_WARN("accept failed error=\"{}\" shard={} failures={}",
                              ec.message(),
                              shard,
                              st->accept_failures);
                st->accept_failures = 0;
                st->accept_failure_logged = now;
            }
            net::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
            auto [wait_ec] = co_await pause.async_wait(use_tuple);
            (void)wait_ec;
            continue;
        }
        if (st->accept_failures != 0) { // failures not reported yet: say they ended
            GYRE_LOG_WARN("accepting again shard={} failures={}", shard, st->accept_failures);
            st->accept_failures = 0;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        net::co_spawn(acceptor->get_executor(),
                      serve_connection(std::move(socket), shard, l, lim, st, active),
                      [](const std::exception_ptr& e) {
                          if (e) {
                              try {
                                  std::rethrow_exception(e);
                              } catch (const std::exception& ex) {
                                  GYRE_LOG_ERROR("http connection failed error=\"{}\"", ex.what());
                              }
                          }
                      });
    }
}

std::vector<tcp::endpoint> resolve(const std::string& address, std::uint16_t port) {
    if (address.empty()) {
        return {tcp::endpoint(net::ip::address_v6::any(), port),
                tcp::endpoint(net::ip::address_v4::any(), port)};
    }
    boost::system::error_code ec;
    const auto ip = net::ip::make_address(address, ec);
    if (!ec) {
        return {tcp::endpoint(ip, port)};
    }
    net::io_context ctx;
    tcp::resolver resolver(ctx);
    const auto results = resolver.resolve(address, std::to_string(port), ec);
    if (ec) {
        throw std::runtime_error("cannot resolve address \"" + address + "\": " + ec.message());
    }
    std::vector<tcp::endpoint> out;
    for (const auto& r : results) {
        out.push_back(r.endpoint());
    }
    return out;
}

// SO_REUSEPORT would let a second gyre process silently share the port. Binding once without
// it first turns "address already in use" into the start-up error users expect.
bool port_is_free(const tcp::endpoint& ep, std::string& error) {
    net::io_context ctx;
    tcp::acceptor probe(ctx);
    boost::system::error_code ec;
    probe.open(ep.protocol(), ec);
    if (!ec && ep.address().is_v6()) {
        probe.set_option(net::ip::v6_only(false), ec);
    }
    if (!ec) {
        probe.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        probe.bind(ep, ec);
    }
    if (ec == net::error::address_in_use) {
        error = ec.message();
        return false;
    }
    return true; // other errors surface on the real bind
}

std::unique_ptr<tcp::acceptor> open_acceptor(net::io_context& ctx,
                                             const std::vector<tcp::endpoint>& candidates,
                                             std::uint16_t port,
                                             bool check_free,
                                             std::string& error) {
    for (auto ep : candidates) {
        ep.port(port);
        if (port != 0 && check_free && !port_is_free(ep, error)) {
            return nullptr;
        }
        auto acc = std::make_unique<tcp::acceptor>(ctx);
        boost::system::error_code ec;
        acc->open(ep.protocol(), ec);
        if (!ec && ep.address().is_v6()) {
            acc->set_option(net::ip::v6_only(false), ec);
        }
        if (!ec) {
            acc->set_option(net::socket_base::reuse_address(true), ec);
        }
        if (!ec) {
            acc->set_option(reuse_port(true), ec);
        }
        if (!ec) {
            acc->bind(ep, ec);
        }
        if (!ec) {
            acc->listen(net::socket_base::max_listen_connections, ec);
        }
        if (!ec) {
            return acc;
        }
        error = ec.message();
    }
    return nullptr;
}

} // namespace

http_server::http_server(runtime::shard_set& shards, limits lim, std::vector<listener> listeners)
    : shards_(shards)
    , limits_(lim)
    , listeners_(std::move(listeners)) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        states_.push_back(std::make_unique<state>());
    }
}

http_server::~http_server() = default;

void http_server::start() {
    for (const auto& l : listeners_) {
        const auto candidates = resolve(l.address, l.port);
        std::uint16_t port = l.port;
        for (std::size_t s = 0; s < shards_.size(); ++s) {
            std::string error;
            auto acc = open_acceptor(shards_.at(s).context(), candidates, port, s == 0, error);
            if (!acc) {
                throw std::runtime_error("cannot listen on " +
                                         (l.address.empty() ? std::string("*") : l.address) + ":" +
                                         std::to_string(port) + ": " + error);
            }
            port = acc->local_endpoint().port(); // shards after the first share an ephemeral port
            net::co_spawn(shards_.at(s).context(),
                          accept_loop(acc.get(), s, l, limits_, states_[s].get(), &active_),
                          net::detached);
            states_[s]->acceptors.push_back(std::move(acc));
        }
        bound_ports_.push_back(port);
    }
}

void http_server::shutdown(std::chrono::steady_clock::time_point deadline) {
    for (std::size_t s = 0; s < shards_.size(); ++s) {
        state* st = states_[s].get();
        shards_.at(s).submit([st] {
            st->closing = true;
            boost::system::error_code ignored;
            for (auto& acc : st->acceptors) {
                acc->close(ignored);
            }
            for (auto& c : st->connections) {
                if (c.idle) {
                    c.stream->cancel(); // wakes the pending read; the loop sees `closing`
                }
            }
        });
    }
    while (active_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace gyre::server
