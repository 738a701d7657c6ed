// http_load: a small closed-loop HTTP/1.1 keep-alive load generator for Gyre's server HTTP API.
//
//   http_load --url http://127.0.0.1:8000/api/publish --api-key KEY --conns C --duration S
//             [--body-file F | --publish CHANNEL --pad BYTES] [--batch K] [--channels M]
//             [--server-pid PID] [--pipeline N] [--warmup W]
//
// C connections each keep N requests in flight (N = 1: one request, wait for its response, send
// the next). Responses completing during the first W seconds (default 1) are not counted; then
// for S seconds requests, latencies and CPU time are measured and one JSON object is printed.
//
// Bodies: --publish CHANNEL sends {"channel":"CHANNEL<i>","data":{"s":<seq>,"pad":"xx…"}} with i
// round-robin over 0..M-1 (so the default is "bench0" for --publish bench); --batch K sends K such
// commands per request as {"commands":[{"publish":{…}},…]} and, if the URL path is /api/publish,
// posts to /api/batch instead. --body-file sends the file's bytes verbatim (with --batch K each
// request counts as K publishes). With no body option a GET is sent (useful for testing against
// any HTTP server); then any 200 counts as ok, otherwise a 200 whose body contains "result" or
// "replies" and no "error". publishes_per_s counts successful requests only (times K), and
// cpu_us_per_publish is the server's CPU time (all threads) in the window per such publish.
//
// Design: a single thread with one epoll loop over all connections. The benchmark pins the
// generator to one core (and the server to the other), so a thread per connection would only add
// context switches and scheduling noise on that core; a non-blocking loop stays cheap, and its
// own CPU use is reported so one can tell whether the generator, not the server, was the limit.
// Only the C++ standard library and Linux/POSIX headers are used, so it builds in seconds.

#include "tool_support.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& msg) {
    std::cerr << "http_load: " << msg << '\n';
    std::_Exit(2);
}

using gyre::bench::errno_text;

struct options {
    std::string host, port = "80", path = "/";
    std::string api_key;
    int conns = 1;
    double duration_s = 5;
    double warmup_s = 1;
    std::string body_file;
    std::string channel; // --publish: channel name prefix
    std::size_t pad = 0;
    int batch = 0; // 0: single publish; K >= 1: K publish commands per /api/batch request
    int channels = 1;
    int server_pid = 0;
    int pipeline = 1;
};

template <typename T>
T number(std::string_view flag, std::string_view s) {
    const auto v = gyre::bench::parse_number<T>(s);
    if (!v) {
        die("bad value for " + std::string(flag) + ": " + std::string(s));
    }
    return *v;
}

void parse_url(options& o, std::string_view url) {
    const auto parts = gyre::bench::split_url(url, "http://");
    if (!parts) {
        die("only http://host[:port]/path URLs are supported");
    }
    o.host = parts->host;
    o.path = parts->path;
    if (!parts->port.empty()) {
        o.port = parts->port;
    }
}

// Applies one "--flag value" pair; false if the flag is unknown.
bool apply_flag(options& o, std::string_view flag, const std::string& v) {
    if (flag == "--url") {
        parse_url(o, v);
    } else if (flag == "--api-key") {
        o.api_key = v;
    } else if (flag == "--conns") {
        o.conns = number<int>(flag, v);
    } else if (flag == "--duration") {
        o.duration_s = number<double>(flag, v);
    } else if (flag == "--warmup") {
        o.warmup_s = number<double>(flag, v);
    } else if (flag == "--body-file") {
        o.body_file = v;
    } else if (flag == "--publish") {
        o.channel = v;
    } else if (flag == "--pad") {
        o.pad = number<std::size_t>(flag, v);
    } else if (flag == "--batch") {
        o.batch = number<int>(flag, v);
    } else if (flag == "--channels") {
        o.channels = number<int>(flag, v);
    } else if (flag == "--server-pid") {
        o.server_pid = number<int>(flag, v);
    } else if (flag == "--pipeline") {
        o.pipeline = number<int>(flag, v);
    } else {
        return false;
    }
    return true;
}

