// File: engine/redis/link.hpp
// The socket half shared by connection (request/reply) and subscriber (PUB/SUB): connect with a
// deadline, TLS when the address asks for it, AUTH/SELECT handshake, coalesced writes, RESP
// parsing, and reconnect with jittered exponential backoff. In Sentinel mode each connect first
// asks the Sentinels where the master is, checks ROLE after the handshake, and drops the
// connection when a Sentinel reports a new master, so the reconnect lands on it (subscribers then
// subscribe again). Single-threaded: every call on the owning shard's io_context thread.
#pragma once

#include "core/unique_function.hpp"
#include "engine/redis/address.hpp"
#include "engine/redis/reply.hpp"
#include "engine/redis/resp.hpp"

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
template <typename Stream>
class stream;
} // namespace boost::asio::ssl

namespace gyre::engine::redis {

class sentinel_watch;

enum class link_state { connecting, connected, disconnected, stopped };

const char* to_string(link_state s) noexcept;

struct backoff_options {
    std::chrono::milliseconds initial{50};
    std::chrono::milliseconds max{2000};
};

class link : public std::enable_shared_from_this<link> {
public:
    link(const link&) = delete;
    link& operator=(const link&) = delete;
    virtual ~link();

    /// Begins connecting; reconnects by itself until stop().
    void start();
    /// Closes the socket for good; pending work fails with "stopped".
    void stop();

    link_state state() const noexcept { return state_; }

    /// Why the last connection attempt or connection failed; empty when none did.
    const std::string& last_error() const noexcept { return last_error_; }

    void on_state_change(unique_function<void(link_state)> hook) { state_hook_ = std::move(hook); }

    const address& target() const noexcept { return address_; }

    /// The server dialled last: host:port, or the master the Sentinels named.
    const endpoint& current_endpoint() const noexcept { return current_; }

    /// Number of socket writes issued so far; tests use it to check coalescing.
    std::uint64_t write_count() const noexcept { return write_count_; }

    std::uint64_t connect_count() const noexcept { return connect_count_; }

protected:
    link(boost::asio::io_context& context, address target, backoff_options backoff);

    /// Appends to the outgoing buffer; one flush per loop turn sends everything queued.
    void enqueue_bytes(const std::vector<std::string>& command);

    bool has_queued_bytes() const noexcept { return !outgoing_.empty(); }

    /// Drops the current connection with `why` and schedules a reconnect.
    void fail(const std::string& why);

    boost::asio::io_context& context() noexcept { return context_; }

    virtual void handle_ready() = 0;                      ///< handshake done, connected
    virtual void handle_reply(reply r) = 0;               ///< a reply after the handshake
    virtual void handle_down(const std::string& why) = 0; ///< connection lost or attempt failed
    /// Whether a reply is outstanding; arms the io_timeout watchdog.
    virtual bool awaiting_replies() const noexcept = 0;

private:
    using tls_stream = boost::asio::ssl::stream<boost::asio::generic::stream_protocol::socket&>;
    enum class handshake_step { auth, select, setname, role };

    void set_state(link_state s);
    void connect();
    void dial();
    void start_tls();
    void on_connected();
    void on_ready();
    void handle_handshake_reply(const reply& r);
    void read_more();
    void start_write(std::string bytes);
    void schedule_flush();
    void flush();
    void arm_io_watchdog();
    void schedule_reconnect();
    void close_socket();
    std::string label() const;

    template <typename Handler>
    void async_read_some(Handler&& handler);
    template <typename Handler>
    void async_write_all(const std::shared_ptr<std::string>& bytes, Handler&& handler);

    boost::asio::io_context& context_;
    address address_;
    backoff_options backoff_;
    link_state state_ = link_state::disconnected;
    std::string last_error_;
    unique_function<void(link_state)> state_hook_;

    endpoint current_;
    std::shared_ptr<sentinel_watch> sentinel_;               ///< Sentinel mode only
    std::shared_ptr<boost::asio::ssl::context> tls_context_; ///< built at the first TLS connect
    /// Per connection; handlers hold a copy, so a stream outlives its cancelled operations.
    std::shared_ptr<tls_stream> tls_;
    boost::asio::generic::stream_protocol::socket socket_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer io_timer_;
    std::uint64_t generation_ = 0; ///< bumps per connection so stale handlers do nothing

    reply_parser parser_;
    std::vector<char> read_buffer_;
    std::string outgoing_;
    bool write_in_progress_ = false;
    bool flush_posted_ = false;
    std::deque<handshake_step> handshake_; ///< replies still expected, in order
    std::chrono::steady_clock::time_point last_progress_{};
    bool io_timer_armed_ = false;
    bool started_ = false;
    bool idle_ = true; ///< no reply outstanding since the last read

    std::chrono::milliseconds next_delay_{};
    std::minstd_rand jitter_;
    std::uint64_t write_count_ = 0;
    std::uint64_t connect_count_ = 0;
};

} // namespace gyre::engine::redis
