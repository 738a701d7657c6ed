#include "transport/websocket.hpp"

#include "core/log.hpp"
#include "core/strings.hpp"
#include "protocol/client/codes.hpp"
#include "protocol/client/json_codec.hpp"
#include "session/session.hpp"
#include "transport/http_stream.hpp"
#include "transport/socket_connection.hpp"
#include "transport/ws_frame.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <memory>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace gyre::transport {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// The WebSocket connection works on the raw socket with its own framing (ws_frame.hpp)
// instead of a general-purpose WebSocket stream, for memory and for the write path:
// - The socket sits in the shard's poller (poller.hpp), not in Asio's reactor: a ready socket
//   is read once into one buffer per shard (thread), so an idle connection holds no read
//   memory and no pending operation. Only an incomplete frame is copied aside.
// - A write is one sendmsg() of every queued message (header, messages, '\n' separators,
//   control frames) made right away; only what the kernel does not take waits for the
//   poller to report writability. No composed operation or completion post on the hot path.

/// A WebSocket connection: RFC 6455 framing (ws_frame.hpp) over socket_connection. The
/// bidirectional transport hands every message to the session and sends each batch as one
/// frame; the unidirectional one (uni_websocket) takes only the first message (the connect
/// request), sends one push per frame unless join_push_messages, and adds native pings.
class websocket_connection final : public socket_connection {
public:
    struct options {
        bool unidirectional = false;
        bool join_messages = true;     ///< a batch is one frame ('\n'-joined JSON)
        bool disconnect_push = false;  ///< send a disconnect push before the close frame
        bool closing_handshake = true; ///< send a close frame (else just drop the socket)
        std::size_t message_size_limit = 65536;
    };

    websocket_connection(endpoint ep, std::size_t shard, int fd, hub::wire w, options o)
        : socket_connection(ep, shard, fd, w)
        , options_(o)
        , reader_(o.message_size_limit) {}

    /// Sizes the socket buffers, then starts with the 101 response queued.
    bool open(std::string handshake_response) {
        const auto& cfg = *endpoint_.ctx->current(shard_)->cfg;
        // websocket.read_buffer_size / write_buffer_size: socket buffers, as Go's upgrader
        // sizes its I/O buffers; 0 keeps the system defaults.
        for (const auto& [option, size] : {std::pair{SO_RCVBUF, cfg.websocket.read_buffer_size},
                                           std::pair{SO_SNDBUF, cfg.websocket.write_buffer_size}}) {
            if (size > 0) {
                const int value = static_cast<int>(size);
                ::setsockopt(fd_, SOL_SOCKET, option, &value, sizeof value);
            }
        }
        return start(std::move(handshake_response));
    }

    /// uni_websocket with ?cf_connect: the connect request came with the upgrade.
    void connect_now(std::string_view request) {
        if (auto* s = current_session(); s != nullptr && !finished()) {
            connected_ = true;
            s->on_frame(request, false);
        }
    }

    std::string_view name() const noexcept override {
        return options_.unidirectional ? "uni_websocket" : "websocket";
    }

    bool unidirectional() const noexcept override { return options_.unidirectional; }

