#include "app/engine_setup.hpp"

#include "config/duration.hpp"
#include "core/log.hpp"
#include "engine/redis/cluster.hpp"
#include "node/nats_broker.hpp"
#include "node/redis_broker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace gyre::app {
namespace json = boost::json;
namespace rd = engine::redis;

namespace {

std::string text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool flag(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->as_bool();
}

/// Every string of a list (a lone string counts as one entry). With `split` an entry may hold
/// several comma-separated addresses, as Centrifugo accepts for Sentinel and Cluster seeds.
std::vector<std::string> entries(const json::object& o, std::string_view key, bool split) {
    std::vector<std::string> out;
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return out;
    }
    auto add = [&out, split](std::string_view s) {
        if (!split) {
            out.emplace_back(s);
            return;
        }
        while (!s.empty()) {
            const auto comma = s.find(',');
            auto item = s.substr(0, comma);
            if (!item.empty()) {
                out.emplace_back(item);
            }
            s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
        }
    };
    if (v->is_string()) {
        add(v->as_string());
    } else if (v->is_array()) {
        for (const auto& e : v->as_array()) {
            if (e.is_string()) {
                add(e.as_string());
            }
        }
    }
    return out;
}

/// A configured `tls` object with enabled: true wins over what the address implied.
void apply_tls(const json::object& o, std::string_view key, rd::tls_options& target) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_object() || !flag(v->as_object(), "enabled")) {
        return;
    }
    const auto& t = v->as_object();
    target.enabled = true;
    target.server_ca_pem = text(t, "server_ca_pem");
    target.cert_pem = text(t, "cert_pem");
    target.key_pem = text(t, "key_pem");
    target.insecure_skip_verify = flag(t, "insecure_skip_verify");
    target.server_name = text(t, "server_name");
}

/// Fills what the address string left at its default from the object's own keys.
void apply_object(const json::object& o, rd::address& a) {
    if (a.user.empty()) {
        a.user = text(o, "user");
    }
    if (a.password.empty()) {
        a.password = text(o, "password");
    }
    if (a.db == 0) {
        if (const auto* db = o.if_contains("db"); db != nullptr && db->is_int64()) {
            a.db = static_cast<int>(db->as_int64());
        }
    }
    const rd::address defaults;
    if (a.connect_timeout == defaults.connect_timeout) {
        if (auto d = config::parse_duration(text(o, "connect_timeout"))) {
            a.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        }
    }
    if (a.io_timeout == defaults.io_timeout) {
        if (auto d = config::parse_duration(text(o, "io_timeout"))) {
            a.io_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        }
    }
    apply_tls(o, "tls", a.tls);
    apply_tls(o, "sentinel_tls", a.sentinel_tls);
    if (a.sentinel_user.empty()) {
        a.sentinel_user = text(o, "sentinel_user");
    }
    if (a.sentinel_password.empty()) {
        a.sentinel_password = text(o, "sentinel_password");
    }
    a.client_name = text(o, "client_name");
    a.sentinel_client_name = text(o, "sentinel_client_name");
}

/// "host:port" entries of an explicit cluster/sentinel list as seeds of one address.
std::variant<rd::address, std::string>
seeded(const std::vector<std::string>& list, rd::address_mode mode, std::string_view path) {
    rd::address out;
    out.mode = mode;
    for (const auto& entry : list) {
        auto parsed = rd::parse_address(entry);
        if (const auto* err = std::get_if<rd::address_error>(&parsed)) {
            return std::string(path) + ": " + err->message;
        }
        const auto& one = std::get<rd::address>(parsed);
        if (one.is_unix()) {
            return std::string(path) + ": " + entry + ": a unix socket cannot be a seed";
        }
        if (out.seeds.empty()) {
            out.host = one.host;
            out.port = one.port;
            out.user = one.user;
            out.password = one.password;
            out.tls = one.tls;
        }
        if (one.seeds.empty()) {
            out.seeds.push_back({one.host, one.port});
        } else { // an entry's own addr= seeds count too
            out.seeds.insert(out.seeds.end(), one.seeds.begin(), one.seeds.end());
        }
    }
    return out;
}

} // namespace

