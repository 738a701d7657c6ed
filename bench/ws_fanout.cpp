// ws_fanout: fan-out load generator for Gyre (or any Centrifugo client protocol v2 server) that
// speaks either encoding of the protocol over WebSocket: Protobuf (subprotocol
// centrifuge-protobuf, binary frames) or JSON (text frames); or, JSON only, one of the
// unidirectional HTTP streaming transports (uni_http_stream, uni_sse).
//
//   ws_fanout --url ws://127.0.0.1:8000/connection/websocket --proto protobuf|json
//             --conns N --rate R --duration S --payload BYTES --api-key KEY
//             [--transport websocket|uni_http_stream|uni_sse] [--server-pid PID] [--procs K]
//             [--channel C] [--token JWT] [--pub-conns P] [--concurrency X] [--settle S]
//             [--drain S] [--connect-timeout S] [--verbose] [--publish-port P]
//
// WebSocket: N client connections each send, in one frame, Command{id:1, connect:{}} and
// Command{id:2, subscribe:{channel}} (Protobuf: varint-length-delimited; JSON: newline-separated)
// and wait for both replies.
// uni_http_stream / uni_sse (--url http://host:port/connection/uni_…; the path defaults to the
// transport's): each connection sends the HTTP/1.1 request itself (uni_http_stream: POST with
// the ConnectRequest {"token":…} as its body; uni_sse: GET ?cf_connect=<url-encoded request>),
// reads the 200 head, de-chunks the body and splits it into pushes ('\n'-ended JSON lines, or
// `data:` events of an event stream). The client cannot subscribe by itself: the token must
// carry the channel ({"channels":["bench"]}, a server-side subscription); a connection counts
// as subscribed when its {"connect":…} push lists the channel in "subs". Pings ({}) need no
// answer on these transports.
//
// Once all are subscribed (and --settle seconds later), the parent process POSTs /api/publish
// at R publications per second for S seconds over keep-alive HTTP/1.1 connections (one request
// in flight each; to --publish-port, default the clients' port: another node of a cluster
// measures cross-node delivery), with the data
// {"t":<CLOCK_MONOTONIC ns>,"s":<seq>,"pad":"xx…"} padded so that it is BYTES long. Every
// connection decodes each Push → Publication → data (the same JSON bytes in both encodings),
// records the latency from t, counts the delivery, and counts publications that arrive after a
// later one ("reordered": possible when two publish connections race) or twice ("duplicates").
// Server pings (an empty Reply) are answered with an empty Command, WebSocket pings with pongs.
// --rate 0 publishes nothing: the connections are only held for --duration seconds (an idle
// run: server RSS per connection and CPU per connection-second, "mode":"idle").
//
// Process layout: the parent coordinates and publishes; K child processes (default: enough that
// each holds at most 19,000 connections, below a 20,000-fd limit) each run one epoll loop over
// their connections and report through a shared anonymous mapping. The parent prints ONE JSON
// object on stdout (the keys of the shared wsload's fanout output, plus "transport", "encoding",
// "payload_bytes", "duplicates" and server.cpu_us_per_delivery); progress goes to stderr. Exit
// status 0 only when every connection, publish and delivery succeeded. Only 127.0.0.0/8 targets.
//
// Only the C++ standard library and Linux/POSIX headers are used (no protobuf library: the few
// fields needed are encoded and decoded by hand).

#include "tool_support.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <new>
#include <poll.h>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

using u64 = std::uint64_t;
using i64 = std::int64_t;

void stop_children();

[[noreturn]] void die(const std::string& msg) {
    std::cerr << "ws_fanout: " << msg << '\n';
    stop_children();
    std::_Exit(2);
}

void note(const std::string& msg) {
    std::cerr << "ws_fanout: " << msg << '\n';
}

using gyre::bench::errno_text;

u64 now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<u64>(ts.tv_sec) * 1'000'000'000ULL + static_cast<u64>(ts.tv_nsec);
}

double self_cpu_s() {
    return gyre::bench::self_cpu_seconds();
}

// ------------------------------------------------------------------------------------ options

enum class encoding { json, protobuf };

enum class transport_kind { websocket, uni_http_stream, uni_sse };

std::string_view transport_name(transport_kind t) {
    switch (t) {
    case transport_kind::websocket:
        return "websocket";
    case transport_kind::uni_http_stream:
        return "uni_http_stream";
    case transport_kind::uni_sse:
        return "uni_sse";
    }
    return "websocket";
}

struct options {
    std::string host = "127.0.0.1";
    int port = 8000;
    int publish_port = 0; // 0: the WebSocket port
    std::string path = "/connection/websocket";
    std::string publish_path = "/api/publish";
    std::string channel = "bench";
    std::string api_key, token;
    encoding enc = encoding::protobuf;
    transport_kind transport = transport_kind::websocket;
    bool path_set = false, enc_set = false; // given on the command line
    int conns = 1000;
    int procs = 0;
    int pub_conns = 0;
    int concurrency = 256;
    double rate = 100;
    double duration = 10;
    double drain = 5;
    double settle = 2;
    double connect_timeout = 60;
    std::size_t payload = 100;
    int server_pid = 0;
    bool verbose = false;
};

template <typename T>
T number(std::string_view flag, std::string_view s) {
    const auto v = gyre::bench::parse_number<T>(s);
    if (!v) {
        die("bad value for " + std::string(flag) + ": " + std::string(s));
    }
    return *v;
}

// The load must never leave this machine: IPv4 literals in 127.0.0.0/8 (or "localhost") only.
std::string loopback_host(std::string h) {
    if (h == "localhost") {
        h = "127.0.0.1";
    }
    in_addr a{};
    if (inet_pton(AF_INET, h.c_str(), &a) != 1) {
        die("host '" + h + "' is not an IPv4 literal (use 127.x.x.x)");
    }
    if ((ntohl(a.s_addr) >> 24) != 127) {
        die("host '" + h + "' is not on loopback 127.0.0.0/8; refusing");
    }
    return h;
}

void parse_url(options& o, std::string_view url) {
    auto parts = gyre::bench::split_url(url, "ws://");
    if (!parts) {
        parts = gyre::bench::split_url(url, "http://");
    }
    if (!parts) {
        die("only ws://host[:port]/path or http://host[:port]/path URLs are supported");
    }
    o.path = parts->path;
    o.path_set = true;
    o.host = loopback_host(parts->host);
    o.port = parts->port.empty() ? 80 : number<int>("--url", parts->port);
}

void usage() {
    std::cout << "usage: ws_fanout [--url ws://127.0.0.1:8000/connection/websocket | --port P]\n"
                 "  [--transport websocket|uni_http_stream|uni_sse] (the last two: JSON only)\n"
                 "  [--proto protobuf|json] [--conns N] [--rate R (0: idle)] [--duration S]\n"
                 "  [--payload B]\n"
                 "  [--api-key KEY] [--server-pid PID] [--procs K] [--channel C] [--token JWT]\n"
                 "  [--publish-path /api/publish] [--pub-conns P] [--concurrency X] [--settle S]\n"
                 "  [--drain S] [--connect-timeout S] [--publish-port P] [--verbose]\n"
              << std::flush;
    std::_Exit(0);
}

bool apply_flag(options& o, std::string_view f, const std::string& v) {
    if (f == "--url") {
        parse_url(o, v);
    } else if (f == "--port") {
        o.port = number<int>(f, v);
    } else if (f == "--proto") {
        if (v != "json" && v != "protobuf") {
            die("--proto must be json or protobuf");
        }
        o.enc = v == "json" ? encoding::json : encoding::protobuf;
        o.enc_set = true;
    } else if (f == "--transport") {
        if (v == "websocket") {
            o.transport = transport_kind::websocket;
        } else if (v == "uni_http_stream") {
            o.transport = transport_kind::uni_http_stream;
        } else if (v == "uni_sse") {
            o.transport = transport_kind::uni_sse;
        } else {
            die("--transport must be websocket, uni_http_stream or uni_sse");
        }
    } else if (f == "--conns") {
        o.conns = number<int>(f, v);
    } else if (f == "--procs") {
        o.procs = number<int>(f, v);
    } else if (f == "--rate") {
        o.rate = number<double>(f, v);
    } else if (f == "--duration") {
        o.duration = number<double>(f, v);
    } else if (f == "--payload") {
        o.payload = number<std::size_t>(f, v);
    } else if (f == "--api-key") {
        o.api_key = v;
    } else if (f == "--server-pid") {
        o.server_pid = number<int>(f, v);
    } else if (f == "--channel") {
        o.channel = v;
    } else if (f == "--token") {
        o.token = v;
    } else if (f == "--publish-port") {
        o.publish_port = number<int>(f, v);
    } else if (f == "--publish-path") {
        o.publish_path = v;
    } else if (f == "--pub-conns") {
        o.pub_conns = number<int>(f, v);
    } else if (f == "--concurrency") {
        o.concurrency = number<int>(f, v);
    } else if (f == "--settle") {
        o.settle = number<double>(f, v);
    } else if (f == "--drain") {
        o.drain = number<double>(f, v);
    } else if (f == "--connect-timeout") {
        o.connect_timeout = number<double>(f, v);
    } else {
        return false;
    }
    return true;
}