    time_point tick(time_point now) override {
        auto next = socket_connection::tick(now);
        if (!options_.unidirectional || closing() || finished()) {
            return next;
        }
        // Native pings besides the protocol's empty pushes: a client that reads nothing
        // (only a WebSocket library's automatic pong) still proves it is there.
        const auto& c = endpoint_.ctx->current(shard_)->cfg->client;
        if (c.ping_interval.count() <= 0) {
            return next;
        }
        if (awaiting_pong_ && c.pong_timeout.count() > 0 && now > pong_deadline_) {
            close(model::disconnects::no_pong);
            return socket_connection::tick(now);
        }
        if (next_ping_ == time_point{}) {
            next_ping_ = now + c.ping_interval;
        } else if (now >= next_ping_) {
            send_control(ws::control_frame(ws::opcode::ping, {}));
            next_ping_ = now + c.ping_interval;
            if (c.pong_timeout.count() > 0 && !awaiting_pong_) {
                awaiting_pong_ = true;
                pong_deadline_ = now + c.pong_timeout;
            }
        }
        next = std::min(next, next_ping_);
        if (awaiting_pong_) {
            next = std::min(next, pong_deadline_ + std::chrono::milliseconds(1));
        }
        return next;
    }

protected:
    void frame_batch(const std::vector<shared_bytes>& batch, std::vector<iovec>& iov) override {
        const bool json = hub::is_json(wire_format());
        if (!options_.join_messages && json) {
            // One push per frame; a joined batch of pushes (one shared message) is split at
            // its '\n' separators, which raw JSON payloads never contain.
            std::size_t frames = 0;
            for (const auto& m : batch) {
                frames +=
                    static_cast<std::size_t>(std::count(m.view().begin(), m.view().end(), '\n')) +
                    1;
            }
            split_headers_.resize(frames); // sized first: the iovecs point into it
            std::size_t next = 0;
            for (const auto& m : batch) {
                std::string_view rest = m.view();
                for (;;) {
                    const auto nl = rest.find('\n');
                    const auto part = rest.substr(0, nl);
                    auto& h = split_headers_[next++];
                    const auto n = ws::write_header(ws::opcode::text, part.size(), h.data());
                    iov.push_back({h.data(), n});
                    iov.push_back({const_cast<char*>(part.data()), part.size()});
                    if (nl == std::string_view::npos) {
                        break;
                    }
                    rest = rest.substr(nl + 1);
                }
            }
            return;
        }
        std::uint64_t size = 0;
        for (const auto& m : batch) {
            size += m.size();
        }
        if (json) {
            size += batch.size() - 1; // '\n' between JSON messages
        }
        const auto header_size =
            ws::write_header(json ? ws::opcode::text : ws::opcode::binary, size, header_.data());
        iov.push_back({header_.data(), header_size});
        static char newline = '\n';
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (i > 0 && json) {
                iov.push_back({&newline, 1});
            }
            iov.push_back({const_cast<char*>(batch[i].data()), batch[i].size()});
        }
    }

    bool consume(std::span<char> fresh) override {
        std::span<char> data = fresh;
        if (!partial_.empty()) {
            partial_.append(fresh.data(), fresh.size());
            data = std::span<char>(partial_.data(), partial_.size());
        }
        const auto r = reader_.read(data, [this](const ws::event& e) { return on_event(e); });
        if (finished()) {
            return false;
        }
        if (r.error != 0) {
            GYRE_LOG_DEBUG("websocket protocol violation close_code={}", r.error);
            if (r.peer_closed) {
                on_peer_close(ws::close_frame(r.error, {})); // nothing more will come
            } else {
                begin_close(ws::close_frame(r.error, {}));
            }
            partial_.clear();
            return !finished();
        }
        const auto rest = data.subspan(r.consumed);
        if (rest.empty()) {
            std::string().swap(partial_); // idle connections keep no read memory
        } else if (partial_.empty()) {
            partial_.assign(rest.data(), rest.size());
        } else {
            partial_.erase(0, r.consumed);
        }
        return true;
    }

    std::string closing_bytes(const model::disconnect& d) override {
        std::string out;
        if (options_.disconnect_push) {
            std::string push;
            protocol::client::push p;
            p.body = protocol::client::to_push(d);
            (void)protocol::client::json::append_push(
                push, p, protocol::client::push_form::unidirectional);
            std::array<char, ws::max_header_size> header{};
            const auto n = ws::write_header(ws::opcode::text, push.size(), header.data());
            out.append(header.data(), n);
            out += push;
        }
        if (options_.closing_handshake) {
            out += ws::close_frame(static_cast<std::uint16_t>(d.code), d.reason);
        } else {
            drop_after_close_ = true;
        }
        return out;
    }

    bool awaits_peer_close() const noexcept override { return !drop_after_close_; }

    std::chrono::milliseconds write_timeout() const override {
        // websocket.write_timeout / uni_websocket.write_timeout; 0 means the default, as in
        // Centrifugo.
        const auto& cfg = *endpoint_.ctx->current(shard_)->cfg;
        const auto t =
            options_.unidirectional ? cfg.uni_websocket.write_timeout : cfg.websocket.write_timeout;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t);
        return ms.count() > 0 ? ms : std::chrono::milliseconds(1000);
    }

