#include "transport/http_stream.hpp"

#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/uuid.hpp"
#include "protocol/client/codes.hpp"
#include "protocol/client/json_codec.hpp"
#include "protocol/client/protobuf_codec.hpp"
#include "session/session.hpp"

#include <charconv>

namespace gyre::transport {
namespace pc = protocol::client;

namespace {

constexpr std::string_view protobuf_content_type = "application/octet-stream";

bool is_unidirectional(stream_kind k) noexcept {
    return k == stream_kind::uni_http_stream || k == stream_kind::uni_sse;
}

bool is_sse(stream_kind k) noexcept {
    return k == stream_kind::sse || k == stream_kind::uni_sse;
}

/// The connect request of a unidirectional stream: the body, or ?cf_connect on a uni_sse GET
/// (absent or empty there: the empty request; an empty body is bad JSON, as in Centrifugo).
std::string uni_connect_text(stream_kind kind, const stream_request& r) {
    if (kind == stream_kind::uni_sse && r.method == "GET") {
        auto text = strings::query_param(r.query, "cf_connect").value_or(std::string{});
        return text.empty() ? std::string("{}") : text;
    }
    return r.body;
}

/// One stream: the response head, then every batch of the session as one HTTP chunk.
class stream_connection final : public socket_connection, public emulation_sessions::entry {
public:
    stream_connection(
        endpoint ep, std::size_t shard, int fd, stream_kind kind, bool protobuf, bool chunked)
        : socket_connection(ep,
                            shard,
                            fd,
                            is_unidirectional(kind) ? hub::wire::json_unidirectional
                            : protobuf              ? hub::wire::protobuf
                                                    : hub::wire::json)
        , kind_(kind)
        , chunked_(chunked) {}

    /// Sends the head (unless a refused connect may still become an HTTP error), then feeds
    /// the connect command or request to the session.
    void open(std::string head, std::string connect, bool binary, bool defer_head) {
        if (!is_unidirectional(kind_) && endpoint_.emulation != nullptr) {
            std::shared_ptr<emulation_sessions::entry> self(
                shared_from_this(), static_cast<emulation_sessions::entry*>(this));
            session_id_ = endpoint_.emulation->add(shard_, self);
        }
        if (is_sse(kind_)) {
            // An empty first line lets proxies and browsers open the event stream at once.
            head += chunked_ ? std::string("2\r\n\r\n\r\n") : std::string("\r\n");
        }
        if (defer_head) {
            head_ = std::move(head);
        }
        if (!start(defer_head ? std::string{} : std::move(head))) {
            on_finished(); // never started: forget the session id
            return;
        }
        if (auto* s = current_session(); s != nullptr && !finished()) {
            s->on_frame(connect, binary);
        }
    }

    std::string_view name() const noexcept override {
        switch (kind_) {
        case stream_kind::http_stream:
            return "http_stream";
        case stream_kind::sse:
            return "sse";
        case stream_kind::uni_http_stream:
            return "uni_http_stream";
        case stream_kind::uni_sse:
            return "uni_sse";
        }
        return "http_stream";
    }

    bool unidirectional() const noexcept override { return is_unidirectional(kind_); }

    const std::string& emulation_session() const noexcept override { return session_id_; }

    bool refuse_connect(std::uint32_t code, std::string_view message) override {
        if (head_.empty() || head_sent_) {
            return false; // the 200 already left: the disconnect push tells the client
        }
        // connect_code_to_http_response: the first rule for the code gives the status and
        // body (the error's message when it has none); no rule: 500.
        const auto& cfg = *endpoint_.ctx->current(shard_)->cfg;
        const auto& rules = kind_ == stream_kind::uni_sse ? cfg.uni_sse_code_transforms
                                                          : cfg.uni_http_stream_code_transforms;
        unsigned status = 500;
        std::string body = "Internal Server Error\n";
        for (const auto& rule : rules) {
            if (rule.code == code) {
                status = rule.to_code;
                body = rule.to_reason.empty() ? std::string(message) : rule.to_reason;
                break;
            }
        }
        std::string response = "HTTP/1.1 " + std::to_string(status) +
                               " \r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "Connection: close\r\n";
        for (const auto& [name, value] : extra_headers_) {
            response += name + ": " + value + "\r\n";
        }
        response += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        std::string().swap(head_);
        head_sent_ = true;
        begin_close(std::move(response));
        return true;
    }

    // emulation_sessions::entry
    void receive(std::string_view data, bool binary) override {
        if (auto* s = current_session(); s != nullptr && !closing()) {
            s->on_frame(data, binary);
        }
    }

protected:
    void frame_batch(const std::vector<shared_bytes>& batch, std::vector<iovec>& iov) override {
        if (head_sent_ && !head_.empty()) {
            std::string().swap(head_); // the previous write carried it
        }
        if (!head_.empty()) {
            iov.push_back({head_.data(), head_.size()});
            head_sent_ = true;
        }
        const auto header_at = iov.size();
        iov.push_back({});
        std::size_t size = 0;
        for (const auto& m : batch) {
            size += frame_message(m.view(), iov);
        }
        close_chunk(size, header_at, chunk_header_, iov);
    }