// Characters that need no JSON escaping (channel names and tokens are embedded verbatim).
bool json_plain(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    });
}

options parse_args(int argc, char** argv) {
    options o;
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--help" || args[i] == "-h") {
            usage();
        }
        if (args[i] == "--verbose") {
            o.verbose = true;
            continue;
        }
        if (i + 1 >= args.size()) {
            die("missing value for " + args[i]);
        }
        if (!apply_flag(o, args[i], args[i + 1])) {
            die("unknown flag " + args[i] + " (see --help)");
        }
        ++i;
    }
    if (o.conns < 1 || o.rate < 0 || o.duration <= 0 || o.concurrency < 1 || o.procs < 0 ||
        o.pub_conns < 0 || o.drain < 0 || o.settle < 0 || o.payload > 1'000'000) {
        die("bad option values");
    }
    if (o.channel.empty() || o.channel.size() > 200 || !json_plain(o.channel) ||
        !json_plain(o.token) || !json_plain(o.api_key) ||
        o.api_key.find_first_of("\r\n") != std::string::npos) {
        die("channel, token or API key contains characters this tool does not escape");
    }
    if (o.transport != transport_kind::websocket) {
        if (o.enc_set && o.enc == encoding::protobuf) {
            die("--transport " + std::string(transport_name(o.transport)) + " is JSON only");
        }
        o.enc = encoding::json;
        if (!o.path_set) {
            o.path = "/connection/" + std::string(transport_name(o.transport));
        }
    }
    if (o.path.find_first_of(" \r\n") != std::string::npos) {
        die("the URL path contains characters this tool does not send");
    }
    if (o.publish_port == 0) {
        o.publish_port = o.port;
    }
    if (o.pub_conns == 0) {
        o.pub_conns = std::clamp(static_cast<int>(o.rate / 10), 4, 128);
    }
    return o;
}

// ------------------------------------------------------------------------- latency histogram

// Log-linear over microseconds: exact below 256 µs, then 128 buckets per power of two (< 0.8 %
// error), up to 2^48 µs. Fixed size, so it lives in the shared mapping.
constexpr int hist_linear = 256;
constexpr int hist_sub = 128;
constexpr int hist_size = hist_linear + 40 * hist_sub;

int hist_index(u64 us) {
    if (us < hist_linear) {
        return static_cast<int>(us);
    }
    const int shift = static_cast<int>(std::bit_width(us)) - 8; // us >> shift is in [128, 256)
    const int i = hist_linear + (shift - 1) * hist_sub + static_cast<int>((us >> shift) - 128);
    return std::min(i, hist_size - 1);
}

u64 hist_upper(int i) { // exclusive upper bound of bucket i, µs
    if (i < hist_linear) {
        return static_cast<u64>(i) + 1;
    }
    const int shift = (i - hist_linear) / hist_sub + 1;
    const u64 mantissa = static_cast<u64>((i - hist_linear) % hist_sub) + 128;
    return (mantissa + 1) << shift;
}

// ------------------------------------------------------------------ shared per-process stats

constexpr int max_procs = 64;

struct child_stats {
    // Read by the parent while the child runs.
    std::atomic<i64> ready{0}, failed{0}, done_connecting{0}, received{0};
    // Written by the child only, read by the parent after the child exited.
    i64 connect_errors = 0, subscribe_errors = 0, disconnects = 0, protocol_errors = 0;
    i64 bad_frames = 0, pings = 0, ws_pings = 0, reordered = 0, duplicates = 0;
    u64 first_rx_ns = 0, last_rx_ns = 0, lat_sum_us = 0, lat_max_us = 0, lat_n = 0;
    double cpu_at_go = 0, cpu_at_stop = 0, connect_s = 0;
    std::array<u64, hist_size> hist{};
    std::array<char, 200> first_error{};
};

struct shared_block {
    std::atomic<int> phase{0}; // 0 connecting and settling, 1 publishing, 2 stop
    std::atomic<i64> subscribed{0};
    std::array<child_stats, max_procs> child;
};

shared_block* shared = nullptr;

std::vector<pid_t> kids; // in the parent: the client processes

void stop_children() { // a failing parent (or child) ends the run in every process
    if (shared != nullptr) {
        shared->phase.store(2);
    }
    for (const pid_t k : kids) {
        kill(k, SIGKILL);
        waitpid(k, nullptr, 0);
    }
    kids.clear();
}

// ------------------------------------------------------------------- encoding helpers

void put_varint(std::string& out, u64 v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void put_len_field(std::string& out, unsigned field, std::string_view bytes) {
    put_varint(out, (static_cast<u64>(field) << 3) | 2);
    put_varint(out, bytes.size());
    out.append(bytes);
}

bool get_varint(const unsigned char*& p, const unsigned char* end, u64& v) {
    v = 0;
    for (int shift = 0; shift < 64 && p != end; shift += 7) {
        const u64 b = *p++;
        v |= (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return true;
        }
    }
    return false;
}

// Walks the fields of one Protobuf message; unknown fields are skipped by wire type.
class pb_reader {
public:
    explicit pb_reader(std::string_view s)
        : p_(reinterpret_cast<const unsigned char*>(s.data()))
        , end_(p_ + s.size()) {}

    // Next field: number, wire type, and either value (varint) or bytes (length-delimited).
    // False at the end of the message or on malformed input (then bad() is true).
    bool next(unsigned& field, u64& value, std::string_view& bytes) {
        while (p_ != end_) {
            u64 key = 0;
            if (!get_varint(p_, end_, key)) {
                return fail();
            }
            field = static_cast<unsigned>(key >> 3);
            switch (key & 7) {
            case 0:
                if (!get_varint(p_, end_, value)) {
                    return fail();
                }
                bytes = {};
                return true;
            case 2: {
                u64 n = 0;
                if (!get_varint(p_, end_, n) || n > static_cast<u64>(end_ - p_)) {
                    return fail();
                }
                bytes = {reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n)};
                p_ += n;
                value = 0;
                return true;
            }
            case 1:
                if (end_ - p_ < 8) {
                    return fail();
                }
                p_ += 8;
                break;
            case 5:
                if (end_ - p_ < 4) {
                    return fail();
                }
                p_ += 4;
                break;
            default:
                return fail();
            }
        }
        return false;
    }

    bool bad() const { return bad_; }

private:
    bool fail() {
        bad_ = true;
        return false;
    }

    const unsigned char* p_;
    const unsigned char* end_;
    bool bad_ = false;
};

bool parse_u64(std::string_view s, std::size_t& pos, u64& v) {
    const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), v);
    if (ec != std::errc{}) {
        return false;
    }
    pos = static_cast<std::size_t>(end - s.data());
    return true;
}

// Finds our publication data {"t":<ns>,"s":<seq>,...} in a JSON text.
bool find_stamp(std::string_view s, u64& t, u64& seq) {
    constexpr std::string_view tkey = "{\"t\":", skey = ",\"s\":";
    std::size_t pos = s.find(tkey);
    if (pos == std::string_view::npos) {
        return false;
    }
    pos += tkey.size();
    if (!parse_u64(s, pos, t)) {
        return false;
    }
    seq = 0;
    if (s.substr(pos, skey.size()) == skey) {
        pos += skey.size();
        parse_u64(s, pos, seq);
    }
    return true;
}

u64 rng_state = 0x9e3779b97f4a7c15ULL;

std::uint32_t random32() { // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return static_cast<std::uint32_t>((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

// One client → server WebSocket frame (FIN set, masked as RFC 6455 requires of clients).
void ws_frame(std::string& out, unsigned opcode, std::string_view payload) {
    const std::size_t n = payload.size();
    out.push_back(static_cast<char>(0x80 | opcode));
    if (n < 126) {
        out.push_back(static_cast<char>(0x80 | n));
    } else if (n < 65536) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n & 0xff));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) {
            out.push_back(static_cast<char>((static_cast<u64>(n) >> (8 * i)) & 0xff));
        }
    }
    const std::uint32_t m = random32();
    std::array<char, 4> mask{};
    std::memcpy(mask.data(), &m, 4);
    out.append(mask.data(), 4);
    const std::size_t at = out.size();
    out.append(payload);
    for (std::size_t i = 0; i < n; ++i) {
        out[at + i] = static_cast<char>(out[at + i] ^ mask[i & 3]);
    }
}

