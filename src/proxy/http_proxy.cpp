#include "proxy/http_proxy.hpp"

#include "core/base64.hpp"
#include "protocol/json_fields.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <stdexcept>

namespace gyre::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// ---- request bodies -------------------------------------------------------------------------

void add_string(std::string& out, std::string_view key, std::string_view value) {
    out += ",\"";
    out += key;
    out += "\":";
    out += boost::json::serialize(boost::json::string(value));
}

/// A payload: raw JSON as is, or base64 under the b64 twin of the key (binary_encoding).
void add_payload(std::string& out, std::string_view key, std::string_view value, bool binary) {
    if (value.empty()) {
        return;
    }
    if (binary) {
        add_string(out, "b64" + std::string(key), base64::encode(value));
        return;
    }
    out += ",\"";
    out += key;
    out += "\":";
    out += value;
}

// ---- answers ----------------------------------------------------------------------------------

/// Reads a scalar; a value of another type leaves the default.
template <typename T>
void try_get(simdjson::simdjson_result<T> r, T& out) {
    if (std::move(r).get(out) != simdjson::SUCCESS) {
        out = T{};
    }
}

/// Every field any result object may carry; one reader serves all six events.
struct result_fields {
    std::string user;
    std::int64_t expire_at = 0;
    bool expired = false;
    bool skip_history = false;
    std::optional<std::string> info;
    std::optional<std::string> data;
    std::optional<std::string> meta;
    std::optional<std::string> b64info;
    std::optional<std::string> b64data;
    std::vector<std::string> channels;
    std::map<std::string, subscribe_options> subs;
    option_override override_options;
};

bool read_result(simdjson::ondemand::value value, result_fields& out) {
    namespace jf = protocol::json_fields;
    simdjson::ondemand::object o;
    if (value.get_object().get(o) != simdjson::SUCCESS) {
        return false;
    }
    for (auto field : o) {
        std::string_view key;
        simdjson::ondemand::value v;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
            field.value().get(v) != simdjson::SUCCESS) {
            return false;
        }
        std::string_view text;
        std::string raw;
        if (key == "user") {
            if (v.get_string().get(text) == simdjson::SUCCESS) {
                out.user = std::string(text);
            }
        } else if (key == "expire_at") {
            try_get(v.get_int64(), out.expire_at);
        } else if (key == "expired") {
            try_get(v.get_bool(), out.expired);
        } else if (key == "skip_history") {
            try_get(v.get_bool(), out.skip_history);
        } else if (key == "info" || key == "data" || key == "meta") {
            if (jf::trimmed_raw(v, raw)) {
                (key == "info" ? out.info : key == "data" ? out.data : out.meta) = std::move(raw);
            }
        } else if (key == "b64info" || key == "b64data") {
            if (v.get_string().get(text) == simdjson::SUCCESS) {
                (key == "b64info" ? out.b64info : out.b64data) = std::string(text);
            }
        } else if (key == "channels") {
            simdjson::ondemand::array arr;
            if (v.get_array().get(arr) == simdjson::SUCCESS) {
                for (auto item : arr) {
                    if (item.get_string().get(text) == simdjson::SUCCESS) {
                        out.channels.emplace_back(text);
                    }
                }
            }
        } else if (key == "subs") {
            simdjson::ondemand::object subs;
            if (v.get_object().get(subs) == simdjson::SUCCESS) {
                for (auto sub : subs) {
                    std::string_view ch;
                    simdjson::ondemand::value sv;
                    if (sub.unescaped_key().get(ch) == simdjson::SUCCESS &&
                        sub.value().get(sv) == simdjson::SUCCESS) {
                        jf::read_subscription(ch, sv, out.subs[std::string(ch)]);
                    }
                }
            }
        } else if (key == "override") {
            jf::read_override(v, out.override_options);
        }
    }
    // The b64 twins win, as in Centrifugo.
    if (auto d = jf::decoded(out.b64info)) {
        out.info = std::move(d);
    }
    if (auto d = jf::decoded(out.b64data)) {
        out.data = std::move(d);
    }
    return true;
}

result to_result(const request& req, result_fields f) {
    auto text = [](std::optional<std::string>& v) {
        return v ? std::move(*v) : std::string{};
    };
    switch (req.index()) {
    case 0: {
        connect_result r;
        r.user = std::move(f.user);
        r.expire_at = f.expire_at;
        r.info = text(f.info);
        r.data = text(f.data);
        r.channels = std::move(f.channels);
        r.subs = std::move(f.subs);
        r.meta = text(f.meta);
        return r;
    }
    case 1:
        return refresh_result{f.expired, f.expire_at, text(f.info), text(f.meta)};
    case 2:
        return subscribe_result{f.expire_at, text(f.info), text(f.data), f.override_options};
    case 3:
        return publish_result{std::move(f.data), f.skip_history};
    case 4:
        return sub_refresh_result{f.expired, f.expire_at, text(f.info)};
    default:
        return rpc_result{text(f.data)};
    }
}

// ---- the client -------------------------------------------------------------------------------

struct parsed_endpoint {
    std::string host;
    std::string port;
    std::string target;
};

