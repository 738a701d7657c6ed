#include "transport/websocket.hpp"

#include "core/log.hpp"
#include "core/strings.hpp"
#include "session/session.hpp"
#include "transport/poller.hpp"
#include "transport/ws_frame.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
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

/// One read buffer per shard thread, allocated on the thread's first read.
std::span<char> shard_read_buffer() {
    static constexpr std::size_t size = 64 * 1024;
    thread_local std::unique_ptr<char[]> buffer;
    if (!buffer) {
        buffer = std::make_unique<char[]>(size);
    }
    return {buffer.get(), size};
}

/// iovec scratch per shard thread (a write that completes at once keeps nothing).
std::vector<iovec>& shard_iovecs() {
    thread_local std::vector<iovec> scratch;
    scratch.clear();
    return scratch;
}

class websocket_connection final : public session::transport,
                                   public connection,
                                   public poller::handler,
                                   public std::enable_shared_from_this<websocket_connection> {
public:
    websocket_connection(websocket_endpoint ep, std::size_t shard, int fd, hub::wire w)
        : endpoint_(ep)
        , shard_(shard)
        , io_(ep.connections->io(shard))
        , fd_(fd)
        , wire_(w)
        , reader_(static_cast<std::size_t>(
              endpoint_.ctx->current(shard)->cfg->websocket.message_size_limit)) {}

    ~websocket_connection() {
        if (fd_ >= 0) { // never finished (start failed, or the server stops)
            endpoint_.connections->remove(shard_, this);
            ::close(fd_);
        }
    }

    /// Queues the 101 response (it leaves with the first write) and starts the session.
    void start(std::string handshake_response) {
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
        token_ = io_.add(fd_, shared_from_this());
        if (token_ == 0) {
            return; // the destructor closes the socket
        }
        control_ = std::move(handshake_response);
        send();
        if (finished_) {
            return;
        }
        session_ = std::make_shared<session::session>(*endpoint_.ctx, shard_, *this);
        endpoint_.connections->add(shard_, this);
    }

    // poller::handler
    void on_events(std::uint32_t events) override {
        if ((events & EPOLLOUT) != 0 && write_waiting_) {
            write_waiting_ = false;
            io_.want_write(fd_, token_, false);
            send();
        }
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && !finished_) {
            on_readable();
        }
    }

    // session::transport
    hub::wire wire_format() const noexcept override { return wire_; }

    std::string_view name() const noexcept override { return "websocket"; }

    void write(std::vector<shared_bytes>& messages) override {
        if (closing_ || finished_) {
            messages.clear(); // the session is ending: its write never completes
            return;
        }
        batch_.swap(messages); // `messages` gets our empty vector (and its capacity) back
        if (!notifying_) {     // else send() picks the batch up when the callback returns
            send();
        }
    }

    void close(model::disconnect d) override {
        if (closing_ || finished_) {
            return;
        }
        begin_close(static_cast<std::uint16_t>(d.code), d.reason);
    }

    void wake_at(time_point when) override { endpoint_.connections->wake(shard_, this, when); }

    void defer(unique_function<void()> fn) override { net::post(io_.context(), std::move(fn)); }

    // connection
    time_point tick(time_point now) override {
        // A peer that never reads keeps our close frame stuck behind a write, or never answers
        // it: after a grace period drop the TCP connection, so it cannot hold memory forever.
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
    // ---- reading ---------------------------------------------------------------------------

    void on_readable() {
        const auto buffer = shard_read_buffer();
        // One buffer per readiness report normally; a few at most, so that one busy client
        // cannot starve the shard (level-triggered: what is left is reported again).
        for (int round = 0; round < 4; ++round) {
            const auto n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
            if (n > 0) {
                if (!consume(buffer.first(static_cast<std::size_t>(n)))) {
                    return;
                }
                if (static_cast<std::size_t>(n) < buffer.size()) {
                    return;
                }
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    finish(); // the peer went away (without a close frame), or an error
                }
                return;
            }
        }
    }

    /// Feeds newly read bytes through the frame reader; false when the connection ended.
    bool consume(std::span<char> fresh) {
        std::span<char> data = fresh;
        if (!partial_.empty()) {
            partial_.append(fresh.data(), fresh.size());
            data = std::span<char>(partial_.data(), partial_.size());
        }
        const auto r = reader_.read(data, [this](const ws::event& e) { return on_event(e); });
        if (finished_) {
            return false;
        }
        if (r.error != 0) {
            GYRE_LOG_DEBUG("websocket protocol violation close_code={}", r.error);
            begin_close(r.error, {});
            partial_.clear();
            return !finished_;
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

    bool on_event(const ws::event& e) {
        switch (e.what) {
        case ws::event::kind::message:
            if (!closing_) {
                session_->on_frame(e.payload, e.binary);
            }
            break;
        case ws::event::kind::ping:
            if (!closing_) {
                control_ += ws::control_frame(ws::opcode::pong, e.payload);
                send();
            }
            break;
        case ws::event::kind::pong:
            break;
        case ws::event::kind::close:
            peer_closed_ = true;
            if (close_queued_) {
                if (close_sent_) {
                    finish(); // our close was answered: the handshake is complete
                }
            } else {
                // Echo the peer's code, then end the connection once it is written.
                begin_close(ws::valid_close_code(e.close_code) || e.close_code == 0
                                ? e.close_code
                                : ws::close_protocol_error,
                            {});
            }
            break;
        }
        return !finished_;
    }

    // ---- writing ---------------------------------------------------------------------------

    /// Sends what is queued: the session's batch as one frame, then control frames. Completes
    /// at once when the kernel takes everything; else waits for writability.
    void send() {
        if (write_waiting_ || finished_) {
            return;
        }
        for (;;) {
            if (sending_.empty() && control_sending_.empty()) {
                if (batch_.empty() && control_.empty()) {
                    return;
                }
                prepare();
            }
            if (!flush_iovecs()) {
                return; // waiting for writability, or finished
            }
            // Everything prepared has left.
            const bool had_batch = !sending_.empty();
            sending_.clear();
            if (!control_sending_.empty()) {
                std::string().swap(control_sending_); // the 101 response is ~170 B per idle client
            }
            if (close_queued_ && !close_sent_ && control_.empty() && batch_.empty()) {
                close_sent_ = true;
                if (peer_closed_) {
                    finish();
                    return;
                }
            }
            if (had_batch && session_) {
                notifying_ = true; // the session may write() again from inside the callback
                session_->on_write_done(true);
                notifying_ = false;
                if (finished_) {
                    return;
                }
            }
        }
    }

    /// Moves the queued batch and control frames into the iovecs of the next sendmsg().
    void prepare() {
        auto& iov = shard_iovecs();
        if (!batch_.empty() && !closing_) {
            sending_.swap(batch_);
            std::uint64_t size = 0;
            const bool json = wire_ == hub::wire::json;
            for (const auto& m : sending_) {
                size += m.size();
            }
            if (json) {
                size += sending_.size() - 1; // '\n' between JSON messages
            }
            const auto header_size = ws::write_header(
                json ? ws::opcode::text : ws::opcode::binary, size, header_.data());
            iov.push_back({header_.data(), header_size});
            static char newline = '\n';
            for (std::size_t i = 0; i < sending_.size(); ++i) {
                if (i > 0 && json) {
                    iov.push_back({&newline, 1});
                }
                iov.push_back({const_cast<char*>(sending_[i].data()), sending_[i].size()});
            }
        } else {
            batch_.clear(); // a batch queued after the close is dropped
        }
        if (!control_.empty()) {
            control_sending_.swap(control_);
            iov.push_back({control_sending_.data(), control_sending_.size()});
        }
        pending_iov_.clear();
        iov_ = &iov;
        iov_pos_ = 0;
    }

    /// Writes the prepared iovecs; true when all left, false when waiting (or finished).
    bool flush_iovecs() {
        auto& iov = *iov_;
        while (iov_pos_ < iov.size()) {
            msghdr msg{};
            msg.msg_iov = iov.data() + iov_pos_;
            msg.msg_iovlen = std::min<std::size_t>(iov.size() - iov_pos_, IOV_MAX);
            const auto n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    wait_writable();
                    return false;
                }
                finish();
                return false;
            }
            auto left = static_cast<std::size_t>(n);
            while (left > 0 && iov_pos_ < iov.size()) {
                auto& v = iov[iov_pos_];
                if (left >= v.iov_len) {
                    left -= v.iov_len;
                    ++iov_pos_;
                } else {
                    v.iov_base = static_cast<char*>(v.iov_base) + left;
                    v.iov_len -= left;
                    left = 0;
                }
            }
            while (iov_pos_ < iov.size() && iov[iov_pos_].iov_len == 0) {
                ++iov_pos_;
            }
        }
        if (iov_ == &pending_iov_) {
            std::vector<iovec>().swap(pending_iov_); // a slow moment should not keep memory
        } else {
            iov.clear();
        }
        return true;
    }

    void wait_writable() {
        // The shard's iovec scratch is shared: keep what is left of ours in our own vector.
        if (iov_ != &pending_iov_) {
            pending_iov_.assign(iov_->begin() + static_cast<std::ptrdiff_t>(iov_pos_), iov_->end());
            iov_->clear();
            iov_ = &pending_iov_;
            iov_pos_ = 0;
        }
        write_waiting_ = true;
        io_.want_write(fd_, token_, true);
    }

    // ---- closing ---------------------------------------------------------------------------

    void begin_close(std::uint16_t code, std::string_view reason) {
        closing_ = true;
        close_queued_ = true;
        close_started_ = std::chrono::steady_clock::now();
        if (session_) {
            endpoint_.connections->wake(
                shard_, this, close_started_ + close_grace + std::chrono::milliseconds(1));
        }
        control_ += ws::close_frame(code, reason);
        send();
    }

    void finish() {
        if (finished_) {
            return;
        }
        finished_ = true;
        closing_ = true;
        endpoint_.connections->remove(shard_, this);
        if (session_) {
            session_->on_transport_closed();
        }
        io_.remove(fd_, token_); // drops the poller's reference on a later turn
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        fd_ = -1;
        sending_.clear();
        batch_.clear();
    }

    websocket_endpoint endpoint_;
    std::size_t shard_;
    poller& io_;
    int fd_;
    poller::token token_ = 0;
    hub::wire wire_;
    std::shared_ptr<session::session> session_;
    ws::frame_reader reader_;
    std::string partial_;               ///< an incomplete frame between reads
    std::vector<shared_bytes> batch_;   ///< the session's next frame
    std::vector<shared_bytes> sending_; ///< the frame being written
    std::string control_;               ///< handshake, pong and close bytes to send
    std::string control_sending_;       ///< ... being written
    std::vector<iovec>* iov_ = nullptr; ///< the write's iovecs (shard scratch or pending_iov_)
    std::vector<iovec> pending_iov_;    ///< what the kernel did not take yet
    std::size_t iov_pos_ = 0;
    std::array<char, ws::max_header_size> header_{};
    std::chrono::steady_clock::time_point close_started_{};
    static constexpr std::chrono::seconds close_grace{5};
    bool write_waiting_ = false;
    bool notifying_ = false;
    bool closing_ = false;
    bool close_queued_ = false;
    bool close_sent_ = false;
    bool peer_closed_ = false;
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
    const auto version = request[http::field::sec_websocket_version];
    const auto key = request[http::field::sec_websocket_key];
    if (version != "13") {
        // As Go's upgrader answers: 400 naming the version we speak.
        reject(
            std::move(socket), http::status::bad_request, request.version(), "Bad Request\n", "13");
        return;
    }
    if (!ws::valid_client_key(key)) {
        reject(std::move(socket), http::status::bad_request, request.version(), "Bad Request\n");
        return;
    }
    std::string response = "HTTP/1.1 101 Switching Protocols\r\n"
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
    request = {}; // the upgrade request is not needed any more
    // The descriptor leaves Asio's reactor for the shard's poller.
    boost::system::error_code ec;
    const int fd = socket.release(ec);
    if (ec) {
        GYRE_LOG_ERROR("websocket: cannot take over the connection's socket error=\"{}\"",
                       ec.message());
        return;
    }
    auto conn = std::make_shared<websocket_connection>(endpoint, shard, fd, w);
    conn->start(std::move(response));
}

} // namespace gyre::transport
