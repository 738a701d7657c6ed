#include "transport/poller.hpp"

#include <boost/asio/post.hpp>

#include <array>
#include <stdexcept>
#include <sys/epoll.h>
#include <system_error>
#include <unistd.h>

namespace gyre::transport {

namespace {

constexpr std::uint32_t read_events = EPOLLIN | EPOLLRDHUP;

constexpr poller::token make_token(std::uint32_t index, std::uint32_t generation) noexcept {
    return (static_cast<std::uint64_t>(generation) << 32) | index;
}

} // namespace

poller::poller(boost::asio::io_context& ctx)
    : ctx_(ctx)
    , watch_(ctx) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "epoll_create1");
    }
    watch_.assign(epoll_fd_);
}

poller::~poller() {
    boost::system::error_code ignored;
    watch_.close(ignored); // closes epoll_fd_
}

void poller::start() {
    arm();
}

void poller::arm() {
    watch_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& ec) {
                          if (!ec) {
                              drain();
                              arm();
                          }
                      });
}

void poller::drain() {
    std::array<epoll_event, 256> events{};
    // A few batches per wake-up: a storm of ready sockets is served without starving timers
    // and posted work for long.
    for (int round = 0; round < 4; ++round) {
        const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
        if (n <= 0) {
            return;
        }
        for (int i = 0; i < n; ++i) {
            slot* s = find(events[static_cast<std::size_t>(i)].data.u64);
            if (s == nullptr) {
                continue; // removed by an earlier event of this batch
            }
            const auto keep = s->h; // the handler may remove itself
            keep->on_events(events[static_cast<std::size_t>(i)].events);
        }
        if (static_cast<std::size_t>(n) < events.size()) {
            return;
        }
    }
}

poller::slot* poller::find(token t) noexcept {
    const auto index = static_cast<std::uint32_t>(t);
    const auto generation = static_cast<std::uint32_t>(t >> 32);
    if (index >= slots_.size()) {
        return nullptr;
    }
    slot& s = slots_[index];
    return (s.h && s.generation == generation) ? &s : nullptr;
}

poller::token poller::add(int fd, std::shared_ptr<handler> h) {
    std::uint32_t index;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    slot& s = slots_[index];
    ++s.generation;
    if (s.generation == 0) {
        s.generation = 1; // token 0 means "not registered"
    }
    const token t = make_token(index, s.generation);
    epoll_event ev{};
    ev.events = read_events;
    ev.data.u64 = t;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        free_.push_back(index);
        return 0;
    }
    s.h = std::move(h);
    ++live_;
    return t;
}

void poller::watch(int fd, token t, bool read, bool write) {
    if (find(t) == nullptr) {
        return;
    }
    epoll_event ev{};
    ev.events = (read ? read_events : 0U) | (write ? EPOLLOUT : 0U);
    ev.data.u64 = t;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void poller::remove(int fd, token t) {
    slot* s = find(t);
    if (s == nullptr) {
        return;
    }
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    // Released on a later turn, since remove() may run inside the handler's own code; and
    // kept here rather than in a posted task, so that handlers still waiting when the server
    // stops die with the poller (before the node they use), not with the io_context.
    if (released_.empty()) {
        boost::asio::post(ctx_, [this] { released_.clear(); });
    }
    released_.push_back(std::move(s->h));
    free_.push_back(static_cast<std::uint32_t>(t));
    --live_;
}

} // namespace gyre::transport