void copy_error(std::array<char, 200>& dst, std::string_view msg) {
    if (dst[0] != 0) {
        return;
    }
    const std::size_t n = std::min(msg.size(), dst.size() - 1);
    std::memcpy(dst.data(), msg.data(), n);
    dst[n] = 0;
}

std::string printable(std::string_view s, std::size_t max = 120) {
    std::string r(s.substr(0, max));
    for (char& c : r) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
            c = '.';
        }
    }
    return r;
}

// Percent-encodes everything but RFC 3986's unreserved characters (for ?cf_connect=).
std::string url_encode(std::string_view s) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string r;
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (std::isalnum(u) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            r += ch;
        } else {
            r += '%';
            r += hex[u >> 4];
            r += hex[u & 15];
        }
    }
    return r;
}

// --------------------------------------------------------------------------- client side

// tcp: connecting; upgrade: request sent, waiting for the response head (101 or, for the HTTP
// streams, 200); handshake: waiting for the connect and subscribe replies (or the connect push).
enum class cstate : std::uint8_t { tcp, upgrade, handshake, ready, dead };

struct client {
    int fd = -1;
    cstate st = cstate::dead;
    bool connected = false;
    bool subscribed = false;
    bool want_write = false;
    bool chunked = false; // HTTP streams: the body has chunked transfer coding
    std::uint8_t frag_op = 0;
    u64 last_seq = 0;
    std::string in;    // bytes of an incomplete frame (or HTTP chunk)
    std::string out;   // bytes the socket did not take yet
    std::string frag;  // WebSocket: a fragmented message; HTTP streams: an incomplete line
    std::string event; // uni_sse: the data of an event not yet ended by its empty line
};

// One child process: its connections and one epoll loop over them.
class client_proc {
public:
    client_proc(const options& o, int index, int count)
        : o_(o)
        , me_(shared->child[static_cast<std::size_t>(index)])
        , clients_(static_cast<std::size_t>(count))
        , rbuf_(1 << 18) {
        rng_state ^=
            static_cast<u64>(static_cast<std::uint32_t>(getpid())) * u64{0x9e3779b97f4a7c15};
        const std::string host = "Host: " + o.host + ":" + std::to_string(o.port) + "\r\n";
        const std::string connect_request =
            o.token.empty() ? "{}" : R"({"token":")" + o.token + "\"}";
        switch (o.transport) {
        case transport_kind::websocket:
            request_ = "GET " + o.path + " HTTP/1.1\r\n" + host +
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: Z3lyZS13cy1mYW5vdXQhIQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n";
            if (o.enc == encoding::protobuf) {
                request_ += "Sec-WebSocket-Protocol: centrifuge-protobuf\r\n";
            }
            request_ += "\r\n";
            break;
        case transport_kind::uni_http_stream:
            request_ = "POST " + o.path + " HTTP/1.1\r\n" + host +
                       "Content-Type: application/json\r\nContent-Length: " +
                       std::to_string(connect_request.size()) + "\r\n\r\n" + connect_request;
            return; // nothing is sent after the request
        case transport_kind::uni_sse:
            request_ = "GET " + o.path + (o.path.find('?') == std::string::npos ? "?" : "&") +
                       "cf_connect=" + url_encode(connect_request) + " HTTP/1.1\r\n" + host +
                       "Accept: text/event-stream\r\n\r\n";
            return;
        }
        std::string frame;
        if (o.enc == encoding::protobuf) {
            std::string connect_req; // ConnectRequest{token = 1}
            if (!o.token.empty()) {
                put_len_field(connect_req, 1, o.token);
            }
            std::string cmd1; // Command{id = 1, connect = 4}
            put_varint(cmd1, (1 << 3) | 0);
            put_varint(cmd1, 1);
            put_len_field(cmd1, 4, connect_req);
            std::string sub_req; // SubscribeRequest{channel = 1}
            put_len_field(sub_req, 1, o.channel);
            std::string cmd2; // Command{id = 2, subscribe = 5}
            put_varint(cmd2, (1 << 3) | 0);
            put_varint(cmd2, 2);
            put_len_field(cmd2, 5, sub_req);
            for (const std::string* c : {&cmd1, &cmd2}) {
                put_varint(frame, c->size());
                frame += *c;
            }
            handshake_opcode_ = 2;
            pong_ = std::string(1, '\0');
        } else {
            frame = o.token.empty() ? R"({"id":1,"connect":{}})"
                                    : R"({"id":1,"connect":{"token":")" + o.token + "\"}}";
            frame += "\n{\"id\":2,\"subscribe\":{\"channel\":\"" + o.channel + "\"}}";
            handshake_opcode_ = 1;
            pong_ = "{}";
        }
        handshake_ = frame;
    }

    [[noreturn]] void run() {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            die("epoll_create1: " + errno_text());
        }
        std::vector<epoll_event> evs(4096);
        const u64 t0 = now_ns();
        const u64 deadline = t0 + static_cast<u64>(o_.connect_timeout * 1e9);
        std::size_t opened = 0;
        bool saw_go = false;
        for (;;) {
            const int phase = shared->phase.load(std::memory_order_relaxed);
            if (me_.done_connecting.load(std::memory_order_relaxed) == 0) {
                opened = connect_step(opened, t0, deadline);
            }
            if (phase >= 1 && !saw_go) {
                saw_go = true;
                me_.cpu_at_go = self_cpu_s();
            }
            if (phase >= 2) {
                break;
            }
            const bool connecting = me_.done_connecting.load(std::memory_order_relaxed) == 0;
            const int n =
                epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), connecting ? 5 : 20);
            for (int i = 0; i < n; ++i) {
                const epoll_event& ev = evs[static_cast<std::size_t>(i)];
                client& c = clients_[ev.data.u64];
                if (c.st == cstate::tcp) {
                    if ((ev.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
                        tcp_connected(c);
                    }
                    continue;
                }
                if ((ev.events & EPOLLOUT) != 0) {
                    flush(c);
                }
                if (c.st != cstate::dead &&
                    (ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) {
                    readable(c);
                }
            }
        }
        me_.cpu_at_stop = self_cpu_s();
        if (!saw_go) {
            me_.cpu_at_go = me_.cpu_at_stop;
        }
        std::atomic_thread_fence(std::memory_order_seq_cst);
        std::_Exit(0);
    }

