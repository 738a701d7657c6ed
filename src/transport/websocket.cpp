#include "transport/websocket.hpp"

#include "core/log.hpp"
#include "core/strings.hpp"
#include "session/session.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>

#include <optional>

namespace gyre::transport {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ws = beast::websocket;
using tcp = net::ip::tcp;

namespace {

class websocket_connection final : public session::transport,
                                   public connection,
                                   public std::enable_shared_from_this<websocket_connection> {
public:
    websocket_connection(websocket_endpoint ep, std::size_t shard, tcp::socket socket, hub::wire w)
        : endpoint_(ep)
        , shard_(shard)
        , ws_(std::move(socket))
        , wire_(w) {}

    ~websocket_connection() { endpoint_.connections->remove(shard_, this); }

    void start(http::request<http::string_body> req, std::string subprotocol) {
        const auto& cfg = *endpoint_.ctx->current(shard_)->cfg;
        ws_.set_option(ws::stream_base::timeout::suggested(beast::role_type::server));
        ws_.auto_fragment(false);
        ws_.read_message_max(static_cast<std::size_t>(cfg.websocket.message_size_limit));
        // websocket.read_buffer_size / write_buffer_size: socket buffers, as Go's upgrader sizes
        // its I/O buffers; 0 keeps the system defaults.
        auto& socket = beast::get_lowest_layer(ws_).socket();
        beast::error_code ignored;
        if (cfg.websocket.read_buffer_size > 0) {
            socket.set_option(net::socket_base::receive_buffer_size(
                                  static_cast<int>(cfg.websocket.read_buffer_size)),
                              ignored);
        }
        if (cfg.websocket.write_buffer_size > 0) {
            socket.set_option(net::socket_base::send_buffer_size(
                                  static_cast<int>(cfg.websocket.write_buffer_size)),
                              ignored);
        }
        ws_.set_option(ws::stream_base::decorator([subprotocol](ws::response_type& res) {
            res.set(http::field::server, "gyre");
            if (!subprotocol.empty()) {
                res.set(http::field::sec_websocket_protocol, subprotocol);
            }
        }));
        ws_.binary(wire_ == hub::wire::protobuf);
        request_ = std::move(req);
        ws_.async_accept(
            request_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
    }

    // session::transport
    hub::wire wire_format() const noexcept override { return wire_; }

    std::string_view name() const noexcept override { return "websocket"; }

    void write(std::vector<shared_bytes>& messages) override {
        if (closing_) {
            messages.clear();
            session_->on_write_done(true);
            return;
        }
        writing_.swap(messages); // `messages` gets our empty vector (and its capacity) back
        buffers_.clear();
        static constexpr char newline = '\n';
        for (std::size_t i = 0; i < writing_.size(); ++i) {
            if (i > 0 && wire_ == hub::wire::json) {
                buffers_.emplace_back(&newline, 1);
            }
            buffers_.emplace_back(writing_[i].data(), writing_[i].size());
        }
        write_in_flight_ = true;
        // The composed write allocates its state per call: take it from Asio's per-thread
        // recycling cache instead of malloc (a write per delivery is the hot path).
        ws_.async_write(
            buffers_,
            net::bind_allocator(net::recycling_allocator<void>(),
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_write(ec);
                                }));
    }

    void close(model::disconnect d) override {
        if (closing_) {
            return;
        }
        closing_ = true;
        close_started_ = std::chrono::steady_clock::now();
        pending_reason_ = d.reason; // the caller's reason may not outlive this call
        pending_close_ = model::disconnect{d.code, pending_reason_};
        if (!write_in_flight_) {
            do_close();
        }
    }

    void wake_at(time_point when) override { endpoint_.connections->wake(shard_, this, when); }

    void defer(unique_function<void()> fn) override {
        net::post(ws_.get_executor(), std::move(fn));
    }

    // connection
    time_point tick(time_point now) override {
        // A peer that never reads keeps our close frame stuck behind a write: after a grace
        // period drop the TCP connection, so a stuck client cannot hold memory forever.
        if (closing_ && !finished_) {
            if (now - close_started_ > close_grace) {
                finish();
                return time_point::max();
            }
            return close_started_ + close_grace + std::chrono::milliseconds(1);
        }
        auto next = session_ ? session_->tick(now) : time_point::max();
        if (closing_ && !finished_) { // the session closed us during its tick
            next = std::min(next, close_started_ + close_grace + std::chrono::milliseconds(1));
        }
        return next;
    }

    void shutdown(model::disconnect d) override {
        if (session_) {
            session_->close(d);
        }
    }

private:
    void on_accept(beast::error_code ec) {
        request_ = {}; // the upgrade request's headers are not needed any more
        if (ec) {
            GYRE_LOG_DEBUG("websocket handshake failed error=\"{}\"", ec.message());
            return;
        }
        session_ = std::make_shared<session::session>(*endpoint_.ctx, shard_, *this);
        endpoint_.connections->add(shard_, this);
        do_read();
    }

    void do_read() {
        ws_.async_read(
            buffer_,
            net::bind_allocator(net::recycling_allocator<void>(),
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_read(ec);
                                }));
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            if (ec == ws::error::buffer_overflow || ec == ws::error::message_too_big) {
                GYRE_LOG_DEBUG("websocket message over limit client={}", session_->client_id());
            }
            finish();
            return;
        }
        const auto data = buffer_.cdata();
        session_->on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()),
                           ws_.got_binary());
        buffer_.consume(buffer_.size());
        buffer_.shrink_to_fit(); // most connections sit idle: keep no read buffer meanwhile
        if (!closing_) {
            do_read();
        } else {
            do_read(); // keep reading to see the peer's close frame
        }
    }

    void on_write(beast::error_code ec) {
        write_in_flight_ = false;
        writing_.clear();
        if (ec) {
            finish();
            return;
        }
        if (closing_) {
            do_close();
            return;
        }
        session_->on_write_done(true);
    }

    void do_close() {
        if (close_sent_ || !pending_close_) {
            return;
        }
        close_sent_ = true;
        const ws::close_reason reason(static_cast<ws::close_code>(pending_close_->code),
                                      std::string(pending_close_->reason));
        ws_.async_close(reason, [self = shared_from_this()](beast::error_code) { self->finish(); });
    }

    void finish() {
        if (finished_) {
            return;
        }
        finished_ = true;
        endpoint_.connections->remove(shard_, this);
        if (session_) {
            session_->on_transport_closed();
        }
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    websocket_endpoint endpoint_;
    std::size_t shard_;
    ws::stream<beast::tcp_stream> ws_;
    hub::wire wire_;
    http::request<http::string_body> request_;
    std::shared_ptr<session::session> session_;
    beast::flat_buffer buffer_;
    std::vector<shared_bytes> writing_;
    std::vector<net::const_buffer> buffers_;
    std::optional<model::disconnect> pending_close_;
    std::string pending_reason_;
    std::chrono::steady_clock::time_point close_started_{};
    static constexpr std::chrono::seconds close_grace{5};
    bool write_in_flight_ = false;
    bool closing_ = false;
    bool close_sent_ = false;
    bool finished_ = false;
};

