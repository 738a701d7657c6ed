#include "transport/socket_connection.hpp"

#include "core/log.hpp"
#include "session/session.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gyre::transport {
namespace {

/// One read buffer per shard thread, allocated on the thread's first read: an idle
/// connection holds no read memory and no pending operation.
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

} // namespace

socket_connection::socket_connection(endpoint ep, std::size_t shard, int fd, hub::wire w)
    : endpoint_(ep)
    , shard_(shard)
    , fd_(fd)
    , io_(ep.connections->io(shard))
    , wire_(w) {}

socket_connection::~socket_connection() {
    if (fd_ >= 0) { // never finished (start failed, or the server stops)
        endpoint_.connections->remove(shard_, this);
        ::close(fd_);
    }
}

bool socket_connection::start(std::string head) {
    token_ = io_.add(fd_, shared_from_this());
    if (token_ == 0) {
        return false; // the destructor closes the socket
    }
    control_ = std::move(head);
    send();
    if (finished_) {
        return false;
    }
    session_ = std::make_shared<session::session>(*endpoint_.ctx, shard_, *this);
    endpoint_.connections->add(shard_, this);
    return true;
}

void socket_connection::on_events(std::uint32_t events) {
    if ((events & EPOLLOUT) != 0 && write_waiting_) {
        write_waiting_ = false;
        io_.watch(fd_, token_, true, false); // the peer takes output again: read it again
        send();
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && !finished_) {
        on_readable();
    }
}

void socket_connection::write(std::vector<shared_bytes>& messages) {
    if (closing_ || finished_) {
        messages.clear(); // the session is ending: its write never completes
        return;
    }
    batch_.swap(messages); // `messages` gets our empty vector (and its capacity) back
    if (!notifying_) {     // else send() picks the batch up when the callback returns
        send();
    }
}

void socket_connection::close(model::disconnect d) {
    if (closing_ || finished_) {
        return;
    }
    begin_close(closing_bytes(d));
}

void socket_connection::wake_at(time_point when) {
    endpoint_.connections->wake(shard_, this, when);
}

void socket_connection::defer(unique_function<void()> fn) {
    boost::asio::post(io_.context(), std::move(fn));
}

socket_connection::time_point socket_connection::tick(time_point now) {
    if (write_timed_out(now)) {
        return time_point::max();
    }
    // A peer that never reads keeps our closing bytes stuck behind a write, or never answers a
    // close frame: after a grace period drop the TCP connection, so it cannot hold memory.
    if (closing_ && !finished_) {
        if (now - close_started_ > close_grace) {
            finish();
            return time_point::max();
        }
        const auto grace_end = close_started_ + close_grace + std::chrono::milliseconds(1);
        return write_waiting_ ? std::min(grace_end, write_deadline_ + std::chrono::milliseconds(1))
                              : grace_end;
    }
    auto next = session_ ? session_->tick(now) : time_point::max();
    if (closing_ && !finished_) { // the session closed us during its tick
        next = std::min(next, close_started_ + close_grace + std::chrono::milliseconds(1));
    }
    if (write_waiting_ && !finished_) {
        next = std::min(next, write_deadline_ + std::chrono::milliseconds(1));
    }
    return next;
}

bool socket_connection::write_timed_out(time_point now) {
    // A write that the socket has not taken within write_timeout(): the peer does not read.
    // Nothing more can reach it, so the connection is dropped rather than closed politely.
    if (!write_waiting_ || finished_ || now < write_deadline_) {
        return false;
    }
    GYRE_LOG_DEBUG("dropping a connection whose write waited over {} ms transport={}",
                   write_timeout().count(),
                   name());
    if (session_) {
        session_->close(model::disconnects::write_error); // counted like any disconnect
    }
    finish();
    return true;
}

void socket_connection::shutdown(model::disconnect d) {
    if (session_) {
        session_->close(d);
    }
}

void socket_connection::send_control(std::string_view bytes) {
    if (closing_ || finished_) {
        return;
    }
    control_ += bytes;
    send();
}

void socket_connection::send_pong(std::string_view frame) {
    if (closing_ || finished_) {
        return;
    }
    pong_.assign(frame); // an unsent pong is replaced, in its own capacity
    send();
}

void socket_connection::begin_close(std::string last) {
    if (closing_ || finished_) {
        return;
    }
    closing_ = true;
    close_queued_ = true;
    close_started_ = std::chrono::steady_clock::now();
    if (session_) {
        endpoint_.connections->wake(
            shard_, this, close_started_ + close_grace + std::chrono::milliseconds(1));
    }
    control_ += last;
    send();
}

void socket_connection::on_peer_close(std::string reply) {
    peer_closed_ = true;
    if (!close_queued_) {
        begin_close(std::move(reply));
    } else if (close_sent_) {
        finish(); // our close was answered: the handshake is complete
    }
}