parsed_endpoint parse_endpoint(const std::string& url) {
    if (url.starts_with("https://")) {
        throw std::runtime_error("proxy endpoint " + url +
                                 ": https is not available in this build yet; use http:// to a "
                                 "local TLS-terminating proxy, or grpc://");
    }
    if (!url.starts_with("http://")) {
        throw std::runtime_error("proxy endpoint " + url + ": must start with http:// or grpc://");
    }
    const std::string rest = url.substr(7);
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    parsed_endpoint e;
    e.target = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']') == std::string::npos) {
        e.host = authority.substr(0, colon);
        e.port = authority.substr(colon + 1);
    } else {
        e.host = authority;
        e.port = "80";
    }
    if (e.host.empty()) {
        throw std::runtime_error("proxy endpoint " + url + ": no host");
    }
    return e;
}

struct http_answer {
    unsigned status = 0; ///< 0: no answer (see error)
    std::string body;
    std::string error;
};

class http_proxy final : public client {
public:
    http_proxy(runtime::shard_set& shards, options o)
        : client(std::move(o))
        , shards_(shards)
        , endpoint_(parse_endpoint(options_.endpoint))
        , pools_(shards.size()) {}

    void send(std::size_t shard,
              const client_context& ctx,
              request req,
              unique_function<void(response)> done) override {
        auto body = encode_http_request(ctx, req, options_.binary_encoding);
        auto headers = ctx.headers;
        net::co_spawn(shards_.at(shard).context(),
                      exchange(shard, std::move(body), std::move(headers)),
                      [this, req = std::move(req), done = std::move(done)](
                          const std::exception_ptr& e, http_answer a) mutable {
                          if (e) {
                              done(failure{"proxy exchange failed"});
                              return;
                          }
                          done(answer(req, a));
                      });
    }

private:
    /// Keep-alive connections of one shard, used only on its thread.
    struct pool {
        std::vector<std::unique_ptr<beast::tcp_stream>> idle;
        std::optional<tcp::resolver::results_type> resolved;
    };

    static constexpr std::size_t max_idle = 64;

    response answer(const request& req, const http_answer& a) const {
        if (a.status == 0) {
            return failure{a.error};
        }
        if (a.status != 200) {
            for (const auto& t : options_.status_transforms) {
                if (t.status == a.status) {
                    if (t.to_error) {
                        return *t.to_error;
                    }
                    if (t.to_disconnect) {
                        return *t.to_disconnect;
                    }
                }
            }
            return failure{"unexpected status " + std::to_string(a.status)};
        }
        return decode_http_response(req, a.body, options_.binary_encoding);
    }

    net::awaitable<http_answer>
    exchange(std::size_t shard,
             std::string body,
             std::vector<std::pair<std::string, std::string>> forwarded) {
        auto& p = pools_[shard];
        auto executor = co_await net::this_coro::executor;
        http::request<http::string_body> req{http::verb::post, endpoint_.target, 11};
        req.set(http::field::host, endpoint_.host);
        req.set(http::field::user_agent, "gyre");
        for (const auto& [k, v] : options_.static_headers) {
            req.set(k, v);
        }
        for (const auto& [k, v] : forwarded) {
            req.set(k, v); // the client's headers win over static ones, as in Centrifugo
        }
        req.set(http::field::content_type, "application/json");
        req.keep_alive(true);
        req.body() = std::move(body);
        req.prepare_payload();
        // A pooled connection the backend closed meanwhile fails at once: one retry on a
        // fresh connection.
        for (int attempt = 0; attempt < 2; ++attempt) {
            std::unique_ptr<beast::tcp_stream> stream;
            const bool reused = !p.idle.empty();
            if (reused) {
                stream = std::move(p.idle.back());
                p.idle.pop_back();
            } else {
                stream = std::make_unique<beast::tcp_stream>(executor);
                if (!p.resolved) {
                    tcp::resolver resolver(executor);
                    auto [ec, results] =
                        co_await resolver.async_resolve(endpoint_.host, endpoint_.port, use_tuple);
                    if (ec) {
                        co_return http_answer{0, {}, "resolve: " + ec.message()};
                    }
                    p.resolved = std::move(results);
                }
                stream->expires_after(options_.timeout);
                auto [ec, ep] = co_await stream->async_connect(*p.resolved, use_tuple);
                (void)ep;
                if (ec) {
                    co_return http_answer{0, {}, "connect: " + ec.message()};
                }
                stream->socket().set_option(tcp::no_delay(true), ec);
            }
            stream->expires_after(options_.timeout);
            auto [write_ec, written] = co_await http::async_write(*stream, req, use_tuple);
            (void)written;
            if (write_ec) {
                if (reused) {
                    continue;
                }
                co_return http_answer{0, {}, "write: " + write_ec.message()};
            }
            beast::flat_buffer buffer;
            http::response_parser<http::string_body> parser;
            parser.body_limit(16 * 1024 * 1024);
            auto [read_ec, read] = co_await http::async_read(*stream, buffer, parser, use_tuple);
            (void)read;
            if (read_ec) {
                if (reused && read_ec != beast::error::timeout) {
                    continue;
                }
                co_return http_answer{0, {}, "read: " + read_ec.message()};
            }
            auto& res = parser.get();
            if (res.keep_alive() && p.idle.size() < max_idle) {
                stream->expires_never();
                p.idle.push_back(std::move(stream));
            }
            co_return http_answer{res.result_int(), std::move(res.body()), {}};
        }
        co_return http_answer{0, {}, "connection closed by the backend"};
    }

