#include "app/observability.hpp"

#include "metrics/catalog.hpp"

#include <cstdio>
#include <sys/resource.h>

namespace gyre::app {

namespace {

server::http_response method_not_allowed() {
    return server::http_response::text(405, "method not allowed\n");
}

metrics::sampled_family gauge(std::string name, std::string help, double value) {
    return {std::move(name), std::move(help), "gauge", {{{}, value}}};
}

std::vector<metrics::sampled_family> node_samples(node::node& n, const node::node_stats& s) {
    const auto usage = n.process(true);
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    std::vector<metrics::sampled_family> out;
    out.push_back(gauge("centrifugo_node_num_clients",
                        "Number of clients connected.",
                        static_cast<double>(s.num_clients)));
    out.push_back(gauge("centrifugo_node_num_users",
                        "Number of unique users connected.",
                        static_cast<double>(s.num_users)));
    out.push_back(gauge("centrifugo_node_num_subscriptions",
                        "Number of subscriptions.",
                        static_cast<double>(s.num_subs)));
    out.push_back(gauge("centrifugo_node_num_channels",
                        "Number of channels with one or more subscribers.",
                        static_cast<double>(s.num_channels)));
    out.push_back(gauge("centrifugo_node_num_nodes",
                        "Number of nodes in the cluster.",
                        static_cast<double>(n.peers().size() + 1)));
    out.push_back({"centrifugo_node_build",
                   "Node build info.",
                   "gauge",
                   {{{{"version", std::string(GYRE_VERSION) + " GYRE"}}, 1}}});
    out.push_back({"process_cpu_seconds_total",
                   "Total user and system CPU time spent in seconds.",
                   "counter",
                   {{{}, usage.cpu_seconds}}});
    out.push_back(gauge("process_resident_memory_bytes",
                        "Resident memory size in bytes.",
                        static_cast<double>(usage.rss_bytes)));
    out.push_back(gauge("process_virtual_memory_bytes",
                        "Virtual memory size in bytes.",
                        static_cast<double>(usage.virtual_bytes)));
    out.push_back(gauge("process_open_fds",
                        "Number of open file descriptors.",
                        static_cast<double>(usage.open_fds)));
    out.push_back(gauge("process_max_fds",
                        "Maximum number of open file descriptors.",
                        static_cast<double>(files.rlim_cur)));
    out.push_back(gauge("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds.",
                        usage.start_time_unix));
    return out;
}

/// Sum of every child of a counter family.
double total(const metrics::counter_family& f) {
    double sum = 0;
    f.for_each([&sum](const std::vector<std::string>&, const metrics::counter& c) {
        sum += static_cast<double>(c.value());
    });
    return sum;
}

} // namespace

void add_metrics_route(server::router& r, node::node& n, std::string prefix) {
    metrics::precreate();
    r.add(prefix, [&n](const server::http_request& req, server::responder done) {
        if (req.method != "GET" && req.method != "HEAD") {
            done(method_not_allowed());
            return;
        }
        n.stats(req.shard, [&n, done = std::move(done)](node::node_stats s) mutable {
            metrics::rotate_windows_if_due();
            done(server::http_response{200,
                                       "text/plain; version=0.0.4; charset=utf-8",
                                       metrics::registry::global().render(node_samples(n, s)),
                                       {},
                                       {}});
        });
    });
}

void add_debug_route(server::router& r, node::node& n, std::string prefix) {
    r.add(prefix, [&n](const server::http_request& req, server::responder done) {
        if (req.method != "GET") {
            done(method_not_allowed());
            return;
        }
        n.stats(req.shard, [&n, done = std::move(done)](node::node_stats s) mutable {
            const auto usage = n.process(true);
            const double writes = total(metrics::gyre_socket_writes);
            const double messages = total(metrics::gyre_messages_written);
            char body[1024];
            std::snprintf(body,
                          sizeof body,
                          "{\"version\":\"%s\",\"num_clients\":%u,\"num_users\":%u,"
                          "\"num_channels\":%u,\"num_subs\":%u,\"num_nodes\":%zu,"
                          "\"process\":{\"cpu\":%.2f,\"rss\":%llu,\"open_fds\":%llu},"
                          "\"transport\":{\"socket_writes\":%.0f,\"messages_written\":%.0f,"
                          "\"messages_per_write\":%.3f,\"outbox_bytes\":%lld}}",
                          GYRE_VERSION,
                          s.num_clients,
                          s.num_users,
                          s.num_channels,
                          s.num_subs,
                          n.peers().size() + 1,
                          usage.cpu_percent,
                          static_cast<unsigned long long>(usage.rss_bytes),
                          static_cast<unsigned long long>(usage.open_fds),
                          writes,
                          messages,
                          writes > 0 ? messages / writes : 0.0,
                          static_cast<long long>(metrics::gyre_outbox_bytes.with({}).value()));
            done(server::http_response::json(200, body));
        });
    });
}

} // namespace gyre::app