private:
    // Opens connections while fewer than --concurrency handshakes are in flight; ends the
    // connection phase when all are settled or the deadline passed.
    std::size_t connect_step(std::size_t opened, u64 t0, u64 deadline) {
        auto settled = [this] {
            return static_cast<std::size_t>(me_.ready.load(std::memory_order_relaxed) +
                                            me_.failed.load(std::memory_order_relaxed));
        };
        while (opened < clients_.size() &&
               opened - settled() < static_cast<std::size_t>(o_.concurrency)) {
            open(opened++);
        }
        const bool timed_out = now_ns() > deadline;
        if (settled() >= clients_.size() || timed_out) {
            if (timed_out) {
                for (std::size_t i = 0; i < opened; ++i) {
                    if (clients_[i].st != cstate::ready && clients_[i].st != cstate::dead) {
                        ++me_.connect_errors;
                        error("connect timeout");
                        close_client(clients_[i]);
                    }
                }
                me_.failed.fetch_add(static_cast<i64>(clients_.size() - opened));
                opened = clients_.size();
            }
            me_.connect_s = static_cast<double>(now_ns() - t0) / 1e9;
            me_.done_connecting.store(1);
        }
        return opened;
    }

    void error(std::string_view msg) { copy_error(me_.first_error, msg); }

    void open(std::size_t i) {
        client& c = clients_[i];
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            ++me_.connect_errors;
            error("socket: " + errno_text());
            me_.failed.fetch_add(1);
            return;
        }
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(o_.port));
        inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr);
        if (connect(c.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 &&
            errno != EINPROGRESS) {
            ++me_.connect_errors;
            error("connect: " + errno_text());
            ::close(c.fd);
            c.fd = -1;
            me_.failed.fetch_add(1);
            return;
        }
        c.st = cstate::tcp;
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = i;
        epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    }

    void set_events(client& c, bool want_write) {
        if (c.want_write == want_write) {
            return;
        }
        c.want_write = want_write;
        epoll_event ev{};
        ev.events = static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP) |
                    (want_write ? static_cast<std::uint32_t>(EPOLLOUT) : 0U);
        ev.data.u64 = static_cast<u64>(&c - clients_.data());
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void tcp_connected(client& c) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            ++me_.connect_errors;
            error("connect: " + errno_text(err));
            close_client(c);
            return;
        }
        c.st = cstate::upgrade;
        c.want_write = true;
        set_events(c, false);
        write(c, request_);
    }

    void close_client(client& c) {
        if (c.st == cstate::dead) {
            return;
        }
        if (c.st == cstate::ready) {
            ++me_.disconnects;
        } else {
            me_.failed.fetch_add(1);
        }
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
        c.st = cstate::dead;
        std::string().swap(c.in);
        std::string().swap(c.out);
        std::string().swap(c.frag);
        std::string().swap(c.event);
    }

    void write(client& c, std::string_view data) {
        if (!c.out.empty()) {
            c.out.append(data);
            return;
        }
        const ssize_t w = send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
        std::size_t sent = 0;
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                error("send: " + errno_text());
                close_client(c);
                return;
            }
        } else {
            sent = static_cast<std::size_t>(w);
        }
        if (sent < data.size()) {
            c.out.append(data.substr(sent));
            set_events(c, true);
        }
    }

    void flush(client& c) {
        if (c.out.empty()) {
            set_events(c, false);
            return;
        }
        const ssize_t w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                error("send: " + errno_text());
                close_client(c);
            }
            return;
        }
        c.out.erase(0, static_cast<std::size_t>(w));
        if (c.out.empty()) {
            set_events(c, false);
        }
    }

    void send_frame(client& c, unsigned opcode, std::string_view payload) {
        scratch_.clear();
        ws_frame(scratch_, opcode, payload);
        write(c, scratch_);
    }

    void readable(client& c) {
        for (;;) {
            const ssize_t r = read(c.fd, rbuf_.data(), rbuf_.size());
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                if (c.st != cstate::ready) {
                    ++me_.connect_errors;
                    error(r == 0 ? "server closed the connection during the handshake"
                                 : "read: " + errno_text());
                } else {
                    error(r == 0 ? "server closed the connection" : "read: " + errno_text());
                }
                close_client(c);
                return;
            }
            if (r < 0) {
                return;
            }
            rx_now_ = now_ns();
            const auto n = static_cast<std::size_t>(r);
            if (c.in.empty()) {
                const std::size_t used = on_bytes(c, rbuf_.data(), n);
                if (c.st == cstate::dead) {
                    return;
                }
                c.in.assign(rbuf_.data() + used, n - used);
            } else {
                c.in.append(rbuf_.data(), n);
                const std::size_t used = on_bytes(c, c.in.data(), c.in.size());
                if (c.st == cstate::dead) {
                    return;
                }
                c.in.erase(0, used);
                if (c.in.empty() && c.in.capacity() > 65536) {
                    std::string().swap(c.in);
                }
            }
            if (n < rbuf_.size()) {
                return;
            }
        }
    }

    // Consumes the response head and complete frames (or HTTP chunks); returns the bytes used.
    std::size_t on_bytes(client& c, char* p, std::size_t n) {
        std::size_t off = 0;
        if (c.st == cstate::upgrade) {
            const std::string_view s(p, n);
            const auto end = s.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                if (n > 16384) {
                    ++me_.connect_errors;
                    error("response head too long");
                    close_client(c);
                }
                return 0;
            }
            const std::string_view head = s.substr(0, end + 2);
            if (o_.transport != transport_kind::websocket) {
                if (!head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200")) {
                    ++me_.connect_errors;
                    error("stream refused: " + printable(s, 160));
                    close_client(c);
                    return n;
                }
                c.chunked = header_has(head, "transfer-encoding:", "chunked");
                c.st = cstate::handshake;
                off = end + 4;
                return off + on_chunks(c, p + off, n - off);
            }
            if (!head.starts_with("HTTP/1.1 101")) {
                ++me_.connect_errors;
                error("upgrade failed: " + printable(head));
                close_client(c);
                return n;
            }
            if (o_.enc == encoding::protobuf && !has_protobuf_subprotocol(head)) {
                ++me_.connect_errors;
                error("server did not select subprotocol centrifuge-protobuf");
                close_client(c);
                return n;
            }
            off = end + 4;
            c.st = cstate::handshake;
            send_frame(c, handshake_opcode_, handshake_);
            if (c.st == cstate::dead) {
                return n;
            }
        }
        return off + (o_.transport == transport_kind::websocket ? on_frames(c, p + off, n - off)
                                                                : on_chunks(c, p + off, n - off));
    }

    // Whether the header `name` (lower case, with its colon) of a response head contains
    // `value` (lower case).
    static bool header_has(std::string_view head, std::string_view name, std::string_view value) {
        std::string lower(head);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](char ch) {
            return static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        });
        const auto at = lower.find("\r\n" + std::string(name));
        return at != std::string::npos && lower.find(value, at) < lower.find("\r\n", at + 2);
    }

    static bool has_protobuf_subprotocol(std::string_view head) {
        return header_has(head, "sec-websocket-protocol:", "centrifuge-protobuf");
    }

    // HTTP streams: complete chunks of a chunked body (or, without chunked coding, every byte:
    // the body then ends with the connection); returns the bytes used. Each chunk's data goes
    // to on_body at once, so a push is timed when the chunk that completes it has arrived (as
    // a WebSocket message is when its frame has).
    std::size_t on_chunks(client& c, char* p, std::size_t n) {
        if (!c.chunked) {
            on_body(c, std::string_view(p, n));
            return n;
        }
        std::size_t off = 0;
        while (off < n && c.st != cstate::dead) {
            const std::string_view s(p + off, n - off);
            const auto cr = s.find("\r\n");
            if (cr == std::string_view::npos) {
                if (s.size() > 64) {
                    bad_frame(c, "bad chunk header: " + printable(s, 40));
                }
                break;
            }
            u64 size = 0;
            const auto [end, ec] = std::from_chars(s.data(), s.data() + cr, size, 16);
            if (ec != std::errc{} || end == s.data() ||
                (end != s.data() + cr && *end != ';' && *end != ' ')) {
                bad_frame(c, "bad chunk header: " + printable(s.substr(0, cr)));
                return n;
            }
            if (size > (64U << 20)) {
                bad_frame(c, "chunk too large");
                return n;
            }
            if (size == 0) { // the last chunk: the server ended the stream
                error("server ended the stream (last chunk)");
                close_client(c);
                return n;
            }
            const auto len = static_cast<std::size_t>(size);
            if (s.size() < cr + 2 + len + 2) {
                break;
            }
            if (s.substr(cr + 2 + len, 2) != "\r\n") {
                bad_frame(c, "chunk not followed by CRLF");
                return n;
            }
            on_body(c, s.substr(cr + 2, len));
            off += cr + 2 + len + 2;
        }
        return off;
    }

    // Bytes of a stream's body, in order: complete lines go to on_line, the rest waits in
    // c.frag for the next bytes.
    void on_body(client& c, std::string_view data) {
        if (!c.frag.empty()) {
            c.frag.append(data);
            std::string pending;
            pending.swap(c.frag);
            const std::size_t used = on_lines(c, pending);
            if (c.st != cstate::dead) {
                c.frag.assign(pending, used);
            }
            return;
        }
        const std::size_t used = on_lines(c, data);
        if (c.st != cstate::dead && used < data.size()) {
            if (data.size() - used > (64U << 20)) {
                bad_frame(c, "line too long");
                return;
            }
            c.frag.assign(data.substr(used));
        }
    }

    std::size_t on_lines(client& c, std::string_view data) {
        std::size_t off = 0;
        while (c.st != cstate::dead) {
            const auto nl = data.find('\n', off);
            if (nl == std::string_view::npos) {
                break;
            }
            std::string_view line = data.substr(off, nl - off);
            off = nl + 1;
            if (line.ends_with('\r')) {
                line.remove_suffix(1);
            }
            if (o_.transport == transport_kind::uni_sse) {
                on_sse_line(c, line);
            } else if (!line.empty()) {
                on_uni_push(c, line);
            }
        }
        return off;
    }

    // An event stream line: "data: …" lines accumulate (joined by '\n'), an empty line ends
    // the event; other fields (event, id, retry) and comments (":…") are ignored.
    void on_sse_line(client& c, std::string_view line) {
        if (line.empty()) {
            if (!c.event.empty()) {
                std::string ev;
                ev.swap(c.event);
                on_uni_push(c, ev);
                if (c.st != cstate::dead) {
                    ev.clear();
                    c.event.swap(ev); // keep the capacity
                }
            }
            return;
        }
        if (!line.starts_with("data:")) {
            return;
        }
        line.remove_prefix(5);
        if (line.starts_with(' ')) {
            line.remove_prefix(1);
        }
        if (!c.event.empty()) {
            c.event += '\n';
        }
        c.event.append(line);
    }

    // One push of a unidirectional stream: {"connect":{…,"subs":{"<channel>":…}}} first, then
    // {"channel":…,"pub":{"data":…}} publications and {} pings.
    void on_uni_push(client& c, std::string_view m) {
        if (m == "{}") {
            ++me_.pings; // nothing to answer on a unidirectional stream
            return;
        }
        u64 t = 0, seq = 0;
        if (c.st == cstate::handshake) {
            if (!m.starts_with("{\"connect\":")) {
                ++me_.connect_errors;
                error("expected the connect push, got: " + printable(m));
                close_client(c);
                return;
            }
            c.connected = true;
            const auto subs = m.find("\"subs\":{");
            if (subs == std::string_view::npos ||
                m.find("\"" + o_.channel + "\":", subs) == std::string_view::npos) {
                ++me_.subscribe_errors;
                error("connect push without a subscription to " + o_.channel +
                      " (the token needs \"channels\"): " + printable(m));
                close_client(c);
                return;
            }
            c.subscribed = true;
            mark_ready(c);
            return;
        }
        if (m.find("\"pub\":") != std::string_view::npos && find_stamp(m, t, seq)) {
            on_publication(c, t, seq);
            return;
        }
        ++me_.protocol_errors;
        error("unexpected push: " + printable(m));
    }

    std::size_t on_frames(client& c, char* p, std::size_t n) {
        std::size_t off = 0;
        while (n - off >= 2 && c.st != cstate::dead) {
            const auto b0 = static_cast<unsigned char>(p[off]);
            const auto b1 = static_cast<unsigned char>(p[off + 1]);
            const bool fin = (b0 & 0x80) != 0, masked = (b1 & 0x80) != 0;
            const unsigned op = b0 & 0x0f;
            u64 len = b1 & 0x7f;
            std::size_t hl = 2;
            if (len == 126) {
                if (n - off < 4) {
                    break;
                }
                len = (static_cast<u64>(static_cast<unsigned char>(p[off + 2])) << 8) |
                      static_cast<unsigned char>(p[off + 3]);
                hl = 4;
            } else if (len == 127) {
                if (n - off < 10) {
                    break;
                }
                len = 0;
                for (std::size_t i = 0; i < 8; ++i) {
                    len = (len << 8) | static_cast<unsigned char>(p[off + 2 + i]);
                }
                hl = 10;
            }
            if (len > (64U << 20)) {
                ++me_.bad_frames;
                error("frame too large");
                close_client(c);
                return n;
            }
            const std::size_t mask_at = off + hl;
            if (masked) {
                hl += 4;
            }
            if (n - off < hl + len) {
                break;
            }
            char* payload = p + off + hl;
            const auto plen = static_cast<std::size_t>(len);
            if (masked) { // servers must not mask; tolerate it anyway
                for (std::size_t i = 0; i < plen; ++i) {
                    payload[i] = static_cast<char>(payload[i] ^ p[mask_at + (i & 3)]);
                }
            }
            off += hl + plen;
            on_frame(c, fin, op, std::string_view(payload, plen));
        }
        return off;
    }

    void on_frame(client& c, bool fin, unsigned op, std::string_view payload) {
        switch (op) {
        case 0x0: // continuation
            if (c.frag_op == 0) {
                bad_frame(c, "unexpected continuation frame");
                return;
            }
            c.frag.append(payload);
            if (fin) {
                const unsigned fop = c.frag_op;
                c.frag_op = 0;
                std::string whole;
                whole.swap(c.frag);
                on_message(c, fop, whole);
            }
            return;
        case 0x1:
        case 0x2:
            if (!fin) {
                c.frag_op = static_cast<std::uint8_t>(op);
                c.frag.assign(payload);
                return;
            }
            on_message(c, op, payload);
            return;
        case 0x8: {
            unsigned code = 0;
            if (payload.size() >= 2) {
                code = (static_cast<unsigned>(static_cast<unsigned char>(payload[0])) << 8) |
                       static_cast<unsigned char>(payload[1]);
            }
            if (c.st != cstate::ready) {
                ++me_.connect_errors;
            }
            error("server closed: " + std::to_string(code) + " " +
                  printable(payload.substr(std::min<std::size_t>(2, payload.size()))));
            close_client(c);
            return;
        }
        case 0x9:
            ++me_.ws_pings;
            send_frame(c, 0xA, payload);
            return;
        case 0xA:
            return;
        default:
            bad_frame(c, "unknown opcode " + std::to_string(op));
        }
    }

    void bad_frame(client& c, std::string_view why) {
        ++me_.bad_frames;
        error(why);
        close_client(c);
    }

    void on_message(client& c, unsigned op, std::string_view m) {
        if (o_.enc == encoding::protobuf) {
            if (op != 2) {
                bad_frame(c, "text frame on a Protobuf connection");
                return;
            }
            const auto* p = reinterpret_cast<const unsigned char*>(m.data());
            const unsigned char* end = p + m.size();
            while (p != end && c.st != cstate::dead) {
                u64 len = 0;
                if (!get_varint(p, end, len) || len > static_cast<u64>(end - p)) {
                    bad_frame(c, "bad Reply length prefix");
                    return;
                }
                const std::string_view reply(reinterpret_cast<const char*>(p),
                                             static_cast<std::size_t>(len));
                p += len;
                if (reply.empty()) {
                    ++me_.pings;
                    send_frame(c, 2, pong_);
                } else {
                    on_pb_reply(c, reply);
                }
            }
            return;
        }
        if (op != 1) {
            bad_frame(c, "binary frame on a JSON connection");
            return;
        }
        while (!m.empty() && c.st != cstate::dead) {
            const auto nl = m.find('\n');
            std::string_view one = m.substr(0, nl);
            m = nl == std::string_view::npos ? std::string_view{} : m.substr(nl + 1);
            while (!one.empty() && (one.back() == '\r' || one.back() == ' ')) {
                one.remove_suffix(1);
            }
            if (!one.empty()) {
                on_json_reply(c, one);
            }
        }
    }

    void on_publication(client& c, u64 t, u64 seq) {
        me_.received.store(me_.received.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
        if (me_.first_rx_ns == 0) {
            me_.first_rx_ns = rx_now_;
        }
        me_.last_rx_ns = rx_now_;
        if (seq != 0) {
            if (seq < c.last_seq) {
                ++me_.reordered;
            } else if (seq == c.last_seq) {
                ++me_.duplicates;
            } else {
                c.last_seq = seq;
            }
        }
        const u64 us = rx_now_ > t ? (rx_now_ - t) / 1000 : 0;
        ++me_.hist[static_cast<std::size_t>(hist_index(us))];
        me_.lat_sum_us += us;
        ++me_.lat_n;
        me_.lat_max_us = std::max(me_.lat_max_us, us);
    }

    // A command reply (id 1 connect, id 2 subscribe) or an error reply.
    void on_command_reply(client& c, u64 id, bool is_error, std::string_view text) {
        if (id == 1 && c.st == cstate::handshake && !c.connected) {
            if (is_error) {
                ++me_.connect_errors;
                error("connect error: " + printable(text));
                close_client(c);
                return;
            }
            c.connected = true;
        } else if (id == 2 && c.st == cstate::handshake && !c.subscribed) {
            if (is_error) {
                ++me_.subscribe_errors;
                error("subscribe error: " + printable(text));
                close_client(c);
                return;
            }
            c.subscribed = true;
        } else if (is_error) {
            ++me_.protocol_errors;
            error("error reply: " + printable(text));
            return;
        }
        mark_ready(c);
    }

    void mark_ready(client& c) {
        if (c.connected && c.subscribed && c.st == cstate::handshake) {
            c.st = cstate::ready;
            me_.ready.fetch_add(1);
            shared->subscribed.fetch_add(1);
        }
    }

    // Reply{id = 1, error = 2, push = 4, connect = 5, subscribe = 6, ...}
    void on_pb_reply(client& c, std::string_view reply) {
        pb_reader r(reply);
        unsigned field = 0;
        u64 value = 0, id = 0;
        std::string_view bytes, push, err;
        bool has_error = false;
        while (r.next(field, value, bytes)) {
            if (field == 1) {
                id = value;
            } else if (field == 2) {
                has_error = true;
                err = bytes;
            } else if (field == 4) {
                push = bytes;
            }
        }
        if (r.bad()) {
            ++me_.protocol_errors;
            error("malformed Protobuf Reply");
            return;
        }
        if (id == 0 && !push.empty()) {
            u64 t = 0, seq = 0;
            if (on_pb_push(push, t, seq)) {
                on_publication(c, t, seq);
            } else {
                ++me_.protocol_errors;
            }
            return;
        }
        on_command_reply(c, id, has_error, err);
    }

    // Push{channel = 2, pub = 4 (Publication{data = 4}), unsubscribe = 7, disconnect = 11}:
    // true with the stamp of our publication data, false (and a noted error) for anything else.
    bool on_pb_push(std::string_view push, u64& t, u64& seq) {
        bool found = false;
        pb_reader r(push);
        unsigned field = 0;
        u64 value = 0;
        std::string_view bytes;
        while (r.next(field, value, bytes)) {
            if (field == 4) {
                pb_reader pr(bytes);
                unsigned pf = 0;
                u64 pv = 0;
                std::string_view pb;
                while (pr.next(pf, pv, pb)) {
                    if (pf == 4) {
                        found = find_stamp(pb, t, seq);
                    }
                }
                if (!found) {
                    error("publication without our data");
                    return false;
                }
            } else if (field == 7 || field == 11) {
                error(field == 7 ? "unsubscribe push" : "disconnect push");
                return false;
            }
        }
        if (r.bad()) {
            error("malformed Protobuf Push");
            return false;
        }
        if (!found) {
            error("push without a publication");
        }
        return found;
    }

    void on_json_reply(client& c, std::string_view m) {
        if (m == "{}") {
            ++me_.pings;
            send_frame(c, 1, pong_);
            return;
        }
        u64 t = 0, seq = 0;
        if (m.starts_with("{\"push\":")) {
            if (m.find("\"pub\":") != std::string_view::npos && find_stamp(m, t, seq)) {
                on_publication(c, t, seq);
            } else {
                ++me_.protocol_errors;
                error("unexpected push: " + printable(m));
            }
            return;
        }
        constexpr std::string_view idkey = "\"id\":";
        u64 id = 0;
        std::size_t pos = m.find(idkey);
        if (pos != std::string_view::npos) {
            pos += idkey.size();
            parse_u64(m, pos, id);
        }
        on_command_reply(c, id, m.find("\"error\":") != std::string_view::npos, m);
    }

    const options& o_;
    child_stats& me_;
    std::vector<client> clients_;
    std::vector<char> rbuf_;
    std::string request_, handshake_, pong_, scratch_;
    unsigned handshake_opcode_ = 2;
    int ep_ = -1;
    u64 rx_now_ = 0;
};