    runtime::shard_set& shards_;
    parsed_endpoint endpoint_;
    std::vector<pool> pools_;
};

} // namespace

std::string encode_http_request(const client_context& ctx, const request& req, bool binary) {
    std::string out = "{\"client\":";
    out += boost::json::serialize(boost::json::string(ctx.client));
    add_string(out, "transport", ctx.transport);
    add_string(out, "protocol", ctx.protocol);
    add_string(out, "encoding", ctx.encoding);
    if (!std::holds_alternative<connect_request>(req)) {
        add_string(out, "user", ctx.user);
        if (ctx.meta && !ctx.meta->empty()) {
            out += ",\"meta\":";
            out += *ctx.meta;
        }
    }
    std::visit(
        [&out, binary](const auto& r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, connect_request>) {
                if (!r.name.empty()) {
                    add_string(out, "name", r.name);
                }
                if (!r.version.empty()) {
                    add_string(out, "version", r.version);
                }
                add_payload(out, "data", r.data, binary);
                if (!r.channels.empty()) {
                    out += ",\"channels\":[";
                    for (std::size_t i = 0; i < r.channels.size(); ++i) {
                        out += (i > 0 ? "," : "");
                        out += boost::json::serialize(boost::json::string(r.channels[i]));
                    }
                    out += "]";
                }
            } else if constexpr (std::is_same_v<T, subscribe_request>) {
                add_string(out, "channel", r.channel);
                if (!r.token.empty()) {
                    add_string(out, "token", r.token);
                }
                add_payload(out, "data", r.data, binary);
            } else if constexpr (std::is_same_v<T, publish_request>) {
                add_string(out, "channel", r.channel);
                add_payload(out, "data", r.data, binary);
            } else if constexpr (std::is_same_v<T, sub_refresh_request>) {
                add_string(out, "channel", r.channel);
            } else if constexpr (std::is_same_v<T, rpc_request>) {
                add_string(out, "method", r.method);
                add_payload(out, "data", r.data, binary);
            }
        },
        req);
    out += "}";
    return out;
}

response decode_http_response(const request& req, std::string_view body, bool /*binary*/) {
    thread_local simdjson::ondemand::parser parser;
    const simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object root;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(root) != simdjson::SUCCESS) {
        return failure{"the backend's answer is not a JSON object"};
    }
    result_fields fields;
    std::optional<error> err;
    std::optional<disconnect> disc;
    bool has_result = false;
    for (auto field : root) {
        std::string_view key;
        simdjson::ondemand::value v;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
            field.value().get(v) != simdjson::SUCCESS) {
            return failure{"the backend's answer is not valid JSON"};
        }
        if (key == "result") {
            if (v.is_null()) {
                continue;
            }
            if (!read_result(v, fields)) {
                return failure{"the backend's result is not an object"};
            }
            has_result = true;
        } else if (key == "error" || key == "disconnect") {
            simdjson::ondemand::object o;
            if (v.is_null() || v.get_object().get(o) != simdjson::SUCCESS) {
                continue;
            }
            std::uint64_t code = 0;
            std::string text;
            bool temporary = false;
            for (auto f : o) {
                std::string_view k;
                simdjson::ondemand::value fv;
                if (f.unescaped_key().get(k) != simdjson::SUCCESS ||
                    f.value().get(fv) != simdjson::SUCCESS) {
                    return failure{"the backend's answer is not valid JSON"};
                }
                std::string_view s;
                if (k == "code") {
                    try_get(fv.get_uint64(), code);
                } else if ((k == "message" || k == "reason") &&
                           fv.get_string().get(s) == simdjson::SUCCESS) {
                    text = std::string(s);
                } else if (k == "temporary") {
                    try_get(fv.get_bool(), temporary);
                }
            }
            if (key == "error") {
                err = error{static_cast<std::uint32_t>(code), std::move(text), temporary};
            } else {
                disc = disconnect{static_cast<std::uint32_t>(code), std::move(text)};
            }
        }
    }
    if (disc) {
        return *disc;
    }
    if (err) {
        return *err;
    }
    if (!has_result) {
        // No result: connect has no credentials (refused, as the gRPC client does); refresh and
        // sub_refresh mean expired (as in Centrifugo); the other events an empty result.
        if (std::holds_alternative<connect_request>(req)) {
            return failure{"the backend's connect answer has no result"};
        }
        fields.expired = true;
    }
    return to_result(req, std::move(fields));
}

std::unique_ptr<client> make_http_client(runtime::shard_set& shards, const options& o) {
    return std::make_unique<http_proxy>(shards, o);
}

} // namespace gyre::proxy