options parse_args(int argc, char** argv) {
    options o;
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); i += 2) {
        if (args[i] == "--help" || args[i] == "-h") {
            std::cout
                << "usage: http_load --url http://HOST:PORT/PATH [--api-key KEY] [--conns C] "
                   "[--duration S]\n"
                   "  [--warmup W] [--body-file F | --publish CHANNEL [--pad BYTES]] [--batch K]\n"
                   "  [--channels M] [--server-pid PID] [--pipeline N]\n"
                << std::flush;
            std::_Exit(0);
        }
        if (i + 1 >= args.size()) {
            die("missing value for " + args[i]);
        }
        if (!apply_flag(o, args[i], args[i + 1])) {
            die("unknown flag " + args[i]);
        }
    }
    if (o.host.empty()) {
        die("--url is required");
    }
    if (o.conns < 1 || o.pipeline < 1 || o.channels < 1 || o.batch < 0 || o.duration_s <= 0 ||
        o.warmup_s < 0) {
        die("--conns, --pipeline, --channels and --duration must be positive");
    }
    if (!o.body_file.empty() && !o.channel.empty()) {
        die("--body-file and --publish are exclusive");
    }
    constexpr std::string_view publish_path = "/api/publish";
    if (o.batch > 0 && !o.channel.empty() && o.path.ends_with(publish_path)) {
        o.path.replace(o.path.size() - publish_path.size(), std::string::npos, "/api/batch");
    }
    return o;
}

// Builds the request bytes; publish bodies differ per request by their sequence number.
class request_maker {
public:
    explicit request_maker(const options& o)
        : o_(o)
        , post_(!o.channel.empty() || !o.body_file.empty())
        , pad_(o.pad, 'x') {
        if (!o.body_file.empty()) {
            std::ifstream f(o.body_file, std::ios::binary);
            if (!f) {
                die("cannot read " + o.body_file);
            }
            fixed_body_.assign(std::istreambuf_iterator<char>(f), {});
        }
        head_ = (post_ ? "POST " : "GET ") + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                o.port + "\r\n";
        if (!o.api_key.empty()) {
            head_ += "X-API-Key: " + o.api_key + "\r\n";
        }
        head_ += post_ ? "Content-Type: application/json\r\nContent-Length: " : "\r\n";
    }

    [[nodiscard]] bool post() const { return post_; }

    // Appends one complete request to out.
    void append(std::string& out) {
        out += head_;
        if (!post_) {
            return;
        }
        const std::string* body = &fixed_body_;
        if (!o_.channel.empty()) {
            body_.clear();
            if (o_.batch > 0) {
                body_ += R"({"commands":[)";
                for (int k = 0; k < o_.batch; ++k) {
                    body_ += k > 0 ? R"(,{"publish":)" : R"({"publish":)";
                    append_publish(body_);
                    body_ += '}';
                }
                body_ += "]}";
            } else {
                append_publish(body_);
            }
            body = &body_;
        }
        out += std::to_string(body->size());
        out += "\r\n\r\n";
        out += *body;
    }

private:
    void append_publish(std::string& b) {
        const std::uint64_t s = seq_++;
        b += R"({"channel":")";
        b += o_.channel;
        b += std::to_string(s % static_cast<std::uint64_t>(o_.channels));
        b += R"(","data":{"s":)";
        b += std::to_string(s);
        b += R"(,"pad":")";
        b += pad_;
        b += R"("}})";
    }

    const options& o_;
    bool post_;
    std::string pad_, head_, fixed_body_, body_;
    std::uint64_t seq_ = 0;
};

bool same_char(char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same_char);
}

bool icontains(std::string_view hay, std::string_view needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), same_char) !=
           hay.end();
}

// One parsed response at the front of a connection's input buffer.
struct response {
    int status = 0;
    std::string_view body;
    bool close = false;       // the server closes the connection after this response
    std::size_t consumed = 0; // bytes of the buffer this response occupies
};
enum class parse_result { incomplete, done, bad };

