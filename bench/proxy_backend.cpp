// proxy_backend: a tiny application backend for the proxy benchmarks (bench/proxy.sh). An
// HTTP/1.1 keep-alive server on one epoll loop that answers every POST with a fixed JSON body
// chosen by the request path, so that the backend costs as little as possible and the figures
// measure Gyre's proxy path, not the backend:
//
//   /connect    {"result":{"user":"bench"}}
//   /rpc        {"result":{"data":{"ok":true}}}
//   /publish    {"result":{}}
//   /subscribe, /refresh, /sub_refresh   {"result":{}}
//   anything else: 404
//
//   proxy_backend [--port P] [--address 127.0.0.1]
//
// --port 0 (the default) takes a free port. Once listening, it prints "port=<P>" on stdout. On
// SIGTERM or SIGINT it prints one JSON line on stderr with the requests answered per path and the
// connections accepted (Gyre pools its connections to the backend: many accepted connections
// mean the pool churned), then exits 0. Pipelined requests are answered in order. Standard
// library and POSIX only, so it builds in seconds.

#include "tool_support.hpp"

#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& msg) {
    std::cerr << "proxy_backend: " << msg << '\n';
    std::_Exit(2);
}

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) {
    stop_requested = 1;
}

struct route {
    std::string_view path;
    std::string_view body;
    std::string response; // the whole HTTP response, built once
    std::uint64_t count = 0;
};

std::vector<route> make_routes() {
    std::vector<route> routes{
        {"/connect", R"({"result":{"user":"bench"}})", {}},
        {"/rpc", R"({"result":{"data":{"ok":true}}})", {}},
        {"/publish", R"({"result":{}})", {}},
        {"/subscribe", R"({"result":{}})", {}},
        {"/refresh", R"({"result":{}})", {}},
        {"/sub_refresh", R"({"result":{}})", {}},
    };
    for (auto& r : routes) {
        r.response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(r.body.size()) + "\r\n\r\n" + std::string(r.body);
    }
    return routes;
}

constexpr std::string_view not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

bool iequals_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) {
            return false;
        }
    }
    return true;
}

struct conn {
    int fd = -1;
    std::string in;
    std::string out;
};

class server {
public:
    explicit server(int listen_fd)
        : listen_(listen_fd)
        , routes_(make_routes()) {}

    void run() {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            die("epoll_create1: " + gyre::bench::errno_text());
        }
        add(listen_, EPOLLIN, listen_);
        std::array<epoll_event, 512> evs{};
        std::vector<char> buf(1 << 16);
        while (stop_requested == 0) {
            const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 200);
            for (int i = 0; i < n; ++i) {
                const int fd = evs[static_cast<std::size_t>(i)].data.fd;
                if (fd == listen_) {
                    accept_all();
                    continue;
                }
                conn& c = conns_[static_cast<std::size_t>(fd)];
                if ((evs[static_cast<std::size_t>(i)].events & EPOLLOUT) != 0) {
                    flush(c);
                }
                if (c.fd >= 0 && (evs[static_cast<std::size_t>(i)].events & ~EPOLLOUT) != 0) {
                    readable(c, buf);
                }
            }
        }
        std::cerr << "{\"accepted\":" << accepted_;
        for (const auto& r : routes_) {
            std::cerr << ",\"" << r.path.substr(1) << "\":" << r.count;
        }
        std::cerr << ",\"not_found\":" << not_found_ << "}\n";
    }

