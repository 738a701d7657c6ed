// proxy_load: a WebSocket (JSON protocol) load generator for the proxy benchmarks
// (bench/proxy.sh). One thread, one epoll loop; standard library and POSIX only.
//
//   proxy_load connect --port P --conns N [--concurrency C] [--token JWT] [--timeout S]
//                      [--server-pid PID] [--backend-pid PID]
//
//     Opens N WebSocket connections to /connection/websocket, at most C (default 500) of them
//     between socket() and their connect reply, and sends {"id":1,"connect":{…}} on each (with
//     the token, or without one: then the connect proxy decides). A connection counts as
//     connected when the reply carries "connect", as failed on an error reply, a close frame or
//     a dropped socket. The connections stay open until every one has settled. Prints one JSON
//     object: connections per second (N / time from the first socket() to the last reply),
//     per-connection connect latency p50/p99 (socket() to reply) and the CPU of the server, the
//     backend and this tool per connection.
//
//   proxy_load calls --port P --conns M [--token JWT] --kind rpc|publish [--method ping]
//                    [--channel C] [--rate R] [--inflight K] [--duration S] [--warmup W]
//                    [--server-pid PID] [--backend-pid PID]
//
//     Connects M clients, then sends commands for W + S seconds: rpc {"method":…,"data":{…}} or
//     publish {"channel":…,"data":{…}}. --rate R > 0 is open loop: R commands per second in
//     total, round-robin over the connections, latency measured from each command's scheduled
//     time (so a stalled server shows up in the latency, not as a lower rate); --rate 0 is
//     closed loop: each connection keeps K commands in flight (default 1), for the maximum rate.
//     Replies in the last S seconds are counted. Prints one JSON object: calls per second,
//     p50/p90/p99/max ms, errors (replies with "error"), CPU per call.
//
// Server pings ({}) are answered with {}. Exit status 1 if any connection failed or any call
// got an error, so a script can check a run.

#include "tool_support.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace {

using u64 = std::uint64_t;

[[noreturn]] void die(const std::string& msg) {
    std::cerr << "proxy_load: " << msg << '\n';
    std::_Exit(2);
}

u64 now_ns() {
    return static_cast<u64>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count());
}

struct options {
    std::string mode;
    std::string host = "127.0.0.1";
    int port = 8000;
    std::string path = "/connection/websocket";
    int conns = 100;
    int concurrency = 500;
    std::string token;
    double timeout_s = 60;
    int server_pid = 0;
    int backend_pid = 0;
    std::string kind = "rpc";
    std::string method = "ping";
    std::string channel = "bench";
    double rate = 0;
    int inflight = 1;
    double duration_s = 5;
    double warmup_s = 1;
};

options parse_args(int argc, char** argv) {
    if (argc < 2 || std::string_view(argv[1]) == "--help") {
        std::cout
            << "usage: proxy_load connect|calls --port P --conns N [options] (see the source)\n";
        std::exit(argc < 2 ? 2 : 0);
    }
    options o;
    o.mode = argv[1];
    if (o.mode != "connect" && o.mode != "calls") {
        die("mode must be connect or calls");
    }
    auto num = [](std::string_view f, std::string_view v) {
        const auto d = gyre::bench::parse_number<double>(v);
        if (!d) {
            die("bad value for " + std::string(f) + ": " + std::string(v));
        }
        return *d;
    };
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            die(std::string("missing value for ") + argv[i]);
        }
        const std::string_view f = argv[i];
        const std::string v = argv[i + 1];
        if (f == "--host") {
            o.host = v;
        } else if (f == "--port") {
            o.port = static_cast<int>(num(f, v));
        } else if (f == "--path") {
            o.path = v;
        } else if (f == "--conns") {
            o.conns = static_cast<int>(num(f, v));
        } else if (f == "--concurrency") {
            o.concurrency = static_cast<int>(num(f, v));
        } else if (f == "--token") {
            o.token = v;
        } else if (f == "--timeout") {
            o.timeout_s = num(f, v);
        } else if (f == "--server-pid") {
            o.server_pid = static_cast<int>(num(f, v));
        } else if (f == "--backend-pid") {
            o.backend_pid = static_cast<int>(num(f, v));
        } else if (f == "--kind") {
            if (v != "rpc" && v != "publish") {
                die("--kind must be rpc or publish");
            }
            o.kind = v;
        } else if (f == "--method") {
            o.method = v;
        } else if (f == "--channel") {
            o.channel = v;
        } else if (f == "--rate") {
            o.rate = num(f, v);
        } else if (f == "--inflight") {
            o.inflight = static_cast<int>(num(f, v));
        } else if (f == "--duration") {
            o.duration_s = num(f, v);
        } else if (f == "--warmup") {
            o.warmup_s = num(f, v);
        } else {
            die("unknown flag " + std::string(f));
        }
    }
    if (o.conns < 1 || o.concurrency < 1 || o.inflight < 1) {
        die("--conns, --concurrency and --inflight must be positive");
    }
    return o;
}