// Content-Length framing only (Gyre always sends it); chunked or close-delimited bodies are bad.
parse_result parse_response(std::string_view buf, response& r) {
    constexpr std::size_t max_head = 65536;
    const auto end = buf.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        return buf.size() > max_head ? parse_result::bad : parse_result::incomplete;
    }
    std::string_view head = buf.substr(0, end + 2);
    const auto eol = head.find("\r\n");
    const std::string_view status_line = head.substr(0, eol);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 ||
        std::from_chars(status_line.data() + 9, status_line.data() + 12, r.status).ec !=
            std::errc{}) {
        return parse_result::bad;
    }
    r.close = status_line[7] == '0'; // HTTP/1.0: close unless told otherwise
    std::optional<std::size_t> length;
    for (head.remove_prefix(eol + 2); !head.empty();) {
        const auto line_end = head.find("\r\n");
        const std::string_view line = head.substr(0, line_end);
        head.remove_prefix(line_end + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const std::string_view name = line.substr(0, colon);
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        if (iequals(name, "content-length")) {
            std::size_t n = 0;
            if (std::from_chars(value.data(), value.data() + value.size(), n).ec != std::errc{}) {
                return parse_result::bad;
            }
            length = n;
        } else if (iequals(name, "connection")) {
            r.close = icontains(value, "close");
        } else if (iequals(name, "transfer-encoding")) {
            return parse_result::bad;
        }
    }
    if (!length && r.status != 204 && r.status != 304) {
        return parse_result::bad;
    }
    const std::size_t total = end + 4 + length.value_or(0);
    if (buf.size() < total) {
        return parse_result::incomplete;
    }
    r.body = buf.substr(end + 4, length.value_or(0));
    r.consumed = total;
    return parse_result::done;
}

struct connection {
    int fd = -1;
    std::string out;                         // bytes queued for sending
    std::size_t out_off = 0;                 // of which already sent
    bool epollout = false;                   // EPOLLOUT currently requested
    bool broken = false;                     // a send failed; reconnect once the event is handled
    std::string in;                          // received, not yet parsed
    std::deque<steady::time_point> inflight; // send times of requests awaiting a response, in order
};

struct counters {
    std::uint64_t requests = 0;
    std::uint64_t ok = 0;
    std::uint64_t non_200 = 0;
    std::uint64_t error_body = 0;
    std::uint64_t io_errors = 0;
    std::uint64_t reconnects = 0;
    std::vector<std::uint32_t> latency_us;
};

using gyre::bench::proc_cpu_seconds;
using gyre::bench::self_cpu_seconds;

steady::duration seconds(double s) {
    return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
}

class load_generator {
public:
    explicit load_generator(const options& o)
        : o_(o)
        , maker_(o)
        , conns_(static_cast<std::size_t>(o.conns)) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (const int rc = getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &res); rc != 0) {
            die("cannot resolve " + o.host + ": " + gai_strerror(rc));
        }
        addr_.assign(reinterpret_cast<const char*>(res->ai_addr), res->ai_addrlen);
        family_ = res->ai_family;
        freeaddrinfo(res);
        epfd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) {
            die("epoll_create1: " + errno_text());
        }
    }

    // Runs the warm-up and the measured window, then prints the report.
    void run() {
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            if (!open(i)) {
                die("cannot connect to " + o_.host + ":" + o_.port + ": " + errno_text());
            }
        }
        measure_from_ = steady::now() + seconds(o_.warmup_s);
        measure_to_ = measure_from_ + seconds(o_.duration_s);
        constexpr std::size_t expected_samples = 1U << 20U;
        stats_.latency_us.reserve(expected_samples);

        loop_until(measure_from_);
        const cpu_sample before = sample();
        loop_until(measure_to_);
        const cpu_sample after = sample();
        const auto server_cpu_s = before.server && after.server
                                      ? std::optional<double>(*after.server - *before.server)
                                      : std::nullopt;
        report(server_cpu_s, after.self - before.self);
    }

