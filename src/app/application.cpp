#include "app/application.hpp"

#include "api/executor.hpp"
#include "app/engine_setup.hpp"
#include "app/logging.hpp"
#include "app/observability.hpp"
#include "app/proxy_setup.hpp"
#include "auth/jwks.hpp"
#include "config/live.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "node/node.hpp"
#include "runtime/shard_set.hpp"
#include "server/admin_routes.hpp"
#include "server/api_routes.hpp"
#include "server/http_server.hpp"
#include "server/static_files.hpp"
#include "server/transport_routes.hpp"
#include "session/context.hpp"
#include "transport/http_client.hpp"
#include "transport/http_stream.hpp"
#include "transport/registry.hpp"
#include "transport/websocket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>
#include <unistd.h>

namespace gyre::app {
namespace net = boost::asio;

namespace {

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        out += (out.empty() ? "" : ", ") + p;
    }
    return out;
}

std::string show_address(const std::string& address, std::uint16_t port) {
    return address + ":" + std::to_string(port);
}

struct routes {
    std::shared_ptr<server::router> external = std::make_shared<server::router>();
    std::shared_ptr<server::upgrade_routes> external_upgrades =
        std::make_shared<server::upgrade_routes>();
    std::shared_ptr<server::router> internal; // null: everything on the external port
};

// Endpoint groups and where they go, as Centrifugo splits them: connection transports on the
// external port; API, admin, metrics and health on the internal port when one is configured.
routes build_routes(const config::config& cfg,
                    const transport::endpoint& ws,
                    const std::shared_ptr<api::executor>& api) {
    routes r;
    using accept_fn = void (*)(const transport::endpoint&,
                               std::size_t,
                               boost::asio::ip::tcp::socket,
                               boost::beast::http::request<boost::beast::http::string_body>);
    auto add_upgrade = [&](const std::string& prefix, accept_fn accept, const char* group) {
        r.external_upgrades->emplace_back(
            prefix,
            [ws, accept](std::size_t shard,
                         boost::asio::ip::tcp::socket socket,
                         boost::beast::http::request<boost::beast::http::string_body> request) {
                accept(ws, shard, std::move(socket), std::move(request));
            });
        r.external->describe(group);
    };
    if (!cfg.websocket.disabled) {
        add_upgrade(cfg.websocket.handler_prefix, &transport::accept_websocket, "websocket");
    }
    if (cfg.uni_websocket.enabled) {
        add_upgrade(
            cfg.uni_websocket.handler_prefix, &transport::accept_uni_websocket, "uni_websocket");
    }
    for (auto& group : server::add_transport_routes(*r.external, cfg, ws)) {
        r.external->describe(std::move(group));
    }
    if (!cfg.http_server.internal_port.empty()) {
        r.internal = std::make_shared<server::router>();
    }
    server::router& ops = r.internal ? *r.internal : *r.external;
    if (!cfg.http_api.disabled) {
        server::router& target = cfg.http_api.external ? *r.external : ops;
        server::add_api_routes(target,
                               api,
                               {cfg.http_api.handler_prefix,
                                cfg.http_api.key,
                                cfg.http_api.insecure,
                                cfg.http_api.error_mode == "transport"});
        target.describe("api");
        if (cfg.http_api.key.empty() && !cfg.http_api.insecure) {
            GYRE_LOG_WARN("http_api.key is not set: every server API call will get 401; set "
                          "http_api.key (or http_api.insecure for development)");
        }
    }
    if (cfg.admin.enabled) {
        if (!cfg.admin.insecure && (cfg.admin.password.empty() || cfg.admin.secret.empty())) {
            throw std::runtime_error(
                std::string(cfg.admin.password.empty() ? "admin.password" : "admin.secret") +
                " must be set when admin.enabled is on (or admin.insecure, behind a firewall)");
        }
        if (cfg.admin.insecure) {
            GYRE_LOG_WARN("admin.insecure is on: the admin UI and its API need no login");
        }
        server::add_admin_routes(cfg.admin.external ? *r.external : ops,
                                 api,
                                 {cfg.admin.handler_prefix,
                                  cfg.admin.password,
                                  cfg.admin.secret,
                                  cfg.admin.insecure,
                                  cfg.admin.web_path});
        (cfg.admin.external ? *r.external : ops).describe("admin");
    }
    if (cfg.prometheus.enabled) {
        add_metrics_route(ops, ws.ctx->node(), cfg.prometheus.handler_prefix);
        ops.describe("prometheus");
    }
    if (cfg.debug.enabled) {
        add_debug_route(ops, ws.ctx->node(), cfg.debug.handler_prefix);
        ops.describe("debug");
    }
    if (cfg.health.enabled) {
        // Liveness only, as Centrifugo: 200 {} while the process serves HTTP, whatever the
        // broker's state. A probe that failed with Redis would have every node restarted by
        // its orchestrator during one Redis outage; broker trouble shows in logs and metrics.
        ops.add_sync(cfg.health.handler_prefix, [](const server::http_request&) {
            return server::http_response::json(200, "{}");
        });
        ops.describe("health");
    }
    return r;
}