std::variant<std::vector<rd::address>, std::string> redis_addresses(const json::object& redis,
                                                                    std::string_view path) {
    std::vector<rd::address> out;
    const auto sentinels = entries(redis, "sentinel_address", true);
    const auto cluster = entries(redis, "cluster_address", true);
    const std::string base(path);
    if (!sentinels.empty()) {
        // Centrifugo: an explicit Sentinel list wins over `address`.
        auto a = seeded(sentinels, rd::address_mode::sentinel, base + ".sentinel_address");
        if (auto* err = std::get_if<std::string>(&a)) {
            return *err;
        }
        auto& s = std::get<rd::address>(a);
        s.sentinel_master_name = text(redis, "sentinel_master_name");
        if (s.sentinel_master_name.empty()) {
            return base + ".sentinel_master_name: required with sentinel_address";
        }
        // The URL's credentials were the Sentinels'; the object's user/password are the master's.
        s.sentinel_user = s.user;
        s.sentinel_password = s.password;
        s.user.clear();
        s.password.clear();
        s.sentinel_tls = s.tls;
        s.tls = {};
        out.push_back(std::move(s));
    } else if (!cluster.empty()) {
        auto a = seeded(cluster, rd::address_mode::cluster, base + ".cluster_address");
        if (auto* err = std::get_if<std::string>(&a)) {
            return *err;
        }
        out.push_back(std::get<rd::address>(std::move(a)));
    } else {
        for (const auto& entry : entries(redis, "address", false)) {
            auto parsed = rd::parse_address(entry);
            if (const auto* err = std::get_if<rd::address_error>(&parsed)) {
                return base + ".address: " + err->message;
            }
            out.push_back(std::get<rd::address>(std::move(parsed)));
        }
    }
    if (out.empty()) {
        return base + ".address: at least one address is needed";
    }
    for (auto& a : out) {
        apply_object(redis, a);
    }
    // Redis refuses CLIENT SETNAME with spaces or special characters: say so now rather than
    // fail every connection attempt.
    for (const auto* key : {"client_name", "sentinel_client_name"}) {
        const auto name = text(redis, key);
        if (std::any_of(name.begin(), name.end(), [](char ch) { return ch < '!' || ch > '~'; })) {
            return base + "." + key + ": \"" + name +
                   "\" (Redis client names take printable ASCII without spaces)";
        }
    }
    return out;
}

namespace {

/// A plain address may point at a Redis Cluster node: ask each one once (INFO cluster, bounded
/// by its connect and io timeouts) before the shards start, as Centrifugo recognises clusters.
/// A seed list on a plain scheme (addr=) must name Cluster nodes: a first seed that answers as
/// a lone server is an error, as Centrifugo's client refuses it (an unreachable one is not:
/// the cluster client keeps trying every seed).
std::optional<std::string> detect_clusters(std::vector<rd::address>& addresses,
                                           std::string_view path) {
    boost::asio::io_context probe_context;
    std::optional<std::string> error;
    for (auto& a : addresses) {
        if (a.is_cluster() && a.cluster_from_seeds) {
            auto first = a;
            first.mode = rd::address_mode::standalone; // the probe dials host:port, seeds[0]
            rd::detect_cluster(probe_context, first, [&a, &error, path](rd::cluster_probe probe) {
                if (probe.reachable && !probe.cluster_enabled) {
                    error = fmt::format("{}.address: addr= lists Redis Cluster seeds, but {} is "
                                        "not a cluster node (cluster_enabled:0); for one server "
                                        "give its address without addr=",
                                        path,
                                        a.seeds.front().describe());
                }
            });
            continue;
        }
        if (a.mode != rd::address_mode::standalone || a.is_unix()) {
            continue;
        }
        rd::detect_cluster(probe_context, a, [&a](rd::cluster_probe probe) {
            if (probe.cluster_enabled) {
                a.mode = rd::address_mode::cluster;
                a.seeds = {{a.host, a.port}};
                GYRE_LOG_INFO("redis {} is a cluster node: using it as a cluster seed",
                              a.seeds.front().describe());
            }
        });
    }
    probe_context.run();
    return error;
}

const json::object& section(const config::config& cfg, const char* name, const char* sub) {
    return cfg.tree.at(name).as_object().at(sub).as_object();
}

std::chrono::seconds seconds_of(const json::object& redis, std::chrono::seconds fallback) {
    if (auto d = config::parse_duration(text(redis, "presence_ttl"))) {
        return std::max(std::chrono::seconds(1),
                        std::chrono::duration_cast<std::chrono::seconds>(*d));
    }
    return fallback;
}

/// A redis broker factory for `section.redis`, or the error.
std::variant<node::node::broker_factory, std::string>
redis_factory(const config::config& cfg, const char* name, bool presence_only) {
    const auto& redis = section(cfg, name, "redis");
    auto addresses = redis_addresses(redis, std::string(name) + ".redis");
    if (auto* err = std::get_if<std::string>(&addresses)) {
        return *err;
    }
    node::redis_broker_options options;
    options.addresses = std::get<std::vector<rd::address>>(std::move(addresses));
    if (auto err = detect_clusters(options.addresses, std::string(name) + ".redis")) {
        return *err;
    }
    options.prefix = text(redis, "prefix");
    options.presence_only = presence_only;
    options.presence_user_mapping = flag(redis, "presence_user_mapping");
    return node::node::broker_factory([options = std::move(options)](node::node& n) {
        return node::make_redis_broker(n, options);
    });
}

std::variant<node::node::broker_factory, std::string> nats_factory(const config::config& cfg) {
    // broker.nats.tls, raw_mode and allow_wildcards: config/unsupported.cpp reports them.
    node::nats_broker_options options;
    options.url = cfg.broker.nats_url.empty() ? options.url : cfg.broker.nats_url;
    options.prefix = cfg.broker.nats_prefix;
    options.dial_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg.broker.nats_dial_timeout);
    options.write_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg.broker.nats_write_timeout);
    return node::node::broker_factory(
        [options](node::node& n) { return node::make_nats_broker(n, options); });
}

} // namespace