private:
    struct cpu_sample {
        std::optional<double> server; // the server's CPU seconds so far, if --server-pid
        double self = 0;              // ours
    };

    [[nodiscard]] cpu_sample sample() const {
        return {o_.server_pid != 0 ? proc_cpu_seconds(o_.server_pid) : std::nullopt,
                self_cpu_seconds()};
    }

    // Serves events until the deadline.
    void loop_until(steady::time_point deadline) {
        std::array<epoll_event, 256> events{};
        for (auto now = steady::now(); now < deadline; now = steady::now()) {
            if (live_ == 0) {
                die("all connections failed");
            }
            const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
            const int n = epoll_wait(epfd_,
                                     events.data(),
                                     static_cast<int>(events.size()),
                                     static_cast<int>(wait.count()));
            if (n < 0 && errno != EINTR) {
                die("epoll_wait: " + errno_text());
            }
            for (int k = 0; k < n; ++k) {
                handle(events.at(static_cast<std::size_t>(k)));
            }
        }
    }

    void handle(const epoll_event& ev) {
        const std::size_t i = ev.data.u32;
        if (conns_[i].fd < 0) {
            return;
        }
        if ((ev.events & EPOLLOUT) != 0) {
            flush(i);
        }
        if ((ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
            readable(i);
        } else if (conns_[i].broken) {
            reopen(i, true);
        }
    }

    bool open(std::size_t i) {
        connection& c = conns_[i];
        c = connection{};
        // A blocking connect keeps this simple; it is local and only happens at start or on
        // reconnect.
        const int fd = socket(family_, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return false;
        }
        if (connect(fd,
                    reinterpret_cast<const sockaddr*>(addr_.data()),
                    static_cast<socklen_t>(addr_.size())) != 0) {
            ::close(fd);
            return false;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            die("epoll_ctl: " + errno_text());
        }
        c.fd = fd;
        ++live_;
        for (int k = 0; k < o_.pipeline; ++k) {
            send_request(i);
        }
        return true;
    }

    // Drops a connection (counting an error if requests were lost) and opens a new one.
    void reopen(std::size_t i, bool failed) {
        connection& c = conns_[i];
        if (steady::now() >= measure_from_) {
            stats_.io_errors += failed ? 1 : 0;
            ++stats_.reconnects;
        }
        ::close(c.fd); // also removes it from the epoll set
        c.fd = -1;
        --live_;
        if (!open(i)) {
            std::cerr << "http_load: reconnect failed: " << errno_text() << '\n';
        }
    }

    void send_request(std::size_t i) {
        connection& c = conns_[i];
        maker_.append(c.out);
        c.inflight.push_back(steady::now());
        flush(i);
    }

    void flush(std::size_t i) {
        connection& c = conns_[i];
        while (c.out_off < c.out.size()) {
            const ssize_t n =
                ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
            if (n > 0) {
                c.out_off += static_cast<std::size_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else {
                c.broken = true; // the receive side sees the error too; reconnect from there
                return;
            }
        }
        const bool pending = c.out_off < c.out.size();
        if (!pending) {
            c.out.clear();
            c.out_off = 0;
        }
        if (pending != c.epollout) {
            epoll_event ev{};
            ev.events = pending ? EPOLLIN | EPOLLOUT : EPOLLIN;
            ev.data.u32 = static_cast<std::uint32_t>(i);
            epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
            c.epollout = pending;
        }
    }

    void readable(std::size_t i) {
        connection& c = conns_[i];
        bool eof = false;
        for (;;) {
            const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), 0);
            if (n > 0) {
                c.in.append(buf_.data(), static_cast<std::size_t>(n));
                if (static_cast<std::size_t>(n) < buf_.size()) {
                    break;
                }
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else { // EOF or error: consume what arrived, then reconnect
                eof = true;
                break;
            }
        }
        if (!parse_all(i)) {
            return; // already replaced by a new connection
        }
        if (eof || c.broken) {
            reopen(i, !c.inflight.empty());
        }
    }

    // Handles every complete response in the input buffer, sending the next request for each.
    // Returns false if the connection was closed and replaced meanwhile.
    bool parse_all(std::size_t i) {
        connection& c = conns_[i];
        std::size_t off = 0;
        for (;;) {
            response r;
            const parse_result p = parse_response(std::string_view(c.in).substr(off), r);
            if (p == parse_result::incomplete) {
                break;
            }
            if (p == parse_result::bad || c.inflight.empty()) {
                note_bad("unparsable response", std::string_view(c.in).substr(off));
                reopen(i, true);
                return false;
            }
            const auto done = steady::now();
            const auto sent = c.inflight.front();
            c.inflight.pop_front();
            if (done >= measure_from_ && done < measure_to_) {
                count(r, done - sent);
            }
            off += r.consumed;
            if (r.close) {
                reopen(i, !c.inflight.empty());
                return false;
            }
            if (done < measure_to_) {
                send_request(i);
            }
        }
        c.in.erase(0, off);
        return true;
    }

    void count(const response& r, steady::duration latency) {
        ++stats_.requests;
        stats_.latency_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
        if (r.status != 200) {
            ++stats_.non_200;
            note_bad("HTTP " + std::to_string(r.status), r.body);
            return;
        }
        if (maker_.post()) {
            const bool has_result = r.body.find(R"("result")") != std::string_view::npos ||
                                    r.body.find(R"("replies")") != std::string_view::npos;
            if (!has_result || r.body.find(R"("error")") != std::string_view::npos) {
                ++stats_.error_body;
                note_bad("error reply", r.body);
                return;
            }
        }
        ++stats_.ok;
    }

    // Shows the first failure on stderr so a misconfigured run is easy to diagnose.
    void note_bad(const std::string& what, std::string_view body) {
        constexpr std::size_t shown = 200;
        if (!reported_bad_) {
            reported_bad_ = true;
            std::cerr << "http_load: first failure: " << what << ": " << body.substr(0, shown)
                      << '\n';
        }
    }

    void report(std::optional<double> server_cpu_s, double self_cpu_s) {
        auto& lat = stats_.latency_us;
        std::sort(lat.begin(), lat.end());
        auto pct = [&](double q) {
            return lat.empty()
                       ? 0.0
                       : lat[static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1))] /
                             1e3;
        };
        const double secs = o_.duration_s;
        // Publishes count successful requests only: a failed request published nothing.
        const double publishes = static_cast<double>(stats_.ok) * (o_.batch > 0 ? o_.batch : 1);
        const std::uint64_t errors = stats_.requests - stats_.ok + stats_.io_errors;
        std::ostringstream js;
        js << std::fixed << std::setprecision(3) << R"({"url":"http://)" << o_.host << ':'
           << o_.port << o_.path << R"(","conns":)" << o_.conns << R"(,"pipeline":)" << o_.pipeline
           << R"(,"batch":)" << o_.batch << R"(,"duration_s":)" << secs << R"(,"requests":)"
           << stats_.requests << R"(,"requests_ok":)" << stats_.ok << R"(,"errors":)" << errors
           << R"(,"non_200":)" << stats_.non_200 << R"(,"error_replies":)" << stats_.error_body
           << R"(,"io_errors":)" << stats_.io_errors << R"(,"reconnects":)" << stats_.reconnects
           << std::setprecision(1) << R"(,"publishes":)" << static_cast<std::uint64_t>(publishes)
           << R"(,"publishes_per_s":)" << publishes / secs << R"(,"requests_per_s":)"
           << static_cast<double>(stats_.requests) / secs << std::setprecision(3)
           << R"(,"latency_ms":{"p50":)" << pct(0.50) << R"(,"p99":)" << pct(0.99) << R"(,"max":)"
           << (lat.empty() ? 0.0 : lat.back() / 1e3) << R"(},"client_cpu_s":)" << self_cpu_s;
        if (server_cpu_s) {
            js << R"(,"server_cpu_s":)" << *server_cpu_s << R"(,"server_cpu_util":)"
               << *server_cpu_s / secs << R"(,"cpu_us_per_publish":)";
            if (publishes > 0) {
                js << *server_cpu_s * 1e6 / publishes;
            } else {
                js << "null";
            }
        }
        std::cout << js.str() << "}\n";
    }

    static constexpr std::size_t read_chunk = 65536;

    const options& o_;
    request_maker maker_;
    std::string addr_; // sockaddr bytes
    int family_ = AF_INET;
    int epfd_ = -1;
    int live_ = 0;
    std::vector<connection> conns_;
    std::array<char, read_chunk> buf_{};
    steady::time_point measure_from_ = steady::time_point::max();
    steady::time_point measure_to_ = steady::time_point::max();
    counters stats_;
    bool reported_bad_ = false;
};

} // namespace

int main(int argc, char** argv) {
    const options opts = parse_args(argc, argv);
    load_generator(opts).run();
    return 0;
}