// ------------------------------------------------------------------------------ publisher

// Keep-alive HTTP/1.1 connections to the publish API, one request in flight each.
class publisher {
public:
    explicit publisher(const options& o)
        : o_(o)
        , conns_(static_cast<std::size_t>(o.pub_conns)) {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        head_ = "POST " + o.publish_path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                std::to_string(o.publish_port) + "\r\nContent-Type: application/json\r\n";
        if (!o.api_key.empty()) {
            head_ += "X-API-Key: " + o.api_key + "\r\n";
        }
        head_ += "Content-Length: ";
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            if (!open(i)) {
                die("cannot connect to the publish endpoint " + o.host + ":" +
                    std::to_string(o.publish_port) + ": " + errno_text());
            }
        }
    }

    // Publishes at the target rate for the duration, then drains replies and deliveries.
    void run(u64 t_go) {
        const u64 dur_ns = static_cast<u64>(o_.duration * 1e9);
        u64 last_report = t_go;
        for (;;) {
            const u64 t = now_ns();
            if (t - t_go >= dur_ns) {
                break;
            }
            // --rate 0: an idle run, nothing is published.
            i64 due = 0;
            if (o_.rate > 0) {
                due = static_cast<i64>(static_cast<double>(t - t_go) / 1e9 * o_.rate) + 1 -
                      static_cast<i64>(seq_);
            }
            for (std::size_t i = 0; i < conns_.size() && due > 0; ++i) {
                if (!conns_[i].busy && conns_[i].fd >= 0) {
                    send_publish(i);
                    --due;
                }
            }
            behind_max_ = std::max(behind_max_, due);
            poll_replies(1);
            if (o_.verbose && t - last_report > 1'000'000'000ULL) {
                note("t=" + std::to_string((t - t_go) / 1'000'000'000ULL) + "s sent " +
                     std::to_string(sent) + " ok " + std::to_string(ok) + " expected " +
                     std::to_string(expected) + " received " + std::to_string(received_total()));
                last_report = t;
            }
        }
        t_pub_end = now_ns();
        const u64 drain_end = t_pub_end + static_cast<u64>(o_.drain * 1e9);
        for (;;) {
            const bool busy =
                std::any_of(conns_.begin(), conns_.end(), [](const pub_conn& p) { return p.busy; });
            if ((!busy && received_total() >= expected) || now_ns() > drain_end) {
                break;
            }
            poll_replies(2);
        }
        if (behind_max_ > 1) {
            note("the publisher fell behind the target rate by up to " +
                 std::to_string(behind_max_) + " publications");
        }
    }

    static i64 received_total() {
        i64 n = 0;
        for (const child_stats& c : shared->child) {
            n += c.received.load(std::memory_order_relaxed);
        }
        return n;
    }

    i64 sent = 0, ok = 0, errors = 0, http_errors = 0, reconnects = 0, expected = 0;
    u64 t_pub_end = 0;
    double pad_sum = 0;
    std::array<char, 200> first_error{};

private:
    struct pub_conn {
        int fd = -1;
        bool busy = false;
        std::string in;
    };

    bool open(std::size_t i) {
        pub_conn& p = conns_[i];
        p.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (p.fd < 0) {
            return false;
        }
        const int one = 1;
        setsockopt(p.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(o_.publish_port));
        inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr);
        if (connect(p.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
            ::close(p.fd);
            p.fd = -1;
            return false;
        }
        fcntl(p.fd, F_SETFL, O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = i;
        epoll_ctl(ep_, EPOLL_CTL_ADD, p.fd, &ev);
        p.busy = false;
        p.in.clear();
        return true;
    }

    void reset(std::size_t i, std::string_view why) {
        pub_conn& p = conns_[i];
        if (p.fd >= 0) {
            epoll_ctl(ep_, EPOLL_CTL_DEL, p.fd, nullptr);
            ::close(p.fd);
            p.fd = -1;
        }
        if (p.busy) {
            ++errors;
            copy_error(first_error, why);
        }
        p.busy = false;
        ++reconnects;
        open(i);
    }

    void send_publish(std::size_t i) {
        pub_conn& p = conns_[i];
        const u64 seq = ++seq_;
        const u64 t = now_ns();
        const std::string ts = std::to_string(t), ss = std::to_string(seq);
        // data = {"t":T,"s":S,"pad":"…"}: 20 bytes of syntax plus the two numbers.
        const std::size_t fixed = 20 + ts.size() + ss.size();
        const std::size_t pad = o_.payload > fixed ? o_.payload - fixed : 0;
        pad_sum += static_cast<double>(pad);
        body_.clear();
        body_ += R"({"channel":")";
        body_ += o_.channel;
        body_ += R"(","data":{"t":)";
        body_ += ts;
        body_ += R"(,"s":)";
        body_ += ss;
        body_ += R"(,"pad":")";
        body_.append(pad, 'x');
        body_ += "\"}}";
        req_ = head_;
        req_ += std::to_string(body_.size());
        req_ += "\r\n\r\n";
        req_ += body_;
        p.busy = true;
        ++sent;
        std::size_t off = 0;
        while (off < req_.size()) {
            const ssize_t w = send(p.fd, req_.data() + off, req_.size() - off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    pollfd pfd{p.fd, POLLOUT, 0};
                    poll(&pfd, 1, 100);
                    continue;
                }
                reset(i, "publish send: " + errno_text());
                return;
            }
            off += static_cast<std::size_t>(w);
        }
    }

    void poll_replies(int timeout_ms) {
        std::array<epoll_event, 256> evs{};
        const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), timeout_ms);
        for (int k = 0; k < n; ++k) {
            readable(static_cast<std::size_t>(evs[static_cast<std::size_t>(k)].data.u64));
        }
    }

    // Length of one complete response at the start of b (0: incomplete, npos: unparsable).
    static std::size_t response_length(std::string_view b, int& status, std::string_view& body) {
        const auto he = b.find("\r\n\r\n");
        if (he == std::string_view::npos) {
            return 0;
        }
        if (b.size() < 12 || !b.starts_with("HTTP/1.")) {
            return std::string_view::npos;
        }
        status = std::atoi(std::string(b.substr(9, 3)).c_str());
        std::string head(b.substr(0, he + 2));
        std::transform(head.begin(), head.end(), head.begin(), [](char ch) {
            return static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        });
        const std::size_t hl = he + 4;
        if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
            std::size_t off = hl;
            std::size_t body_start = hl;
            for (;;) {
                const auto cr = b.find("\r\n", off);
                if (cr == std::string_view::npos) {
                    return 0;
                }
                const std::size_t size =
                    std::strtoul(std::string(b.substr(off, cr - off)).c_str(), nullptr, 16);
                if (size == 0) {
                    if (b.size() < cr + 4) {
                        return 0;
                    }
                    body = b.substr(body_start, off - body_start); // includes chunk framing
                    return cr + 4;
                }
                off = cr + 2 + size + 2;
                if (off > b.size()) {
                    return 0;
                }
            }
        }
        std::size_t cl = 0;
        const auto at = head.find("\r\ncontent-length:");
        if (at != std::string::npos) {
            cl = std::strtoul(head.c_str() + at + 17, nullptr, 10);
        }
        if (b.size() < hl + cl) {
            return 0;
        }
        body = b.substr(hl, cl);
        return hl + cl;
    }

    void readable(std::size_t i) {
        pub_conn& p = conns_[i];
        std::array<char, 16384> tmp{};
        bool eof = false;
        for (;;) {
            const ssize_t r = read(p.fd, tmp.data(), tmp.size());
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                eof = true;
                break;
            }
            if (r < 0) {
                break;
            }
            p.in.append(tmp.data(), static_cast<std::size_t>(r));
        }
        for (;;) {
            int status = 0;
            std::string_view body;
            const std::size_t total = response_length(p.in, status, body);
            if (total == 0) {
                break;
            }
            if (total == std::string_view::npos) {
                eof = true;
                break;
            }
            if (status == 200 && body.find("\"result\"") != std::string_view::npos &&
                body.find("\"error\"") == std::string_view::npos) {
                ++ok;
                expected += shared->subscribed.load(std::memory_order_relaxed);
            } else {
                ++errors;
                if (status != 200) {
                    ++http_errors;
                }
                copy_error(first_error, "HTTP " + std::to_string(status) + ": " + printable(body));
            }
            p.busy = false;
            p.in.erase(0, total);
        }
        if (eof) {
            reset(i, "publish connection closed with a request in flight");
        }
    }

    const options& o_;
    std::vector<pub_conn> conns_;
    int ep_ = -1;
    std::string head_, body_, req_;
    u64 seq_ = 0;
    i64 behind_max_ = 0;
};