private:
    void add(int fd, std::uint32_t events, int key) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = key;
        if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            die("epoll_ctl: " + gyre::bench::errno_text());
        }
    }

    void accept_all() {
        for (;;) {
            const int fd = accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                return; // EAGAIN, or a transient error: the next wake-up retries
            }
            ++accepted_;
            const int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (conns_.size() <= static_cast<std::size_t>(fd)) {
                conns_.resize(static_cast<std::size_t>(fd) + 1);
            }
            conns_[static_cast<std::size_t>(fd)] = conn{fd, {}, {}};
            add(fd, EPOLLIN | EPOLLRDHUP, fd);
        }
    }

    void close_conn(conn& c) {
        close(c.fd); // also leaves the epoll set
        c = conn{};
    }

    void readable(conn& c, std::vector<char>& buf) {
        for (;;) {
            const ssize_t n = recv(c.fd, buf.data(), buf.size(), 0);
            if (n > 0) {
                c.in.append(buf.data(), static_cast<std::size_t>(n));
                if (static_cast<std::size_t>(n) < buf.size()) {
                    break;
                }
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            }
            close_conn(c); // EOF or error
            return;
        }
        answer(c);
        if (c.fd >= 0) {
            flush(c);
        }
    }

    // Answers every complete request in c.in, in order.
    void answer(conn& c) {
        std::size_t pos = 0;
        for (;;) {
            const auto head_end = c.in.find("\r\n\r\n", pos);
            if (head_end == std::string::npos) {
                break;
            }
            const std::string_view head(c.in.data() + pos, head_end - pos);
            std::size_t length = 0;
            std::size_t line = head.find("\r\n");
            while (line != std::string_view::npos) {
                const std::size_t next = head.find("\r\n", line + 2);
                const std::string_view h = head.substr(
                    line + 2, (next == std::string_view::npos ? head.size() : next) - line - 2);
                if (iequals_prefix(h, "content-length:")) {
                    std::string_view v = h.substr(15);
                    while (!v.empty() && v.front() == ' ') {
                        v.remove_prefix(1);
                    }
                    length = gyre::bench::parse_number<std::size_t>(v).value_or(0);
                }
                line = next;
            }
            const std::size_t end = head_end + 4 + length;
            if (c.in.size() < end) {
                break;
            }
            // "POST /path HTTP/1.1"
            const auto sp1 = head.find(' ');
            const auto sp2 = head.find(' ', sp1 + 1);
            std::string_view target = sp1 == std::string_view::npos || sp2 == std::string_view::npos
                                          ? std::string_view{}
                                          : head.substr(sp1 + 1, sp2 - sp1 - 1);
            target = target.substr(0, target.find('?'));
            bool found = false;
            for (auto& r : routes_) {
                if (r.path == target) {
                    c.out += r.response;
                    ++r.count;
                    found = true;
                    break;
                }
            }
            if (!found) {
                c.out += not_found;
                ++not_found_;
            }
            pos = end;
        }
        c.in.erase(0, pos);
    }

    void flush(conn& c) {
        while (!c.out.empty()) {
            const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
            if (n > 0) {
                c.out.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            }
            close_conn(c);
            return;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0U : static_cast<unsigned>(EPOLLOUT));
        ev.data.fd = c.fd;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    int listen_;
    int ep_ = -1;
    std::vector<route> routes_;
    std::vector<conn> conns_;
    std::uint64_t accepted_ = 0;
    std::uint64_t not_found_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    int port = 0;
    std::string address = "127.0.0.1";
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if ((a == "--port" || a == "--address") && i + 1 < argc) {
            const std::string_view v = argv[++i];
            if (a == "--port") {
                port = gyre::bench::parse_number<int>(v).value_or(-1);
                if (port < 0 || port > 65535) {
                    die("bad --port");
                }
            } else {
                address = std::string(v);
            }
        } else {
            std::cout << "usage: proxy_backend [--port P (0: any free port)] [--address A]\n";
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    std::signal(SIGPIPE, SIG_IGN);

    struct sigaction sa {};

    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die("socket: " + gyre::bench::errno_text());
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) {
        die("bad --address " + address);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4096) != 0) {
        die("bind/listen: " + gyre::bench::errno_text());
    }
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    std::cout << "port=" << ntohs(a.sin_port) << std::endl;
    server(fd).run();
    return 0;
}
