// File: transport/socket_connection.hpp
// What every client transport on a raw socket shares (WebSocket, HTTP-streaming, SSE and their
// unidirectional forms): the socket sits in the shard's poller; a ready socket is read into one
// buffer per shard; the session's batch leaves in one sendmsg() of gathered iovecs, and only
// what the kernel does not take waits for writability; a close queues its last bytes, sends
// them after the write in flight and ends the connection (dropping a peer that never reads
// after a grace period). Subclasses decide the framing: how a batch becomes iovecs, what
// incoming bytes mean, which bytes end the connection.
// Bounds against a peer that does not read: while a write waits for the socket, the peer is not
// read either (every byte read may ask for output), a write that has waited write_timeout()
// drops the connection (3009), and a pong replaces the one not sent yet instead of queueing.
#pragma once

#include "metrics/catalog.hpp"
#include "session/context.hpp"
#include "session/transport.hpp"
#include "transport/poller.hpp"
#include "transport/registry.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <span>
#include <string>
#include <sys/uio.h>
#include <vector>

namespace gyre::session {
class session;
}

namespace gyre::transport {

class emulation_sessions;

/// What a transport endpoint needs from the server: the sessions' context, the connection
/// registry (ticks, shutdown) and, for HTTP emulation, the table of emulated sessions.
struct endpoint {
    session::context* ctx = nullptr;
    registry* connections = nullptr;
    emulation_sessions* emulation = nullptr;
};

class socket_connection : public session::transport,
                          public connection,
                          public poller::handler,
                          public std::enable_shared_from_this<socket_connection> {
public:
    socket_connection(endpoint ep, std::size_t shard, int fd, hub::wire w);
    socket_connection(const socket_connection&) = delete;
    socket_connection& operator=(const socket_connection&) = delete;
    virtual ~socket_connection();

    /// Registers the socket, queues `head` (the 101 or the response head, sent with the first
    /// write) and creates the session. False when the connection ended already.
    bool start(std::string head);

    // poller::handler
    void on_events(std::uint32_t events) override;

    // session::transport
    hub::wire wire_format() const noexcept override { return wire_; }

    void write(std::vector<shared_bytes>& messages) override;
    void close(model::disconnect d) override;
    void wake_at(time_point when) override;
    void defer(unique_function<void()> fn) override;

    const std::vector<std::pair<std::string, std::string>>&
    request_headers() const noexcept override {
        return request_headers_;
    }

    const std::string& header_user() const noexcept override { return header_user_; }

    /// client.user_id_http_header's value in the connection request ("" when absent).
    void header_user_from(std::string value) { header_user_ = std::move(value); }

    /// Keeps the headers of the connection request that some proxy forwards (`names`,
    /// lower-case; the backend's list, empty when no proxy forwards any).
    template <typename Headers>
    void keep_request_headers(const Headers& headers, const std::vector<std::string>& names) {
        for (const auto& [name, value] : headers) {
            std::string lower(name);
            for (auto& ch : lower) {
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            if (std::find(names.begin(), names.end(), lower) != names.end()) {
                request_headers_.emplace_back(std::move(lower), std::string(value));
            }
        }
    }

    // connection
    time_point tick(time_point now) override;
    void shutdown(model::disconnect d) override;

protected:
    /// Appends to `iov` the bytes that carry `batch` (never empty) as one frame or chunk. The
    /// iovecs may point into `batch` and into the subclass's members until the write ends.
    virtual void frame_batch(const std::vector<shared_bytes>& batch, std::vector<iovec>& iov) = 0;

    /// New bytes from the peer (valid during the call); false when the connection ended.
    virtual bool consume(std::span<char> fresh) = 0;

    /// The bytes that end the connection with `d` (close frame, disconnect push, last chunk).
    virtual std::string closing_bytes(const model::disconnect& d) = 0;

    /// Runs once when the connection ends (before the socket closes).
    virtual void on_finished() {}

    /// WebSocket waits for the peer's close frame after sending its own; streams do not.
    virtual bool awaits_peer_close() const noexcept { return false; }

    /// How long one write may wait for the socket before the connection is dropped (a peer
    /// that does not read). One second, as Centrifugo gives its streaming responses.
    virtual std::chrono::milliseconds write_timeout() const { return std::chrono::seconds(1); }

    /// Queues control bytes (a ping, ...) to leave after the current batch.
    void send_control(std::string_view bytes);

    /// Queues a pong, replacing one still waiting to be sent: RFC 6455 lets an endpoint answer
    /// only the latest of several pings, so a ping flood holds one pong, not one per ping.
    void send_pong(std::string_view frame);

    /// Starts closing with `last` as the final bytes (idempotent).
    void begin_close(std::string last);

    /// The peer closed its side (WebSocket close frame): ends the connection when our own
    /// closing bytes are out, else closes with `reply`.
    void on_peer_close(std::string reply);

    /// Ends the connection now: the session is told, the socket closed.
    void finish();

    session::session* current_session() const noexcept { return session_.get(); }

    bool closing() const noexcept { return closing_; }

    bool finished() const noexcept { return finished_; }

    endpoint endpoint_;
    std::size_t shard_;
    int fd_;

private:
    void on_readable();
    void send();
    void prepare();
    bool flush_iovecs();
    void wait_writable();
    bool write_timed_out(time_point now);

    poller& io_;
    poller::token token_ = 0;
    hub::wire wire_;
    std::shared_ptr<session::session> session_;
    std::vector<std::pair<std::string, std::string>> request_headers_;
    std::string header_user_;
    std::vector<shared_bytes> batch_;   ///< the session's next frame
    std::vector<shared_bytes> sending_; ///< the frame being written
    std::string control_;               ///< head, control and closing bytes to send
    std::string control_sending_;       ///< ... being written
    std::string pong_;                  ///< the latest pong, not sent yet (see send_pong)
    std::string pong_sending_;          ///< ... being written
    std::vector<iovec>* iov_ = nullptr; ///< the write's iovecs (shard scratch or pending_iov_)
    std::vector<iovec> pending_iov_;    ///< what the kernel did not take yet
    const metrics::transport_counters* counters_ = nullptr; ///< resolved on the first write
    std::int64_t outbox_counted_ = 0; ///< bytes of ours in gyre_transport_outbox_bytes
    std::size_t iov_pos_ = 0;
    std::chrono::steady_clock::time_point close_started_{};
    time_point write_deadline_{}; ///< the waiting write's end (set when it first has to wait)
    static constexpr std::chrono::seconds close_grace{5};
    bool write_waiting_ = false;
    bool notifying_ = false;
    bool closing_ = false;
    bool close_queued_ = false;
    bool close_sent_ = false;
    bool peer_closed_ = false;
    bool finished_ = false;
};

} // namespace gyre::transport