// -------------------------------------------------------------------------- /proc probes

long proc_status_kb(int pid, std::string_view key) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':') {
            return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
        }
    }
    return -1;
}

double proc_cpu_s(int pid) { // -1 when the process is gone
    return gyre::bench::proc_cpu_seconds(pid).value_or(-1);
}

struct server_sample {
    long rss_kb = -1, anon_kb = -1, hwm_kb = -1, threads = -1;
    double cpu_s = -1;
};

server_sample sample_server(int pid) {
    server_sample s;
    if (pid > 0) {
        s.rss_kb = proc_status_kb(pid, "VmRSS");
        s.anon_kb = proc_status_kb(pid, "RssAnon");
        s.hwm_kb = proc_status_kb(pid, "VmHWM");
        s.threads = proc_status_kb(pid, "Threads");
        s.cpu_s = proc_cpu_s(pid);
    }
    return s;
}

// -------------------------------------------------------------------------------- output

std::string fixed(double v, int prec) {
    std::array<char, 64> b{};
    std::snprintf(b.data(), b.size(), "%.*f", prec, v);
    return b.data();
}

std::string json_string(std::string_view s) {
    std::string r = "\"";
    for (const char ch : s) {
        if (ch == '"' || ch == '\\') {
            r += '\\';
            r += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            r += ' ';
        } else {
            r += ch;
        }
    }
    return r + "\"";
}