// ------------------------------------------------------------------------------ WebSocket

// A client frame (masked, as RFC 6455 requires); the mask is fixed: this is a load tool.
void ws_frame(std::string& out, unsigned opcode, std::string_view payload) {
    out += static_cast<char>(0x80 | opcode);
    const std::size_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(0x80 | n);
    } else if (n < 65536) {
        out += static_cast<char>(0x80 | 126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xff);
    } else {
        out += static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i) {
            out += static_cast<char>((n >> (8 * i)) & 0xff);
        }
    }
    static constexpr std::array<unsigned char, 4> mask{0x12, 0x34, 0x56, 0x78};
    for (unsigned char m : mask) {
        out += static_cast<char>(m);
    }
    for (std::size_t i = 0; i < n; ++i) {
        out += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i & 3]);
    }
}

enum class cstate : std::uint8_t { idle, tcp, upgrade, handshake, ready, dead };

struct client {
    int fd = -1;
    cstate st = cstate::idle;
    int inflight = 0;
    u64 opened_ns = 0;
    std::string in;
    std::string out;
    std::string frag;
};

struct stats {
    u64 connected = 0, failed = 0;
    u64 calls_ok = 0, call_errors = 0;
    std::vector<std::uint32_t> lat_us; // connect latency (connect mode) or call latency
    std::string first_error;

    void error(std::string_view e) {
        if (first_error.empty()) {
            first_error = std::string(e.substr(0, 200));
        }
    }
};

std::string json_escape(std::string_view s) {
    std::string o;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            o += ' ';
        } else {
            o += ch;
        }
    }
    return o;
}

// The value of "id" in a reply line, or 0 when it has none (a push).
std::uint32_t reply_id(std::string_view line) {
    const auto p = line.find("\"id\":");
    if (p == std::string_view::npos) {
        return 0;
    }
    std::uint32_t v = 0;
    for (std::size_t i = p + 5; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
        v = v * 10 + static_cast<std::uint32_t>(line[i] - '0');
    }
    return v;
}