// ---- reading ---------------------------------------------------------------------------------

void socket_connection::on_readable() {
    const auto buffer = shard_read_buffer();
    // One buffer per readiness report normally; a few at most, so that one busy client cannot
    // starve the shard (level-triggered: what is left is reported again).
    for (int round = 0; round < 4; ++round) {
        const auto n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n > 0) {
            if (!consume(buffer.first(static_cast<std::size_t>(n))) || finished_) {
                return;
            }
            if (static_cast<std::size_t>(n) < buffer.size() || write_waiting_) {
                return; // all read, or the peer stopped taking our output: read no more
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

// ---- writing ---------------------------------------------------------------------------------

void socket_connection::send() {
    if (write_waiting_ || finished_) {
        return;
    }
    for (;;) {
        if (sending_.empty() && control_sending_.empty() && pong_sending_.empty()) {
            if (batch_.empty() && control_.empty() && pong_.empty()) {
                return;
            }
            prepare();
        }
        if (!flush_iovecs()) {
            return; // waiting for writability, or finished
        }
        // Everything prepared has left.
        write_deadline_ = {};
        const bool had_batch = !sending_.empty();
        sending_.clear();
        if (!control_sending_.empty()) {
            std::string().swap(control_sending_); // a 101 response is ~170 B per idle client
        }
        if (!pong_sending_.empty()) {
            std::string().swap(pong_sending_);
        }
        if (close_queued_ && !close_sent_ && control_.empty() && batch_.empty() && pong_.empty()) {
            close_sent_ = true;
            if (peer_closed_ || !awaits_peer_close()) {
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

void socket_connection::prepare() {
    auto& iov = shard_iovecs();
    if (!batch_.empty() && !closing_) {
        sending_.swap(batch_);
        frame_batch(sending_, iov);
        if (counters_ == nullptr) {
            counters_ = &metrics::for_transport(name());
        }
        counters_->messages_written->inc(sending_.size());
    } else {
        batch_.clear(); // a batch queued after the close is dropped
    }
    if (!pong_.empty()) { // before control_, which may end with the closing bytes
        pong_sending_.swap(pong_);
        iov.push_back({pong_sending_.data(), pong_sending_.size()});
    }
    if (!control_.empty()) {
        control_sending_.swap(control_);
        iov.push_back({control_sending_.data(), control_sending_.size()});
    }
    pending_iov_.clear();
    iov_ = &iov;
    iov_pos_ = 0;
    std::int64_t bytes = 0;
    for (const auto& v : iov) {
        bytes += static_cast<std::int64_t>(v.iov_len);
    }
    metrics::add_outbox_bytes(bytes);
    outbox_counted_ += bytes;
}

bool socket_connection::flush_iovecs() {
    auto& iov = *iov_;
    while (iov_pos_ < iov.size()) {
        msghdr msg{};
        msg.msg_iov = iov.data() + iov_pos_;
        msg.msg_iovlen = std::min<std::size_t>(iov.size() - iov_pos_, IOV_MAX);
        const auto n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (counters_ != nullptr) {
            counters_->socket_writes->inc();
        }
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
        metrics::add_outbox_bytes(-n);
        outbox_counted_ -= n;
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

void socket_connection::wait_writable() {
    // The shard's iovec scratch is shared: keep what is left of ours in our own vector.
    if (iov_ != &pending_iov_) {
        pending_iov_.assign(iov_->begin() + static_cast<std::ptrdiff_t>(iov_pos_), iov_->end());
        iov_->clear();
        iov_ = &pending_iov_;
        iov_pos_ = 0;
    }
    write_waiting_ = true;
    // Backpressure: while the peer does not take our output, read nothing more from it (every
    // byte read may ask for a reply), so what it sends waits in the kernel, not here.
    io_.watch(fd_, token_, false, true);
    if (write_deadline_ == time_point{}) { // the write's first wait starts its clock
        write_deadline_ = std::chrono::steady_clock::now() + write_timeout();
        if (session_) {
            endpoint_.connections->wake(shard_, this, write_deadline_);
        }
    }
}

// ---- closing ---------------------------------------------------------------------------------

void socket_connection::finish() {
    if (finished_) {
        return;
    }
    finished_ = true;
    closing_ = true;
    endpoint_.connections->remove(shard_, this);
    on_finished();
    if (session_) {
        session_->on_transport_closed();
    }
    io_.remove(fd_, token_); // drops the poller's reference on a later turn
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
    sending_.clear();
    batch_.clear();
    metrics::add_outbox_bytes(-outbox_counted_); // what the kernel never took
    outbox_counted_ = 0;
}

} // namespace gyre::transport