// Merged child statistics.
struct totals {
    i64 ready = 0, failed = 0, received = 0, connect_errors = 0, subscribe_errors = 0;
    i64 disconnects = 0, protocol_errors = 0, bad_frames = 0, pings = 0, ws_pings = 0;
    i64 reordered = 0, duplicates = 0;
    u64 first_rx_ns = 0, last_rx_ns = 0, lat_sum_us = 0, lat_max_us = 0, lat_n = 0;
    double cpu_s = 0, connect_s = 0;
    std::vector<u64> hist = std::vector<u64>(hist_size);
    std::string first_error;
};

totals merge(int procs) {
    totals t;
    for (int k = 0; k < procs; ++k) {
        const child_stats& c = shared->child[static_cast<std::size_t>(k)];
        t.ready += c.ready.load();
        t.failed += c.failed.load();
        t.received += c.received.load();
        t.connect_errors += c.connect_errors;
        t.subscribe_errors += c.subscribe_errors;
        t.disconnects += c.disconnects;
        t.protocol_errors += c.protocol_errors;
        t.bad_frames += c.bad_frames;
        t.pings += c.pings;
        t.ws_pings += c.ws_pings;
        t.reordered += c.reordered;
        t.duplicates += c.duplicates;
        t.lat_sum_us += c.lat_sum_us;
        t.lat_n += c.lat_n;
        t.lat_max_us = std::max(t.lat_max_us, c.lat_max_us);
        t.last_rx_ns = std::max(t.last_rx_ns, c.last_rx_ns);
        if (c.first_rx_ns != 0 && (t.first_rx_ns == 0 || c.first_rx_ns < t.first_rx_ns)) {
            t.first_rx_ns = c.first_rx_ns;
        }
        for (std::size_t i = 0; i < t.hist.size(); ++i) {
            t.hist[i] += c.hist[i];
        }
        t.cpu_s += c.cpu_at_stop - c.cpu_at_go;
        t.connect_s = std::max(t.connect_s, c.connect_s);
        if (t.first_error.empty() && c.first_error[0] != 0) {
            t.first_error = c.first_error.data();
        }
    }
    return t;
}