class loop {
public:
    explicit loop(const options& o)
        : o_(o)
        , clients_(static_cast<std::size_t>(o.conns)) {
        upgrade_ = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) +
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: Z3lyZS1wcm94eS1sb2FkIQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n";
        const std::string cmd = o.token.empty()
                                    ? R"({"id":1,"connect":{}})"
                                    : R"({"id":1,"connect":{"token":")" + o.token + "\"}}";
        ws_frame(connect_frame_, 1, cmd);
        ws_frame(pong_frame_, 1, "{}");
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            die("epoll_create1: " + gyre::bench::errno_text());
        }
        addr_.sin_family = AF_INET;
        addr_.sin_port = htons(static_cast<std::uint16_t>(o.port));
        if (inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr) != 1) {
            die("--host must be an IPv4 address");
        }
    }

    // Opens every connection (at most --concurrency unsettled at a time) and waits until all
    // have settled or --timeout passed. Returns the seconds it took.
    double connect_all() {
        const u64 t0 = now_ns();
        const u64 deadline = t0 + static_cast<u64>(o_.timeout_s * 1e9);
        std::size_t next = 0;
        while (settled() < clients_.size()) {
            while (next < clients_.size() &&
                   next - settled() < static_cast<std::size_t>(o_.concurrency)) {
                open(clients_[next], next);
                ++next;
            }
            poll(5);
            if (now_ns() > deadline) {
                for (auto& c : clients_) {
                    if (c.st != cstate::ready && c.st != cstate::dead) {
                        fail(c, "connect timeout");
                    }
                }
                st_.failed += clients_.size() - next; // never opened
                break;
            }
        }
        return static_cast<double>(now_ns() - t0) / 1e9;
    }

    // Sends commands for warm-up + duration; latencies are kept for the measured part only.
    // Returns the measured seconds.
    double run_calls() {
        measuring_ = false;
        const u64 t0 = now_ns();
        const u64 t_measure = t0 + static_cast<u64>(o_.warmup_s * 1e9);
        const u64 t_end = t_measure + static_cast<u64>(o_.duration_s * 1e9);
        std::vector<std::size_t> ready;
        for (std::size_t i = 0; i < clients_.size(); ++i) {
            if (clients_[i].st == cstate::ready) {
                ready.push_back(i);
            }
        }
        if (ready.empty()) {
            die("no connection is ready");
        }
        u64 sent = 0;
        std::size_t rr = 0;
        if (o_.rate <= 0) {
            for (std::size_t i : ready) {
                for (int k = 0; k < o_.inflight; ++k) {
                    send_call(clients_[i], now_ns());
                }
            }
        }
        for (;;) {
            const u64 t = now_ns();
            if (!measuring_ && t >= t_measure) {
                measuring_ = true;
                cpu_start_ = cpu_sample();
            }
            if (t >= t_end) {
                break;
            }
            if (o_.rate > 0) {
                // Open loop: every command due by now (command k is due at t0 + k / rate),
                // each stamped with its scheduled time.
                const double elapsed = static_cast<double>(t - t0) / 1e9;
                const auto due = static_cast<u64>(elapsed * o_.rate) + 1;
                while (sent < due) {
                    send_call(clients_[ready[rr++ % ready.size()]], sched_ns(t0, sent));
                    ++sent;
                }
                // Sleep until the next command is due (or a reply comes), to the microsecond.
                const u64 next = sched_ns(t0, sent);
                poll_ns(next > t ? std::min<u64>(next - t, 1'000'000) : 0);
            } else {
                poll_ns(1'000'000);
            }
        }
        measuring_ = false;
        cpu_end_ = cpu_sample();
        return static_cast<double>(t_end - t_measure) / 1e9;
    }

    struct cpu {
        double server = 0, backend = 0, self = 0;
        double server_wait = 0; // seconds the server's threads were runnable but not running
    };

    cpu cpu_sample() const {
        auto of = [](int pid) {
            return pid > 0 ? gyre::bench::proc_cpu_seconds(pid).value_or(0) : 0.0;
        };
        return cpu{of(o_.server_pid),
                   of(o_.backend_pid),
                   gyre::bench::self_cpu_seconds(),
                   run_delay_s(o_.server_pid)};
    }

    // The sum over a process's threads of /proc/PID/task/TID/schedstat's second field: the time
    // spent waiting on a run queue. On a shared machine this tells a server starved of its core
    // from one that had nothing to do.
    static double run_delay_s(int pid) {
        if (pid <= 0) {
            return 0;
        }
        double total = 0;
        const std::string dir = "/proc/" + std::to_string(pid) + "/task";
        for (const auto& e : std::filesystem::directory_iterator(
                 dir, std::filesystem::directory_options::skip_permission_denied)) {
            std::ifstream f(e.path() / "schedstat");
            unsigned long long run = 0;
            unsigned long long wait = 0;
            if (f >> run >> wait) {
                total += static_cast<double>(wait) / 1e9;
            }
        }
        return total;
    }

    stats& result() { return st_; }

    cpu cpu_start_, cpu_end_;