private:
    bool on_event(const ws::event& e) {
        switch (e.what) {
        case ws::event::kind::message:
            if (closing()) {
                break;
            }
            if (!options_.unidirectional) {
                current_session()->on_frame(e.payload, e.binary);
            } else if (!connected_) {
                // The first message is the connect request; anything later is read and
                // dropped, as the client is not meant to send more. A malformed one gets a
                // close frame alone (there is no session yet to push a disconnect to).
                connected_ = true;
                if (!protocol::client::json::decode_connect_request(e.payload)) {
                    drop_after_close_ = !options_.closing_handshake;
                    begin_close(options_.closing_handshake
                                    ? ws::close_frame(model::disconnects::bad_request.code,
                                                      model::disconnects::bad_request.reason)
                                    : std::string{});
                } else {
                    current_session()->on_frame(e.payload, false);
                }
            }
            break;
        case ws::event::kind::ping: {
            // Framed on the stack: a ping flood costs no allocation per ping.
            std::array<char, ws::max_header_size + 125> pong{};
            const auto payload = e.payload.substr(0, 125);
            const auto n = ws::write_header(ws::opcode::pong, payload.size(), pong.data());
            std::copy(payload.begin(), payload.end(), pong.data() + n);
            send_pong(std::string_view(pong.data(), n + payload.size()));
            break;
        }
        case ws::event::kind::pong:
            awaiting_pong_ = false;
            break;
        case ws::event::kind::close:
            // Echo the peer's code (the reader checked it), then end the connection once it is
            // written.
            on_peer_close(ws::close_frame(e.close_code, {}));
            break;
        }
        return !finished();
    }

    options options_;
    ws::frame_reader reader_;
    std::string partial_;                            ///< an incomplete frame between reads
    std::array<char, ws::max_header_size> header_{}; ///< the frame header of the write in flight
    /// uni_websocket without join_push_messages: one header per push of the write in flight.
    std::vector<std::array<char, ws::max_header_size>> split_headers_;
    time_point next_ping_{};
    time_point pong_deadline_{};
    bool awaiting_pong_ = false;
    bool connected_ = false;        ///< uni: the connect request arrived
    bool drop_after_close_ = false; ///< uni with disable_closing_handshake
};

void reject(tcp::socket socket,
            http::status status,
            unsigned version,
            std::string body,
            std::string_view websocket_version = {}) {
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    auto res = std::make_shared<http::response<http::string_body>>(status, version);
    if (!websocket_version.empty()) {
        res->set(http::field::sec_websocket_version, websocket_version);
    }
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->set(http::field::connection, "close");
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
        beast::error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
}