// Percentiles as the upper bound of their bucket, never above the true maximum.
std::array<double, 4> percentiles_ms(const totals& t) {
    const std::array<double, 4> pct = {50, 90, 99, 99.9};
    std::array<double, 4> out{};
    u64 acc = 0;
    std::size_t pi = 0;
    for (int i = 0; i < hist_size && pi < pct.size() && t.lat_n > 0; ++i) {
        acc += t.hist[static_cast<std::size_t>(i)];
        while (pi < pct.size() && static_cast<double>(acc) >=
                                      std::ceil(pct[pi] / 100.0 * static_cast<double>(t.lat_n))) {
            out[pi++] = static_cast<double>(std::min(hist_upper(i), t.lat_max_us)) / 1000.0;
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse_args(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);

    // Raise the soft fd limit to the hard one; at most 19,000 connections per process.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    const long fd_limit =
        rl.rlim_cur == RLIM_INFINITY ? 1'000'000L : static_cast<long>(rl.rlim_cur);
    const long per_proc = std::min<long>(19000, fd_limit - 64);
    if (per_proc < 1) {
        die("fd limit too low");
    }
    const int procs = o.procs > 0 ? o.procs : static_cast<int>((o.conns + per_proc - 1) / per_proc);
    if (procs > max_procs || procs > o.conns) {
        die("bad process count " + std::to_string(procs));
    }
    if ((o.conns + procs - 1) / procs > fd_limit - 64) {
        die(std::to_string(o.conns) + " connections in " + std::to_string(procs) +
            " processes exceed the fd limit; raise --procs");
    }

    void* mem = mmap(
        nullptr, sizeof(shared_block), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        die("mmap: " + errno_text());
    }
    shared = new (mem) shared_block{};

    const server_sample s0 = sample_server(o.server_pid);
    if (o.server_pid > 0 && s0.rss_kb < 0) {
        die("cannot read /proc/" + std::to_string(o.server_pid) + "/status");
    }

    const u64 t_start = now_ns();
    for (int k = 0; k < procs; ++k) {
        const int n = o.conns / procs + (k < o.conns % procs ? 1 : 0);
        const pid_t pid = fork();
        if (pid < 0) {
            die("fork: " + errno_text());
        }
        if (pid == 0) {
            kids.clear();
            prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the parent
            if (getppid() == 1) {
                std::_Exit(2);
            }
            client_proc(o, k, n).run();
        }
        kids.push_back(pid);
    }
    note(std::string(transport_name(o.transport)) + ", " +
         (o.enc == encoding::protobuf ? "protobuf" : "json") + ": opening " +
         std::to_string(o.conns) + " connections to " + o.host + ":" + std::to_string(o.port) +
         o.path + " in " + std::to_string(procs) + " process(es)");

    auto check_children = [] {
        for (std::size_t k = 0; k < kids.size(); ++k) {
            int st = 0;
            if (waitpid(kids[k], &st, WNOHANG) == kids[k]) {
                die("client process " + std::to_string(k) + " died");
            }
        }
    };
    for (;;) {
        bool done = true;
        for (int k = 0; k < procs; ++k) {
            done = done && shared->child[static_cast<std::size_t>(k)].done_connecting.load() != 0;
        }
        if (done) {
            break;
        }
        check_children();
        usleep(20000);
    }
    const double connect_s = static_cast<double>(now_ns() - t_start) / 1e9;
    const totals at_ready = merge(procs);
    note("subscribed " + std::to_string(at_ready.ready) + "/" + std::to_string(o.conns) + " in " +
         fixed(connect_s, 2) + " s (" + std::to_string(at_ready.failed) + " failed); settling " +
         fixed(o.settle, 1) + " s");
    usleep(static_cast<useconds_t>(o.settle * 1e6));
    const server_sample s1 = sample_server(o.server_pid);

    if (at_ready.ready == 0) {
        die("no connection subscribed (first error: " + at_ready.first_error + "); not publishing");
    }
    publisher pub(o);
    const double self0 = self_cpu_s();
    const u64 t_go = now_ns();
    shared->phase.store(1);
    pub.run(t_go);
    const u64 t_stop = now_ns();
    const server_sample s2 = sample_server(o.server_pid);
    const double self1 = self_cpu_s();
    shared->phase.store(2);
    for (const pid_t k : kids) {
        int st = 0;
        waitpid(k, &st, 0);
    }
    kids.clear();

    const totals t = merge(procs);
    const double window_s = static_cast<double>(t_stop - t_go) / 1e9;
    const double pub_s = std::max(1e-6, static_cast<double>(pub.t_pub_end - t_go) / 1e9);
    const double deliv_s =
        std::max(pub_s, t.last_rx_ns > t_go ? static_cast<double>(t.last_rx_ns - t_go) / 1e9 : 0.0);
    const double lg_cpu = (self1 - self0) + t.cpu_s;
    const auto pv = percentiles_ms(t);
    const std::string first_error =
        !t.first_error.empty() ? t.first_error : std::string(pub.first_error.data());
    const double ratio = pub.expected > 0
                             ? static_cast<double>(t.received) / static_cast<double>(pub.expected)
                             : 0.0;

    std::string j = "{";
    j += o.rate > 0 ? R"("mode":"fanout")" : R"("mode":"idle")";
    j += R"(,"tool":"ws_fanout","proto":"v2","transport":")";
    j += transport_name(o.transport);
    j += R"(","encoding":)";
    j += o.enc == encoding::protobuf ? R"("protobuf")" : R"("json")";
    j +=
        ",\"url\":" + json_string((o.transport == transport_kind::websocket ? "ws://" : "http://") +
                                  o.host + ":" + std::to_string(o.port) + o.path);
    j += ",\"publish_port\":" + std::to_string(o.publish_port);
    j += ",\"connections_target\":" + std::to_string(o.conns);
    j += ",\"connections\":" + std::to_string(t.ready);
    j += ",\"subscribed\":" + std::to_string(t.ready);
    j += ",\"connect_failed\":" + std::to_string(t.failed);
    j += ",\"connect_s\":" + fixed(connect_s, 2);
    j += ",\"client_procs\":" + std::to_string(procs);
    j += ",\"channels\":1,\"rate_target\":" + fixed(o.rate, 1);
    j += ",\"duration_s\":" + fixed(pub_s, 2);
    j += ",\"payload_bytes\":" + std::to_string(o.payload);
    j += ",\"pad_bytes\":" +
         fixed(pub.sent > 0 ? pub.pad_sum / static_cast<double>(pub.sent) : 0, 0);
    j += ",\"publishes_sent\":" + std::to_string(pub.sent);
    j += ",\"publishes_ok\":" + std::to_string(pub.ok);
    j += ",\"publish_errors\":" + std::to_string(pub.errors);
    j += ",\"publish_rate\":" + fixed(static_cast<double>(pub.sent) / pub_s, 1);
    j += ",\"deliveries_expected\":" + std::to_string(pub.expected);
    j += ",\"deliveries_received\":" + std::to_string(t.received);
    j += ",\"delivery_ratio\":" + fixed(ratio, 6);
    j += ",\"deliveries_per_s\":" + fixed(static_cast<double>(t.received) / deliv_s, 0);
    j += ",\"last_delivery_after_s\":" + fixed(deliv_s, 3);
    j += ",\"latency_ms\":{\"p50\":" + fixed(pv[0], 3) + ",\"p90\":" + fixed(pv[1], 3) +
         ",\"p99\":" + fixed(pv[2], 3) + ",\"p999\":" + fixed(pv[3], 3) +
         ",\"max\":" + fixed(static_cast<double>(t.lat_max_us) / 1000.0, 3) + ",\"mean\":" +
         fixed(t.lat_n > 0
                   ? static_cast<double>(t.lat_sum_us) / 1000.0 / static_cast<double>(t.lat_n)
                   : 0.0,
               3) +
         "}";
    j += ",\"errors\":{\"connect\":" + std::to_string(t.connect_errors) +
         ",\"subscribe\":" + std::to_string(t.subscribe_errors) +
         ",\"disconnects\":" + std::to_string(t.disconnects) +
         ",\"protocol\":" + std::to_string(t.protocol_errors) +
         ",\"bad_frames\":" + std::to_string(t.bad_frames) +
         ",\"publish\":" + std::to_string(pub.errors) +
         ",\"publish_http\":" + std::to_string(pub.http_errors) +
         ",\"publish_reconnects\":" + std::to_string(pub.reconnects) +
         ",\"first\":" + json_string(first_error) + "}";
    j += ",\"pings_answered\":" + std::to_string(t.pings);
    j += ",\"ws_pings_answered\":" + std::to_string(t.ws_pings);
    j += ",\"reordered\":" + std::to_string(t.reordered);
    j += ",\"duplicates\":" + std::to_string(t.duplicates);
    j += ",\"loadgen_cpu_s\":" + fixed(lg_cpu, 2);
    j += ",\"loadgen_cpu_pct\":" + fixed(window_s > 0 ? 100 * lg_cpu / window_s : 0.0, 1);
    j += ",\"window_s\":" + fixed(window_s, 2);
    j += ",\"held_s\":" + fixed(window_s, 2); // as wsload's idle output names it
    if (o.server_pid > 0) {
        const double cpu_w = s2.cpu_s - s1.cpu_s;
        const auto per_conn = [&t, &s0](long kb) {
            return t.ready > 0
                       ? static_cast<double>(kb - s0.rss_kb) * 1024.0 / static_cast<double>(t.ready)
                       : 0.0;
        };
        j += ",\"server\":{\"pid\":" + std::to_string(o.server_pid) +
             ",\"threads\":" + std::to_string(s2.threads) +
             ",\"rss_kb_before\":" + std::to_string(s0.rss_kb) +
             ",\"rss_kb_ready\":" + std::to_string(s1.rss_kb) +
             ",\"rss_kb_end\":" + std::to_string(s2.rss_kb) +
             ",\"hwm_kb\":" + std::to_string(s2.hwm_kb) +
             ",\"rss_anon_kb_before\":" + std::to_string(s0.anon_kb) +
             ",\"rss_anon_kb_ready\":" + std::to_string(s1.anon_kb) +
             ",\"rss_bytes_per_conn_ready\":" + fixed(per_conn(s1.rss_kb), 0) +
             ",\"rss_bytes_per_conn_end\":" + fixed(per_conn(s2.rss_kb), 0) +
             ",\"cpu_s_connect\":" + fixed(s1.cpu_s - s0.cpu_s, 2) +
             ",\"cpu_s_window\":" + fixed(cpu_w, 2) +
             ",\"cpu_pct_window\":" + fixed(window_s > 0 ? 100 * cpu_w / window_s : 0.0, 1) +
             ",\"cpu_us_per_delivery\":" +
             fixed(cpu_w * 1e6 / static_cast<double>(std::max<i64>(1, t.received)), 3) +
             ",\"cpu_us_per_conn_s\":" +
             fixed(t.ready > 0 && window_s > 0
                       ? cpu_w * 1e6 / static_cast<double>(t.ready) / window_s
                       : 0.0,
                   3) +
             "}";
    }
    j += "}\n";
    std::cout << j << std::flush;

    // Reordering is reported but allowed: publications in flight at once on different publish
    // connections may be accepted by the server in either order.
    const bool clean = t.ready == o.conns && t.connect_errors == 0 && t.subscribe_errors == 0 &&
                       t.disconnects == 0 && t.protocol_errors == 0 && t.bad_frames == 0 &&
                       pub.errors == 0 && t.received == pub.expected && t.duplicates == 0;
    return clean ? 0 : 1;
}