void write_pid_file(const std::string& path) {
    if (path.empty()) {
        return;
    }
    std::ofstream out(path, std::ios::trunc);
    if (!out) {
        throw std::runtime_error("cannot write pid_file " + path);
    }
    out << ::getpid() << "\n";
}

void wait_for_signals(net::io_context& ctx,
                      const std::function<void()>& on_reload,
                      bool reload_enabled) {
    net::signal_set signals(ctx, SIGINT, SIGTERM);
    if (reload_enabled) {
        signals.add(SIGHUP);
    }
    bool stop = false;
    std::function<void(const boost::system::error_code&, int)> handler;
    handler = [&](const boost::system::error_code& ec, int signo) {
        if (ec) {
            return;
        }
        if (signo == SIGHUP) {
            on_reload();
            signals.async_wait(handler);
            return;
        }
        GYRE_LOG_INFO("signal received, shutting down signal={}", signo);
        stop = true;
    };
    signals.async_wait(handler);
    while (!stop && ctx.run_one() > 0) {
    }
}

} // namespace

int run_server(const config::load_options& options) {
    config::load_result loaded;
    try {
        loaded = config::load(options);
        setup_logging(loaded.cfg.log.level, loaded.cfg.log.file);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    for (const auto& w : loaded.warnings) {
        GYRE_LOG_WARN("{}", w);
    }
    // Keys this build does not act on: refused ones stop start-up in one line, others warn once.
    if (const auto refused =
            config::describe(loaded.unsupported, config::unsupported_action::refuse);
        !refused.empty()) {
        GYRE_LOG_ERROR("refusing to start: not available in this build: {}", refused);
        return 1;
    }
    if (const auto ignored = config::describe(loaded.unsupported, config::unsupported_action::warn);
        !ignored.empty()) {
        GYRE_LOG_WARN("configuration keys with no effect in this build: {}", ignored);
    }
    auto cfg = std::make_shared<const config::config>(std::move(loaded.cfg));
    config::live_config live(cfg);

    auto jwks_keys = std::make_shared<auth::jwks_cache>(); // kept across reloads
    std::shared_ptr<const session::settings> settings;
    try {
        settings = session::settings::make(cfg, jwks_keys);
    } catch (const std::exception& e) {
        GYRE_LOG_ERROR("{}", e.what());
        return 1;
    }
    runtime::shard_set shards(static_cast<std::size_t>(cfg->shards));
    const std::string node_name =
        cfg->node_name.empty() ? net::ip::host_name() + "_" + std::to_string(cfg->http_server.port)
                               : cfg->node_name;
    auto planned = plan_engines(*cfg);
    if (const auto* err = std::get_if<std::string>(&planned)) {
        GYRE_LOG_ERROR("{}", *err);
        return 1;
    }
    const auto& plan = std::get<engine_plan>(planned);
    // A broker that cannot connect at start-up stops it, as in Centrifugo.
    std::optional<node::node> hub_node_storage;
    try {
        hub_node_storage.emplace(shards, plan.broker);
        apply_presence(plan, *hub_node_storage);
    } catch (const std::exception& e) {
        GYRE_LOG_ERROR("error initializing broker: {}", e.what());
        return 1;
    }
    node::node& hub_node = *hub_node_storage;
    transport::http_client fetcher; // JWKS, off the shards
    session::context ctx(
        hub_node,
        settings,
        node_name,
        [&fetcher](std::string url, unique_function<void(std::optional<std::string>)> done) {
            fetcher.get(std::move(url),
                        [done = std::move(done)](transport::http_get_result r) mutable {
                            if (!r.ok) {
                                GYRE_LOG_WARN("JWKS fetch failed error=\"{}\"", r.error);
                                done(std::nullopt);
                                return;
                            }
                            done(std::move(r.body));
                        });
        });
    std::unique_ptr<session::proxies> backend;
    try {
        backend = build_proxies(*cfg, shards);
    } catch (const std::exception& e) {
        GYRE_LOG_ERROR("{}", e.what());
        return 1;
    }
    ctx.set_backend(backend.get());
    transport::registry connections(
        shards, std::chrono::milliseconds(100), [&hub_node](std::size_t shard, auto now) {
            hub_node.tick(shard, now);
        });
    const std::string node_uid = random_uuid();
    hub_node.set_identity(node_uid, node_name, GYRE_VERSION);
    auto api_executor = std::make_shared<api::executor>(ctx, node_uid);
    // Emulated sessions (/emulation), on this node or forwarded here by another one.
    transport::emulation_sessions emulated(shards);
    hub_node.set_emulation_receiver(
        [&emulated](std::string session, std::string data, bool binary) {
            emulated.deliver(session, std::move(data), binary);
        });
    routes r;
    try {
        r = build_routes(*cfg, transport::endpoint{&ctx, &connections, &emulated}, api_executor);
    } catch (const std::exception& e) {
        GYRE_LOG_ERROR("{}", e.what());
        return 1;
    }
    std::vector<server::listener> listeners{
        {cfg->http_server.address, cfg->http_server.port, r.external, r.external_upgrades}};
    if (r.internal) {
        listeners.push_back({cfg->http_server.internal_address,
                             static_cast<std::uint16_t>(std::stoi(cfg->http_server.internal_port)),
                             r.internal});
    }
    server::limits lim;
    lim.max_header_bytes = cfg->http_server.max_request_header_size;
    lim.max_body_bytes = cfg->http_server.max_request_body_size;
    lim.access_log = cfg->access_log;
    lim.count_requests = cfg->prometheus.enabled &&
                         cfg->tree.at("prometheus").at("instrument_http_handlers").as_bool();
    server::http_server http(shards, lim, listeners);
    try {
        write_pid_file(cfg->pid_file);
        http.start();
    } catch (const std::exception& e) {
        GYRE_LOG_ERROR("cannot start: {}", e.what());
        return 1;
    }
    connections.start();
    shards.start();

    GYRE_LOG_INFO("starting gyre version={} node={} shards={} engine={} {}",
                  GYRE_VERSION,
                  node_name,
                  shards.size(),
                  cfg->engine.type,
                  plan.describe);
    if (!options.file.empty() && loaded.file_found) {
        GYRE_LOG_INFO("using config file path={}", options.file);
    }
    for (std::size_t i = 0; i < listeners.size(); ++i) {
        const auto& groups = listeners[i].routes->groups();
        GYRE_LOG_INFO("serving {} endpoints on {}",
                      groups.empty() ? "no" : join(groups),
                      show_address(listeners[i].address, http.bound_port(i)));
    }

    net::io_context signal_ctx;
    auto reload = [&] {
        // Runs on the main thread, never on a shard: parse, validate, then swap atomically.
        try {
            auto fresh = config::load(options);
            // A reload changes channel options only; keys it cannot act on are named again.
            std::string ignored;
            for (auto action :
                 {config::unsupported_action::warn, config::unsupported_action::refuse}) {
                const auto listed = config::describe(fresh.unsupported, action);
                ignored += (ignored.empty() || listed.empty() ? "" : ", ") + listed;
            }
            if (!ignored.empty()) {
                GYRE_LOG_WARN("configuration keys with no effect in this build: {}", ignored);
            }
            auto next =
                std::make_shared<const config::config>(config::reloaded(*live.load(), fresh.cfg));
            // Sessions and the API read the shards' settings: without this a reload did nothing.
            ctx.update(session::settings::make(next, jwks_keys));
            live.store(next);
            GYRE_LOG_INFO("configuration reloaded namespaces={}", next->channel.namespaces.size());
        } catch (const std::exception& e) {
            GYRE_LOG_ERROR("configuration reload failed, keeping the running one error=\"{}\"",
                           e.what());
        }
    };
    wait_for_signals(signal_ctx, reload, true);

    const auto deadline = std::chrono::steady_clock::now() + cfg->shutdown_timeout;
    connections.close_all(model::disconnects::shutdown, deadline);
    http.shutdown(deadline);
    // Closed sessions clean up on a later loop turn; let those turns run while the node lives.
    shards.settle(3,
                  std::max(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1)));
    shards.stop();
    shards.join();
    if (!cfg->pid_file.empty()) {
        std::error_code ec;
        std::filesystem::remove(cfg->pid_file, ec);
    }
    GYRE_LOG_INFO("shutdown complete");
    return 0;
}

int run_static_server(const std::string& dir, const std::string& address, std::uint16_t port) {
    setup_logging("info", "");
    runtime::shard_set shards(1);
    auto routes = std::make_shared<server::router>();
    routes->add_prefix("/", server::static_files(dir));
    server::http_server http(shards, server::limits{}, {{address, port, routes}});
    try {
        http.start();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    shards.start();
    std::printf(
        "start serving %s on %s\n", dir.c_str(), show_address(address, http.bound_port(0)).c_str());
    std::fflush(stdout);
    net::io_context signal_ctx;
    wait_for_signals(
        signal_ctx, [] {}, false);
    http.shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    shards.stop();
    shards.join();
    return 0;
}

} // namespace gyre::app
