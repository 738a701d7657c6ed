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

std::optional<address_error>
parse_host_port(std::string_view hostport, std::uint16_t default_port, endpoint& out) {
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
    out.port = default_port;
    if (!port.empty() || hostport.ends_with(':')) {
        unsigned value = 0;
        if (!parse_int(port, value) || value == 0 || value > 65535) {
            return address_error{fmt::format("bad port \"{}\" (want 1-65535)", port)};
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    return std::nullopt;
}

// Go's strconv.ParseBool, which Centrifugo uses for boolean query parameters.
std::optional<bool> parse_bool(std::string_view s) {
    for (auto t : {"1", "t", "T", "true", "TRUE", "True"}) {
        if (s == t) {
            return true;
        }
    }
    for (auto f : {"0", "f", "F", "false", "FALSE", "False"}) {
        if (s == f) {
            return false;
        }
    }
    return std::nullopt;
}

// Query values are form-encoded, as Go's url.Query reads them: '+' is a space.
std::optional<std::string> query_decode(std::string_view in) {
    std::string plus_as_space(in);
    for (auto& c : plus_as_space) {
        if (c == '+') {
            c = ' ';
        }
    }
    return percent_decode(plus_as_space);
}

struct query_flags {
    std::optional<bool> tls_enabled;
    std::optional<bool> sentinel_tls_enabled;
    std::vector<std::string> extra_seeds;
};

std::optional<address_error> parse_query(std::string_view query, address& out, query_flags& flags) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        auto raw_key = pair.substr(0, eq);
        auto decoded_key = query_decode(raw_key);
        auto decoded =
            query_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!decoded_key || !decoded) {
            return address_error{
                fmt::format("bad percent-encoding in query parameter \"{}\"", raw_key)};
        }
        const std::string& key = *decoded_key;
        const std::string& value = *decoded;
        auto want_bool = [&](std::optional<bool>& into) -> std::optional<address_error> {
            into = parse_bool(value);
            if (!into) {
                return address_error{fmt::format("bad {} \"{}\" (want true or false)", key, value)};
            }
            return std::nullopt;
        };
        std::optional<bool> flag;
        if (key == "connect_timeout" || key == "io_timeout") {
            auto d = config::parse_duration(value);
            if (!d || d->count() <= 0) {
                return address_error{fmt::format(
                    "bad {} \"{}\" (want a duration such as \"1s\" or \"500ms\")", key, value)};
            }
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
            (key == "connect_timeout" ? out.connect_timeout : out.io_timeout) =
                ms.count() > 0 ? ms : std::chrono::milliseconds(1);
        } else if (key == "tls_enabled") {
            if (auto e = want_bool(flags.tls_enabled)) {
                return e;
            }
        } else if (key == "sentinel_tls_enabled") {
            if (auto e = want_bool(flags.sentinel_tls_enabled)) {
                return e;
            }
        } else if (key == "force_resp2" || key == "replica_client_enabled") {
            if (auto e = want_bool(flag)) {
                return e;
            }
            (key == "force_resp2" ? out.force_resp2 : out.replica_client_enabled) = *flag;
        } else if (key == "sentinel_master_name") {
            out.sentinel_master_name = value;
        } else if (key == "sentinel_user") {
            out.sentinel_user = value;
        } else if (key == "sentinel_password") {
            out.sentinel_password = value;
        } else if (key == "addr") {
            flags.extra_seeds.push_back(value);
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

std::string join_seeds(const std::vector<endpoint>& seeds) {
    std::string out;
    for (const auto& s : seeds) {
        if (!out.empty()) {
            out += ',';
        }
        out += s.describe();
    }
    return out;
}

} // namespace

std::string endpoint::describe() const {
    if (host.find(':') != std::string::npos) {
        return fmt::format("[{}]:{}", host, port);
    }
    return fmt::format("{}:{}", host, port);
}

std::string address::describe() const {
    switch (mode) {
    case address_mode::sentinel:
        return fmt::format("sentinel {}@{}", sentinel_master_name, join_seeds(seeds));
    case address_mode::cluster:
        return "cluster " + join_seeds(seeds);
    case address_mode::standalone:
        break;
    }
    if (is_unix()) {
        return "unix:" + unix_path;
    }
    return endpoint{host, port}.describe();
}

std::variant<address, address_error> parse_address(std::string_view text) {
    address out;
    std::string_view rest = text;
    std::string_view scheme;
    if (auto sep = rest.find("://"); sep != std::string_view::npos) {
        scheme = rest.substr(0, sep);
        rest = rest.substr(sep + 3);
    }
    auto fail = [&](const address_error& e) {
        return address_error{fmt::format("redis address \"{}\": {}", text, e.message)};
    };
    if (scheme == "rediss+cluster") {
        // Centrifugo does not know this scheme either; TLS to a cluster is a query parameter.
        return fail({"unknown scheme \"rediss+cluster://\" (for TLS to a cluster use "
                     "redis+cluster://host:port?tls_enabled=true)"});
    }
    const bool sentinel_scheme = scheme == "redis+sentinel" || scheme == "rediss+sentinel";
    const bool cluster_scheme = scheme == "redis+cluster";
    if (!scheme.empty() && scheme != "tcp" && scheme != "redis" && scheme != "rediss" &&
        scheme != "unix" && !sentinel_scheme && !cluster_scheme) {
        return fail({fmt::format("unknown scheme \"{}://\" (want redis://, rediss://, tcp://, "
                                 "unix://, redis+sentinel://, rediss+sentinel:// or "
                                 "redis+cluster://)",
                                 scheme)});
    }
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    if (!scheme.empty()) {
        if (auto e = take_credentials(rest, out)) {
            return fail(*e);
        }
    }
    const std::uint16_t default_port = sentinel_scheme ? 26379 : 6379;
    if (scheme == "unix") {
        auto path = percent_decode(rest);
        if (!path || path->empty() || path->front() != '/') {
            return fail({"unix socket path must be absolute, e.g. unix:///var/run/redis.sock"});
        }
        out.unix_path = std::move(*path);
    } else {
        std::string_view hostport = rest;
        if (!scheme.empty()) {
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
        endpoint first;
        if (auto e = parse_host_port(hostport, default_port, first)) {
            return fail(*e);
        }
        out.host = first.host;
        out.port = first.port;
        out.seeds.push_back(std::move(first));
    }
    query_flags flags;
    if (auto e = parse_query(query, out, flags)) {
        return fail(*e);
    }
    for (const auto& extra : flags.extra_seeds) {
        endpoint seed;
        if (auto e = parse_host_port(extra, default_port, seed)) {
            return fail({fmt::format("addr \"{}\": {}", extra, e->message)});
        }
        out.seeds.push_back(std::move(seed));
    }

    const bool sentinel = sentinel_scheme || !out.sentinel_master_name.empty();
    if (sentinel_scheme && out.sentinel_master_name.empty()) {
        return fail({fmt::format("{}:// needs sentinel_master_name=<name> (the master the "
                                 "Sentinels monitor)",
                                 scheme)});
    }
    if (sentinel && (cluster_scheme || out.is_unix())) {
        return fail({fmt::format("sentinel_master_name does not go with {}://", scheme)});
    }
    // As in Centrifugo, addr= goes with any scheme: several seeds without a Sentinel master
    // name can only be a Redis Cluster (checked against the nodes at start-up).
    const bool cluster_seeds = !sentinel && !cluster_scheme && !flags.extra_seeds.empty();
    if (cluster_seeds && out.is_unix()) {
        return fail({"addr= lists more Sentinels or cluster nodes; it does not go with unix://"});
    }
    const bool cluster = cluster_scheme || cluster_seeds;
    if (cluster && out.db != 0) {
        return fail({"Redis Cluster has only db 0"});
    }
    if (out.replica_client_enabled && !sentinel && !cluster) {
        return fail({"replica_client_enabled works only with Sentinel or Cluster"});
    }
    out.cluster_from_seeds = cluster_seeds;
    if (sentinel) {
        out.mode = address_mode::sentinel;
    } else if (cluster) {
        out.mode = address_mode::cluster;
    } else {
        out.seeds.clear(); // a standalone address has no seeds
    }
    // rediss:// means TLS to the data nodes, and to the Sentinels too for rediss+sentinel://;
    // the *_tls_enabled parameters can switch TLS on but not off (as in Centrifugo).
    out.tls.enabled = scheme.starts_with("rediss") || flags.tls_enabled.value_or(false);
    out.sentinel_tls.enabled =
        scheme == "rediss+sentinel" || flags.sentinel_tls_enabled.value_or(false);
    return out;
}

} // namespace gyre::engine::redis