    bool consume(std::span<char> /*fresh*/) override {
        return true; // nothing is expected after the request: read and dropped
    }

    std::string closing_bytes(const model::disconnect& d) override {
        std::string out;
        if (!head_sent_) {
            out = std::move(head_);
            head_sent_ = true;
        }
        if (d.code == model::disconnects::connection_closed.code) {
            // 3000: the client went away or asked for it; no push, just the end of the body.
            return chunked_ ? out + "0\r\n\r\n" : out;
        }
        pc::push p;
        p.body = pc::to_push(d);
        std::string push;
        if (is_unidirectional(kind_)) {
            (void)pc::json::append_push(push, p, pc::push_form::unidirectional);
        } else if (wire_format() == hub::wire::protobuf) {
            pc::protobuf::append_push(
                push, p, pc::push_form::bidirectional, pc::protobuf::framing::delimited);
        } else {
            (void)pc::json::append_push(push, p, pc::push_form::bidirectional);
        }
        std::vector<iovec> iov;
        iov.push_back({});
        const auto size = frame_message(push, iov);
        std::array<char, 24> header{};
        close_chunk(size, 0, header, iov);
        for (const auto& v : iov) {
            out.append(static_cast<const char*>(v.iov_base), v.iov_len);
        }
        if (chunked_) {
            out += "0\r\n\r\n"; // the end of the response body
        }
        return out;
    }

    void on_finished() override {
        if (!session_id_.empty() && endpoint_.emulation != nullptr) {
            endpoint_.emulation->remove(shard_, session_id_);
        }
    }

private:
    /// Appends one message's framing; returns its size in bytes.
    std::size_t frame_message(std::string_view m, std::vector<iovec>& iov) const {
        static constexpr std::string_view newline = "\n";
        static constexpr std::string_view data_prefix = "data: ";
        static constexpr std::string_view event_end = "\n\n";
        auto add = [&iov](std::string_view part) {
            iov.push_back({const_cast<char*>(part.data()), part.size()});
            return part.size();
        };
        if (is_sse(kind_)) {
            // One event per message; a joined batch is split at its '\n' separators (raw
            // JSON payloads never contain a raw newline).
            std::size_t size = 0;
            for (;;) {
                const auto nl = m.find('\n');
                size += add(data_prefix) + add(m.substr(0, nl)) + add(event_end);
                if (nl == std::string_view::npos) {
                    return size;
                }
                m.remove_prefix(nl + 1);
            }
        }
        if (wire_format() == hub::wire::protobuf) {
            return add(m); // already length-prefixed
        }
        return add(m) + add(newline); // JSON: each message ends with '\n'
    }

    /// Fills the chunk header reserved at iov[header_at] and appends the chunk's CRLF.
    template <std::size_t N>
    void close_chunk(std::size_t size,
                     std::size_t header_at,
                     std::array<char, N>& header,
                     std::vector<iovec>& iov) const {
        if (!chunked_) {
            iov[header_at] = {header.data(), 0};
            return;
        }
        static constexpr std::string_view crlf = "\r\n";
        auto [end, ec] = std::to_chars(header.data(), header.data() + N - 2, size, 16);
        (void)ec;
        *end++ = '\r';
        *end++ = '\n';
        iov[header_at] = {header.data(), static_cast<std::size_t>(end - header.data())};
        iov.push_back({const_cast<char*>(crlf.data()), crlf.size()});
    }