std::string_view query_of(std::string_view target) {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

/// Checks the handshake and builds the 101 response; false after answering an error.
bool handshake(const endpoint& ep,
               std::size_t shard,
               tcp::socket& socket,
               const http::request<http::string_body>& request,
               std::string_view subprotocol,
               std::string& response) {
    const auto& cfg = *ep.ctx->current(shard)->cfg;
    const std::string origin(request[http::field::origin]);
    if (!origin_allowed(cfg.client.allowed_origins, origin)) {
        GYRE_LOG_INFO("request Origin is not authorized origin={}", origin);
        reject(std::move(socket), http::status::forbidden, request.version(), "Forbidden\n");
        return false;
    }
    const auto version = request[http::field::sec_websocket_version];
    const auto key = request[http::field::sec_websocket_key];
    if (version != "13") {
        // As Go's upgrader answers: 400 naming the version we speak.
        reject(
            std::move(socket), http::status::bad_request, request.version(), "Bad Request\n", "13");
        return false;
    }
    if (!ws::valid_client_key(key)) {
        reject(std::move(socket), http::status::bad_request, request.version(), "Bad Request\n");
        return false;
    }
    response = "HTTP/1.1 101 Switching Protocols\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               "Server: gyre\r\n"
               "Sec-WebSocket-Accept: ";
    response += ws::accept_key(key);
    if (!subprotocol.empty()) {
        response += "\r\nSec-WebSocket-Protocol: ";
        response += subprotocol;
    }
    response += "\r\n\r\n";
    return true;
}

/// Keeps the upgrade request's headers that a proxy forwards, and the user a gateway named
/// (client.user_id_http_header).
void keep_proxy_headers(const endpoint& ep,
                        std::size_t shard,
                        websocket_connection& conn,
                        const http::request<http::string_body>& request) {
    if (const auto& name = ep.ctx->current(shard)->cfg->client.user_id_http_header; !name.empty()) {
        conn.header_user_from(std::string(request[name]));
    }
    const auto* backend = ep.ctx->backend();
    if (backend == nullptr || backend->header_names.empty()) {
        return;
    }
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    for (const auto& field : request) {
        headers.emplace_back(field.name_string(), field.value());
    }
    conn.keep_request_headers(headers, backend->header_names);
}

/// Moves the socket from Asio's reactor to the shard's poller; -1 on failure.
int take_descriptor(tcp::socket& socket) {
    boost::system::error_code ec;
    const int fd = socket.release(ec);
    if (ec) {
        GYRE_LOG_ERROR("websocket: cannot take over the connection's socket error=\"{}\"",
                       ec.message());
        return -1;
    }
    return fd;
}

} // namespace

void accept_websocket(const endpoint& ep,
                      std::size_t shard,
                      tcp::socket socket,
                      http::request<http::string_body> request) {
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
    const auto query = query_of(request.target());
    if (strings::query_param(query, "format") == "protobuf" ||
        strings::query_param(query, "cf_protocol") == "protobuf") {
        w = hub::wire::protobuf;
    }
    std::string response;
    if (!handshake(ep, shard, socket, request, subprotocol, response)) {
        return;
    }
    const int fd = take_descriptor(socket);
    if (fd < 0) {
        return;
    }
    const auto& cfg = *ep.ctx->current(shard)->cfg;
    websocket_connection::options o;
    o.message_size_limit = static_cast<std::size_t>(cfg.websocket.message_size_limit);
    auto conn = std::make_shared<websocket_connection>(ep, shard, fd, w, o);
    keep_proxy_headers(ep, shard, *conn, request);
    conn->open(std::move(response));
}

void accept_uni_websocket(const endpoint& ep,
                          std::size_t shard,
                          tcp::socket socket,
                          http::request<http::string_body> request) {
    auto connect = strings::query_param(query_of(request.target()), "cf_connect");
    if (connect && (connect->empty() || *connect == "null")) {
        connect.reset(); // wait for the first message
    }
    if (connect && !protocol::client::json::decode_connect_request(*connect)) {
        reject(std::move(socket), http::status::bad_request, request.version(), "Bad Request\n");
        return;
    }
    std::string response;
    if (!handshake(ep, shard, socket, request, {}, response)) {
        return;
    }
    const int fd = take_descriptor(socket);
    if (fd < 0) {
        return;
    }
    const auto& uni = ep.ctx->current(shard)->cfg->uni_websocket;
    websocket_connection::options o;
    o.unidirectional = true;
    o.join_messages = uni.join_push_messages;
    o.disconnect_push = !uni.disable_disconnect_push;
    o.closing_handshake = !uni.disable_closing_handshake;
    o.message_size_limit = static_cast<std::size_t>(uni.message_size_limit);
    auto conn =
        std::make_shared<websocket_connection>(ep, shard, fd, hub::wire::json_unidirectional, o);
    keep_proxy_headers(ep, shard, *conn, request);
    if (conn->open(std::move(response)) && connect) {
        conn->connect_now(*connect);
    }
}

} // namespace gyre::transport