private:
    std::size_t settled() const { return st_.connected + st_.failed; }

    void open(client& c, std::size_t index) {
        c.opened_ns = now_ns();
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            c.st = cstate::dead;
            ++st_.failed;
            st_.error("socket: " + gyre::bench::errno_text());
            return;
        }
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const int r = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_);
        if (r != 0 && errno != EINPROGRESS) {
            fail(c, "connect: " + gyre::bench::errno_text());
            return;
        }
        c.st = cstate::tcp;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u64 = index;
        epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    }

    void fail(client& c, std::string_view why) {
        if (c.st != cstate::ready) {
            ++st_.failed;
        } else {
            st_.error("a ready connection was dropped");
            ++dropped_;
        }
        st_.error(why);
        if (c.fd >= 0) {
            close(c.fd);
        }
        c.fd = -1;
        c.st = cstate::dead;
    }

    u64 sched_ns(u64 t0, u64 k) const {
        return t0 + static_cast<u64>(static_cast<double>(k) / o_.rate * 1e9);
    }

    void poll(int timeout_ms) { poll_ns(static_cast<u64>(timeout_ms) * 1'000'000); }

    void poll_ns(u64 timeout) {
        std::array<epoll_event, 1024> evs{};
        const timespec ts{static_cast<time_t>(timeout / 1'000'000'000),
                          static_cast<long>(timeout % 1'000'000'000)};
        const int n = epoll_pwait2(ep_, evs.data(), static_cast<int>(evs.size()), &ts, nullptr);
        for (int i = 0; i < n; ++i) {
            const epoll_event& ev = evs[static_cast<std::size_t>(i)];
            client& c = clients_[ev.data.u64];
            if (c.st == cstate::dead) {
                continue;
            }
            if (c.st == cstate::tcp) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    fail(c, "connect: " + gyre::bench::errno_text(err));
                    continue;
                }
                c.st = cstate::upgrade;
                c.out = upgrade_;
                flush(c);
                continue;
            }
            if ((ev.events & EPOLLOUT) != 0) {
                flush(c);
            }
            if (c.st != cstate::dead &&
                (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) {
                readable(c);
            }
        }
    }

    void flush(client& c) {
        while (!c.out.empty()) {
            const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
            if (n > 0) {
                c.out.erase(0, static_cast<std::size_t>(n));
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else {
                fail(c, "send: " + gyre::bench::errno_text());
                return;
            }
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0U : static_cast<unsigned>(EPOLLOUT));
        ev.data.u64 = static_cast<u64>(&c - clients_.data());
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void readable(client& c) {
        for (;;) {
            const ssize_t n = recv(c.fd, buf_.data(), buf_.size(), 0);
            if (n > 0) {
                c.in.append(buf_.data(), static_cast<std::size_t>(n));
                if (static_cast<std::size_t>(n) < buf_.size()) {
                    break;
                }
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else {
                fail(c, n == 0 ? "closed by the server" : "recv: " + gyre::bench::errno_text());
                return;
            }
        }
        if (c.st == cstate::upgrade) {
            const auto end = c.in.find("\r\n\r\n");
            if (end == std::string::npos) {
                return;
            }
            if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
                fail(c, "upgrade refused: " + c.in.substr(0, c.in.find("\r\n")));
                return;
            }
            c.in.erase(0, end + 4);
            c.st = cstate::handshake;
            c.out += connect_frame_;
            flush(c);
            if (c.st == cstate::dead) {
                return;
            }
        }
        frames(c);
        if (c.st != cstate::dead && !c.out.empty()) {
            flush(c);
        }
    }

    // Every complete server frame in c.in (unmasked, as servers send them).
    void frames(client& c) {
        std::size_t pos = 0;
        while (c.in.size() - pos >= 2) {
            const auto* p = reinterpret_cast<const unsigned char*>(c.in.data() + pos);
            const unsigned op = p[0] & 0x0f;
            const bool fin = (p[0] & 0x80) != 0;
            u64 len = p[1] & 0x7f;
            std::size_t head = 2;
            if (len == 126) {
                if (c.in.size() - pos < 4) {
                    break;
                }
                len = (u64{p[2]} << 8) | p[3];
                head = 4;
            } else if (len == 127) {
                if (c.in.size() - pos < 10) {
                    break;
                }
                len = 0;
                for (int i = 0; i < 8; ++i) {
                    len = (len << 8) | p[2 + i];
                }
                head = 10;
            }
            if (c.in.size() - pos < head + len) {
                break;
            }
            const std::string_view payload(c.in.data() + pos + head, static_cast<std::size_t>(len));
            pos += head + static_cast<std::size_t>(len);
            if (op == 8) { // close: a disconnect
                std::string why = "close frame";
                if (payload.size() >= 2) {
                    why += " " +
                           std::to_string((static_cast<unsigned char>(payload[0]) << 8) |
                                          static_cast<unsigned char>(payload[1])) +
                           " " + std::string(payload.substr(2));
                }
                fail(c, why);
                return;
            }
            if (op == 9) {
                ws_frame(c.out, 10, payload);
                continue;
            }
            if (op == 10) {
                continue;
            }
            c.frag.append(payload);
            if (!fin) {
                continue;
            }
            message(c, c.frag);
            c.frag.clear();
            if (c.st == cstate::dead) {
                return;
            }
        }
        c.in.erase(0, pos);
    }

    // One text message: one or more JSON replies or pushes, one per line.
    void message(client& c, std::string_view msg) {
        while (!msg.empty()) {
            const auto nl = msg.find('\n');
            const std::string_view line = msg.substr(0, nl);
            msg = nl == std::string_view::npos ? std::string_view{} : msg.substr(nl + 1);
            if (line.empty()) {
                continue;
            }
            if (line == "{}") { // server ping
                c.out += pong_frame_;
                continue;
            }
            const std::uint32_t id = reply_id(line);
            if (id == 0) {
                continue; // a push
            }
            const bool error = line.find("\"error\":") != std::string_view::npos;
            if (c.st == cstate::handshake && id == 1) {
                if (error || line.find("\"connect\":") == std::string_view::npos) {
                    fail(c, "connect reply: " + std::string(line));
                    return;
                }
                c.st = cstate::ready;
                ++st_.connected;
                st_.lat_us.push_back(static_cast<std::uint32_t>((now_ns() - c.opened_ns) / 1000));
                continue;
            }
            call_reply(c, id, error, line);
        }
    }

    void send_call(client& c, u64 sched_ns) {
        const std::uint32_t id = next_id_++;
        const std::string n = std::to_string(id);
        std::string cmd = "{\"id\":" + n;
        if (o_.kind == "rpc") {
            cmd += R"(,"rpc":{"method":")" + o_.method + R"(","data":{"n":)" + n + "}}}";
        } else {
            cmd += R"(,"publish":{"channel":")" + o_.channel + R"(","data":{"n":)" + n + "}}}";
        }
        ws_frame(c.out, 1, cmd);
        pending_.emplace(id, sched_ns);
        ++c.inflight;
        flush(c);
    }

    void call_reply(client& c, std::uint32_t id, bool error, std::string_view line) {
        const auto it = pending_.find(id);
        if (it == pending_.end()) {
            return;
        }
        const u64 sched = it->second;
        pending_.erase(it);
        --c.inflight;
        if (measuring_) {
            if (error) {
                ++st_.call_errors;
                st_.error("call reply: " + std::string(line));
            } else {
                ++st_.calls_ok;
                st_.lat_us.push_back(static_cast<std::uint32_t>((now_ns() - sched) / 1000));
            }
        } else if (error) {
            ++st_.call_errors;
            st_.error("call reply (warm-up): " + std::string(line));
        }
        if (o_.rate <= 0) {
            send_call(c, now_ns()); // closed loop: the next one at once
        }
    }

public:
    u64 dropped_ = 0;
    bool measuring_ = false;

private:
    const options& o_;
    std::vector<client> clients_;
    sockaddr_in addr_{};
    int ep_ = -1;
    std::string upgrade_, connect_frame_, pong_frame_;
    std::array<char, 1 << 16> buf_{};
    std::unordered_map<std::uint32_t, u64> pending_;
    std::uint32_t next_id_ = 2;
    stats st_;
};

double percentile_ms(std::vector<std::uint32_t>& v, double q) {
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k] / 1000.0;
}

std::string fixed(double v, int prec) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(prec) << v;
    return s.str();
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse_args(argc, argv);
    loop l(o);
    std::ostringstream out;
    if (o.mode == "connect") {
        const auto c0 = l.cpu_sample();
        const double secs = l.connect_all();
        const auto c1 = l.cpu_sample();
        stats& s = l.result();
        const double n = static_cast<double>(std::max<u64>(s.connected, 1));
        out << "{\"mode\":\"connect\",\"token\":" << (o.token.empty() ? "false" : "true")
            << ",\"conns\":" << o.conns << ",\"concurrency\":" << o.concurrency
            << ",\"connected\":" << s.connected << ",\"failed\":" << s.failed
            << ",\"seconds\":" << fixed(secs, 3)
            << ",\"conns_per_s\":" << fixed(static_cast<double>(s.connected) / secs, 0)
            << ",\"p50_ms\":" << fixed(percentile_ms(s.lat_us, 0.5), 2)
            << ",\"p99_ms\":" << fixed(percentile_ms(s.lat_us, 0.99), 2)
            << ",\"max_ms\":" << fixed(percentile_ms(s.lat_us, 1.0), 2)
            << ",\"server_cpu_us_per_conn\":" << fixed((c1.server - c0.server) * 1e6 / n, 1)
            << ",\"backend_cpu_us_per_conn\":" << fixed((c1.backend - c0.backend) * 1e6 / n, 1)
            << ",\"load_cpu_us_per_conn\":" << fixed((c1.self - c0.self) * 1e6 / n, 1)
            << ",\"server_core_pct\":" << fixed((c1.server - c0.server) * 100 / secs, 0)
            << ",\"server_wait_pct\":" << fixed((c1.server_wait - c0.server_wait) * 100 / secs, 0)
            << ",\"backend_core_pct\":" << fixed((c1.backend - c0.backend) * 100 / secs, 0)
            << ",\"load_core_pct\":" << fixed((c1.self - c0.self) * 100 / secs, 0)
            << ",\"first_error\":\"" << json_escape(s.first_error) << "\"}";
        std::cout << out.str() << std::endl;
        return s.failed == 0 && s.connected == static_cast<u64>(o.conns) ? 0 : 1;
    }
    l.connect_all();
    stats& s = l.result();
    if (s.failed != 0) {
        std::cerr << "proxy_load: " << s.failed << " connections failed: " << s.first_error << '\n';
    }
    s.lat_us.clear(); // connect latencies
    const double secs = l.run_calls();
    const double calls = static_cast<double>(std::max<u64>(s.calls_ok, 1));
    const auto& a = l.cpu_start_;
    const auto& b = l.cpu_end_;
    out << "{\"mode\":\"calls\",\"kind\":\"" << o.kind << "\""
        << (o.kind == "rpc" ? ",\"method\":\"" + json_escape(o.method) + "\""
                            : ",\"channel\":\"" + json_escape(o.channel) + "\"")
        << ",\"conns\":" << s.connected << ",\"rate\":" << fixed(o.rate, 0)
        << ",\"inflight\":" << o.inflight << ",\"seconds\":" << fixed(secs, 2)
        << ",\"calls\":" << s.calls_ok << ",\"errors\":" << s.call_errors
        << ",\"calls_per_s\":" << fixed(static_cast<double>(s.calls_ok) / secs, 0)
        << ",\"p50_ms\":" << fixed(percentile_ms(s.lat_us, 0.5), 3)
        << ",\"p90_ms\":" << fixed(percentile_ms(s.lat_us, 0.9), 3)
        << ",\"p99_ms\":" << fixed(percentile_ms(s.lat_us, 0.99), 3)
        << ",\"max_ms\":" << fixed(percentile_ms(s.lat_us, 1.0), 3)
        << ",\"server_cpu_us_per_call\":" << fixed((b.server - a.server) * 1e6 / calls, 1)
        << ",\"backend_cpu_us_per_call\":" << fixed((b.backend - a.backend) * 1e6 / calls, 1)
        << ",\"load_cpu_us_per_call\":" << fixed((b.self - a.self) * 1e6 / calls, 1)
        << ",\"server_core_pct\":" << fixed((b.server - a.server) * 100 / secs, 0)
        << ",\"server_wait_pct\":" << fixed((b.server_wait - a.server_wait) * 100 / secs, 0)
        << ",\"backend_core_pct\":" << fixed((b.backend - a.backend) * 100 / secs, 0)
        << ",\"load_core_pct\":" << fixed((b.self - a.self) * 100 / secs, 0)
        << ",\"dropped\":" << l.dropped_ << ",\"first_error\":\"" << json_escape(s.first_error)
        << "\"}";
    std::cout << out.str() << std::endl;
    return s.failed == 0 && s.call_errors == 0 && l.dropped_ == 0 ? 0 : 1;
}
