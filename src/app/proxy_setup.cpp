#include "app/proxy_setup.hpp"

#include "config/error.hpp"
#include "proxy/grpc_proxy.hpp"
#include "proxy/http_proxy.hpp"
#include "proxy/options.hpp"

#include <algorithm>

namespace gyre::app {
namespace json = boost::json;

namespace {

std::unique_ptr<proxy::client> make_client(runtime::shard_set& shards,
                                           const json::object& o,
                                           const std::string& path,
                                           std::string name) {
    const auto opts = proxy::parse_options(o, path, std::move(name));
    return opts.is_grpc() ? proxy::make_grpc_client(shards, opts)
                          : proxy::make_http_client(shards, opts);
}

/// The proxy object a name refers to: "default" is the event's own object, any other name a
/// `proxies[]` item.
std::pair<const json::object*, std::string> resolve(const json::object& tree,
                                                    const json::object& default_object,
                                                    const std::string& default_path,
                                                    const std::string& name,
                                                    const std::string& referrer) {
    if (name == "default") {
        return {&default_object, default_path};
    }
    const auto& items = tree.at("proxies").as_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].as_object().at("name").as_string() == name) {
            return {&items[i].as_object(), "proxies[" + std::to_string(i) + "]"};
        }
    }
    throw config::config_error(referrer + ": proxy \"" + name + "\" not found in proxies");
}

/// Adds the proxy `name` for one event unless it is there already.
void add_named(session::proxies::by_name& m,
               runtime::shard_set& shards,
               const json::object& tree,
               const json::object& default_object,
               const std::string& default_path,
               const std::string& name,
               const std::string& referrer) {
    if (m.contains(name)) {
        return;
    }
    const auto [object, path] = resolve(tree, default_object, default_path, name, referrer);
    m.emplace(name, make_client(shards, *object, path, name));
}

} // namespace

std::unique_ptr<session::proxies> build_proxies(const config::config& cfg,
                                                runtime::shard_set& shards) {
    auto out = std::make_unique<session::proxies>();
    const auto& tree = cfg.tree;
    const auto& client_proxy = tree.at("client").at("proxy").as_object();
    for (const char* event : {"connect", "refresh"}) {
        const auto& o = client_proxy.at(event).as_object();
        if (o.at("enabled").as_bool()) {
            auto c = make_client(shards, o, std::string("client.proxy.") + event, "default");
            (std::string_view(event) == "connect" ? out->connect : out->refresh) = std::move(c);
        }
    }
    // Channel namespaces: the proxies their enabled events name.
    const auto& channel_proxy = tree.at("channel").at("proxy").as_object();
    auto channel_events = [&](const config::channel_options& o, const std::string& where) {
        const std::array events{
            std::tuple{
                o.subscribe_proxy_enabled, &o.subscribe_proxy_name, &out->subscribe, "subscribe"},
            std::tuple{o.publish_proxy_enabled, &o.publish_proxy_name, &out->publish, "publish"},
            std::tuple{o.sub_refresh_proxy_enabled,
                       &o.sub_refresh_proxy_name,
                       &out->sub_refresh,
                       "sub_refresh"},
        };
        for (const auto& [enabled, name, table, event] : events) {
            if (enabled) {
                add_named(*table,
                          shards,
                          tree,
                          channel_proxy.at(event).as_object(),
                          std::string("channel.proxy.") + event,
                          *name,
                          where + "." + event + "_proxy_name");
            }
        }
    };
    channel_events(cfg.channel.without_namespace, "channel.without_namespace");
    for (std::size_t i = 0; i < cfg.channel.namespaces.size(); ++i) {
        channel_events(cfg.channel.namespaces[i].options,
                       "channel.namespaces[" + std::to_string(i) + "]");
    }
    for (const auto& [name, options] : cfg.channel.exact) {
        channel_events(options, "channels." + name);
    }
    // RPC namespaces.
    const auto& rpc = tree.at("rpc").as_object();
    auto rpc_namespace = [&](const json::object& ns, const std::string& where) {
        if (ns.at("proxy_enabled").as_bool()) {
            add_named(out->rpc,
                      shards,
                      tree,
                      rpc.at("proxy").as_object(),
                      "rpc.proxy",
                      std::string(ns.at("proxy_name").as_string()),
                      where + ".proxy_name");
        }
    };
    rpc_namespace(rpc.at("without_namespace").as_object(), "rpc.without_namespace");
    const auto& rpc_namespaces = rpc.at("namespaces").as_array();
    for (std::size_t i = 0; i < rpc_namespaces.size(); ++i) {
        rpc_namespace(rpc_namespaces[i].as_object(), "rpc.namespaces[" + std::to_string(i) + "]");
    }
    // What transports keep of a connection request: every forwarded header name.
    auto collect = [&out](const proxy::client* c) {
        if (c != nullptr) {
            for (const auto& h : c->forwarded_headers()) {
                if (std::find(out->header_names.begin(), out->header_names.end(), h) ==
                    out->header_names.end()) {
                    out->header_names.push_back(h);
                }
            }
        }
    };
    collect(out->connect.get());
    collect(out->refresh.get());
    for (const auto* table : {&out->subscribe, &out->publish, &out->sub_refresh, &out->rpc}) {
        for (const auto& [name, c] : *table) {
            collect(c.get());
        }
    }
    return out;
}

} // namespace gyre::app