    stream_kind kind_;
    bool chunked_;
    bool head_sent_ = false;
    std::string head_; ///< a response head held back until the connect succeeds
    std::string session_id_;
    std::array<char, 24> chunk_header_{};

public:
    /// CORS headers, repeated on an HTTP answer that replaces the stream.
    std::vector<std::pair<std::string, std::string>> extra_headers_;
};

std::string response_head(stream_kind kind, const stream_request& r, bool protobuf) {
    std::string head = "HTTP/1.1 200 OK\r\n"
                       "Cache-Control: private, no-cache, no-store, must-revalidate, max-age=0\r\n"
                       "Pragma: no-cache\r\n"
                       "Expire: 0\r\n"
                       "X-Accel-Buffering: no\r\n";
    if (is_sse(kind)) {
        head += "Content-Type: text/event-stream; charset=utf-8\r\n";
    } else if (protobuf) {
        head += "Content-Type: application/octet-stream\r\n";
    } else {
        head += "Content-Type: text/plain; charset=utf-8\r\n";
    }
    if (r.http11) {
        head += "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n";
    } else {
        head += "Connection: close\r\n";
    }
    for (const auto& [name, value] : r.headers) {
        head += name + ": " + value + "\r\n";
    }
    head += "\r\n";
    return head;
}

/// The first value of header `name` (any case), "" when absent.
std::string header_value(const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view name) {
    for (const auto& [field, value] : headers) {
        if (strings::to_lower(field) == strings::to_lower(name)) {
            return value;
        }
    }
    return {};
}

} // namespace

std::optional<stream_refusal> check_stream(stream_kind kind, const stream_request& r) {
    const stream_refusal method_not_allowed{405, "Method Not Allowed\n"};
    const stream_refusal bad_request{400, "Bad Request\n"};
    switch (kind) {
    case stream_kind::http_stream:
        if (r.method != "POST") {
            return method_not_allowed;
        }
        return std::nullopt;
    case stream_kind::sse:
        if (r.method == "GET") {
            if (strings::query_param(r.query, "cf_connect").value_or(std::string{}).empty()) {
                return bad_request;
            }
            return std::nullopt;
        }
        return r.method == "POST" ? std::nullopt : std::optional(method_not_allowed);
    case stream_kind::uni_http_stream:
    case stream_kind::uni_sse:
        if (r.method != "POST" && (kind != stream_kind::uni_sse || r.method != "GET")) {
            return method_not_allowed;
        }
        if (!pc::json::decode_connect_request(uni_connect_text(kind, r))) {
            return bad_request;
        }
        return std::nullopt;
    }
    return bad_request;
}

void start_stream(
    const endpoint& ep, std::size_t shard, int fd, stream_kind kind, stream_request request) {
    const bool protobuf =
        kind == stream_kind::http_stream && request.content_type == protobuf_content_type;
    std::string connect;
    if (is_unidirectional(kind)) {
        connect = uni_connect_text(kind, request);
    } else if (kind == stream_kind::sse && request.method == "GET") {
        connect = strings::query_param(request.query, "cf_connect").value_or(std::string{});
    } else {
        connect = std::move(request.body);
    }
    const auto& cfg = *ep.ctx->current(shard)->cfg;
    // With connect_code_to_http_response the head waits for the connect's outcome.
    const bool defer_head =
        (kind == stream_kind::uni_sse && cfg.uni_sse_code_to_http) ||
        (kind == stream_kind::uni_http_stream && cfg.uni_http_stream_code_to_http);
    auto head = response_head(kind, request, protobuf);
    auto conn = std::make_shared<stream_connection>(ep, shard, fd, kind, protobuf, request.http11);
    if (defer_head) {
        conn->extra_headers_ = request.headers;
    }
    if (const auto& name = cfg.client.user_id_http_header; !name.empty()) {
        conn->header_user_from(header_value(request.request_headers, name));
    }
    if (const auto* backend = ep.ctx->backend(); backend != nullptr) {
        conn->keep_request_headers(request.request_headers, backend->header_names);
    }
    conn->open(std::move(head), std::move(connect), protobuf, defer_head);
}

unsigned handle_emulation(const endpoint& ep,
                          std::size_t shard,
                          std::string_view content_type,
                          std::string_view body) {
    const bool binary = content_type == protobuf_content_type;
    auto request = binary ? pc::protobuf::decode_emulation_request(body)
                          : pc::json::decode_emulation_request(body);
    if (!request) {
        return 400;
    }
    auto& node = ep.ctx->node();
    if (request->node.empty() || !node.knows_node(request->node)) {
        return 404;
    }
    if (request->node != node.uid()) {
        node.forward_emulation(shard, request->node, request->session, request->data, binary);
        return 204;
    }
    if (ep.emulation != nullptr) {
        ep.emulation->deliver(request->session, std::move(request->data), binary);
    }
    return 204;
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

// ---- emulation sessions ----------------------------------------------------------------------

emulation_sessions::emulation_sessions(runtime::shard_set& shards)
    : shards_(shards)
    , per_shard_(shards.size()) {}

std::string emulation_sessions::add(std::size_t shard, std::weak_ptr<entry> stream) {
    // "<uuid>.<shard>": the shard in the id lets any thread route a request to it.
    std::string id = random_uuid() + "." + std::to_string(shard);
    per_shard_[shard].emplace(id, std::move(stream));
    return id;
}

void emulation_sessions::remove(std::size_t shard, const std::string& id) {
    per_shard_[shard].erase(id);
}

void emulation_sessions::deliver(const std::string& id, std::string data, bool binary) {
    const auto dot = id.rfind('.');
    if (dot == std::string::npos) {
        return;
    }
    std::size_t shard = 0;
    const auto* first = id.data() + dot + 1;
    const auto* last = id.data() + id.size();
    if (const auto [end, ec] = std::from_chars(first, last, shard);
        ec != std::errc{} || end != last || first == last || shard >= per_shard_.size()) {
        return;
    }
    shards_.at(shard).submit([this, shard, id, data = std::move(data), binary] {
        const auto& sessions = per_shard_[shard];
        if (const auto it = sessions.find(id); it != sessions.end()) {
            if (auto stream = it->second.lock()) {
                stream->receive(data, binary);
            }
        }
    });
}

} // namespace gyre::transport