std::variant<engine_plan, std::string> plan_engines(const config::config& cfg) {
    engine_plan plan;
    using factory_or_error = std::variant<node::node::broker_factory, std::string>;
    auto take = [](factory_or_error f, node::node::broker_factory& into) -> std::string {
        if (auto* err = std::get_if<std::string>(&f)) {
            return *err;
        }
        into = std::get<node::node::broker_factory>(std::move(f));
        return {};
    };
    const bool redis_engine = cfg.engine.type == "redis";
    std::string broker_kind = "memory";
    if (redis_engine) {
        // One Redis setup carries both parts; its broker keeps presence too.
        if (auto err = take(redis_factory(cfg, "engine", false), plan.broker); !err.empty()) {
            return err;
        }
        plan.presence_ttl = seconds_of(section(cfg, "engine", "redis"), plan.presence_ttl);
        broker_kind = "redis";
    }
    std::string presence_kind = redis_engine ? "redis" : "memory";
    if (cfg.broker.enabled) {
        factory_or_error f = node::node::broker_factory{};
        if (cfg.broker.type == "redis") {
            f = redis_factory(cfg, "broker", false);
        } else if (cfg.broker.type == "nats") {
            f = nats_factory(cfg);
        } else if (cfg.broker.type != "memory") {
            return "broker.type: " + cfg.broker.type + " is not available in this build yet";
        }
        if (auto err = take(std::move(f), plan.broker); !err.empty()) {
            return err;
        }
        broker_kind = cfg.broker.type;
        if (redis_engine) {
            // The engine's Redis still keeps presence, apart from the new broker.
            plan.presence = engine_plan::presence_kind::store;
            if (auto err = take(redis_factory(cfg, "engine", true), plan.presence_store);
                !err.empty()) {
                return err;
            }
        } else {
            plan.presence = engine_plan::presence_kind::local;
        }
    }
    const bool pm_enabled = cfg.tree.at("presence_manager").as_object().at("enabled").as_bool();
    if (pm_enabled) {
        const auto pm_type =
            std::string(cfg.tree.at("presence_manager").as_object().at("type").as_string());
        if (pm_type == "redis") {
            plan.presence = engine_plan::presence_kind::store;
            if (auto err = take(redis_factory(cfg, "presence_manager", true), plan.presence_store);
                !err.empty()) {
                return err;
            }
            plan.presence_ttl =
                seconds_of(section(cfg, "presence_manager", "redis"), plan.presence_ttl);
        } else {
            plan.presence = engine_plan::presence_kind::local;
            plan.presence_store = {};
        }
        presence_kind = pm_type;
    }
    plan.describe = "broker=" + broker_kind + " presence_manager=" + presence_kind;
    return plan;
}

void apply_presence(const engine_plan& plan, node::node& n) {
    switch (plan.presence) {
    case engine_plan::presence_kind::broker:
        break; // the broker's own store when it keeps one, else memory
    case engine_plan::presence_kind::local:
        n.use_local_presence();
        break;
    case engine_plan::presence_kind::store:
        n.use_presence_store(plan.presence_store(n));
        break;
    }
    n.set_presence_ttl(plan.presence_ttl);
}

} // namespace gyre::app
