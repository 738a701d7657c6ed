// File: engine/redis/address.cpp
#include "engine/redis/address.hpp"

#include "config/duration.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace gyre::engine::redis {

namespace {

// Minimal %XX decoding for credentials and paths in URLs.
std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) {
            return std::nullopt;
        }
        unsigned value = 0;
        auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
        if (ec != std::errc{} || end != in.data() + i + 3) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(value));
        i += 2;
    }
    return out;
}

template <typename Int>
bool parse_int(std::string_view s, Int& out) {
    if (s.empty()) {
        return false;
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

std::optional<address_error> parse_host_port(std::string_view hostport, address& out) {
    std::string_view host = hostport;
    std::string_view port;
    if (!hostport.empty() && hostport.front() == '[') { // [ipv6]:port
        auto close = hostport.find(']');
        if (close == std::string_view::npos) {
            return address_error{fmt::format("unterminated '[' in host \"{}\"", hostport)};
        }
        host = hostport.substr(1, close - 1);
        auto rest = hostport.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return address_error{fmt::format("unexpected \"{}\" after host", rest)};
            }
            port = rest.substr(1);
        }
    } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    if (host.empty()) {
        return address_error{fmt::format("missing host in \"{}\"", hostport)};
    }
    out.host = std::string(host);
    if (!port.empty() || hostport.ends_with(':')) {
        unsigned value = 0;
        if (!parse_int(port, value) || value == 0 || value > 65535) {
            return address_error{fmt::format("bad port \"{}\" (want 1-65535)", port)};
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    return std::nullopt;
}

std::optional<address_error> parse_query(std::string_view query, address& out) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        auto key = pair.substr(0, eq);
        auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (key == "connect_timeout" || key == "io_timeout") {
            auto d = config::parse_duration(value);
            if (!d || d->count() <= 0) {
                return address_error{fmt::format(
                    "bad {} \"{}\" (want a duration such as \"1s\" or \"500ms\")", key, value)};
            }
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
            (key == "connect_timeout" ? out.connect_timeout : out.io_timeout) =
                ms.count() > 0 ? ms : std::chrono::milliseconds(1);
        } else {
            return address_error{fmt::format("unsupported query parameter \"{}\"", key)};
        }
    }
    return std::nullopt;
}

// Splits "user:pass@rest"; a lone "pass@" (no colon) is a password, as go-redis reads it.
std::optional<address_error> take_credentials(std::string_view& rest, address& out) {
    auto at = rest.rfind('@');
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto pass = colon == std::string_view::npos ? std::optional<std::string>{}
                                                : percent_decode(userinfo.substr(colon + 1));
    if (!user || (colon != std::string_view::npos && !pass)) {
        return address_error{"bad percent-encoding in user:password"};
    }
    if (colon == std::string_view::npos) {
        out.password = *user;
    } else {
        out.user = *user;
        out.password = *pass;
    }
    return std::nullopt;
}

} // namespace

std::string address::describe() const {
    if (is_unix()) {
        return "unix:" + unix_path;
    }
    if (host.find(':') != std::string::npos) {
        return fmt::format("[{}]:{}", host, port);
    }
    return fmt::format("{}:{}", host, port);
}

std::variant<address, address_error> parse_address(std::string_view text) {
    address out;
    std::string_view rest = text;
    std::string_view scheme;
    if (auto sep = rest.find("://"); sep != std::string_view::npos) {
        scheme = rest.substr(0, sep);
        rest = rest.substr(sep + 3);
    }
    if (scheme == "rediss" || scheme == "redis+cluster" || scheme == "rediss+cluster" ||
        scheme == "redis+sentinel" || scheme == "rediss+sentinel") {
        return address_error{fmt::format(
            "redis address \"{}\": scheme \"{}://\" is not supported yet", text, scheme)};
    }
    if (!scheme.empty() && scheme != "tcp" && scheme != "redis" && scheme != "unix") {
        return address_error{fmt::format(
            "redis address \"{}\": unknown scheme \"{}://\" (want redis://, tcp:// or unix://)",
            text,
            scheme)};
    }
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    auto fail = [&](const address_error& e) {
        return address_error{fmt::format("redis address \"{}\": {}", text, e.message)};
    };
    if (scheme == "redis" || scheme == "unix") {
        if (auto e = take_credentials(rest, out)) {
            return fail(*e);
        }
    }
    if (scheme == "unix") {
        auto path = percent_decode(rest);
        if (!path || path->empty() || path->front() != '/') {
            return fail({"unix socket path must be absolute, e.g. unix:///var/run/redis.sock"});
        }
        out.unix_path = std::move(*path);
    } else {
        std::string_view hostport = rest;
        if (scheme == "redis") {
            if (auto slash = rest.find('/'); slash != std::string_view::npos) {
                hostport = rest.substr(0, slash);
                auto db = rest.substr(slash + 1);
                if (!db.empty() && (!parse_int(db, out.db) || out.db < 0)) {
                    return fail({fmt::format("bad db number \"{}\"", db)});
                }
            }
        } else if (rest.find('/') != std::string_view::npos) {
            return fail({"unexpected '/' (use redis://host:port/db to pick a db)"});
        }
        if (auto e = parse_host_port(hostport, out)) {
            return fail(*e);
        }
    }
    if (auto e = parse_query(query, out)) {
        return fail(*e);
    }
    return out;
}

} // namespace gyre::engine::redis
