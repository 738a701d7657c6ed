// File: transport/poller.hpp
// One epoll set per shard for the client connections' sockets, next to Asio's reactor (which
// watches only this set's descriptor). Level-triggered, never re-armed: a ready socket costs
// one read and no epoll_ctl, where an Asio read or wait costs a re-arm or a speculative read
// per message, and an idle connection keeps no pending operation and no reactor state.
// Shard-local: every call comes from the shard's own thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace gyre::transport {

class poller {
public:
    class handler {
    public:
        /// EPOLLIN / EPOLLOUT / EPOLLRDHUP / EPOLLHUP / EPOLLERR bits of a ready socket.
        virtual void on_events(std::uint32_t events) = 0;

    protected:
        handler() = default;
        handler(const handler&) = default;
        handler& operator=(const handler&) = default;
        ~handler() = default;
    };

    /// Identifies a registration; stale events for a removed one are dropped.
    using token = std::uint64_t;

    explicit poller(boost::asio::io_context& ctx);
    ~poller();
    poller(const poller&) = delete;
    poller& operator=(const poller&) = delete;

    /// Starts watching (call once, before or on the shard's thread).
    void start();

    /// Watches `fd` for input and keeps `h` alive until remove(); 0 when epoll refused it.
    token add(int fd, std::shared_ptr<handler> h);

    /// Reports when `fd` can take more output (`write`), and whether it has input or was shut
    /// down by the peer (`read`; off: the peer is not read at all, as backpressure). Errors
    /// and hang-ups are always reported.
    void watch(int fd, token t, bool read, bool write);

    /// Stops watching `fd` (before it is closed). The handler is released after the current
    /// handler returns, never inside it.
    void remove(int fd, token t);

    boost::asio::io_context& context() noexcept { return ctx_; }

    std::size_t size() const noexcept { return live_; }

private:
    struct slot {
        std::shared_ptr<handler> h;
        std::uint32_t generation = 0;
    };

    void arm();
    void drain();
    slot* find(token t) noexcept;

    boost::asio::io_context& ctx_;
    int epoll_fd_ = -1;
    boost::asio::posix::stream_descriptor watch_;
    std::vector<slot> slots_;
    std::vector<std::uint32_t> free_;
    std::vector<std::shared_ptr<handler>> released_; ///< removed, dropped on the next turn
    std::size_t live_ = 0;
};

} // namespace gyre::transport