std::string query_value(std::string_view target, std::string_view key) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return {};
    }
    for (const auto& part : strings::split(target.substr(q + 1), '&')) {
        const auto eq = part.find('=');
        if (part.substr(0, eq) == key) {
            return eq == std::string::npos ? std::string{} : part.substr(eq + 1);
        }
    }
    return {};
}

bool origin_allowed(const std::vector<std::string>& patterns, std::string_view origin) {
    if (origin.empty()) {
        return true; // non-browser clients send no Origin
    }
    for (const auto& p : patterns) {
        if (strings::glob_match(p, origin)) {
            return true;
        }
    }
    return false; // an empty list authorizes no browser origin, as in Centrifugo
}

void reject(tcp::socket socket, http::status status, unsigned version, std::string body) {
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    auto res = std::make_shared<http::response<http::string_body>>(status, version);
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->set(http::field::connection, "close");
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
        beast::error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
}

} // namespace

void accept_websocket(const websocket_endpoint& endpoint,
                      std::size_t shard,
                      tcp::socket socket,
                      http::request<http::string_body> request) {
    const auto& cfg = *endpoint.ctx->current(shard)->cfg;
    const std::string origin(request[http::field::origin]);
    if (!origin_allowed(cfg.client.allowed_origins, origin)) {
        GYRE_LOG_INFO("request Origin is not authorized origin={}", origin);
        reject(std::move(socket), http::status::forbidden, request.version(), "Forbidden\n");
        return;
    }
    std::string subprotocol;
    hub::wire w = hub::wire::json;
    for (const auto& p :
         strings::split(std::string(request[http::field::sec_websocket_protocol]), ',')) {
        const auto trimmed = strings::split_whitespace(p);
        if (!trimmed.empty() && trimmed[0] == "centrifuge-protobuf") {
            subprotocol = "centrifuge-protobuf";
            w = hub::wire::protobuf;
        } else if (!trimmed.empty() && trimmed[0] == "centrifuge-json" && subprotocol.empty()) {
            subprotocol = "centrifuge-json";
        }
    }
    const std::string target(request.target());
    if (query_value(target, "format") == "protobuf" ||
        query_value(target, "cf_protocol") == "protobuf") {
        w = hub::wire::protobuf;
    }
    auto conn = std::make_shared<websocket_connection>(endpoint, shard, std::move(socket), w);
    conn->start(std::move(request), subprotocol);
}

} // namespace gyre::transport
