// File: app/observability.hpp
// The operator endpoints that read the whole node: Prometheus `/metrics` (prometheus.*) and
// the `/debug` snapshot (debug.*), served only when enabled.
#pragma once

#include "node/node.hpp"
#include "server/router.hpp"

#include <string>

namespace gyre::app {

/// Registers `GET <prefix>`: every metric in the Prometheus text format, with the node's
/// counts and the process figures read at scrape time.
void add_metrics_route(server::router& r, node::node& n, std::string prefix);

/// Registers `GET <prefix>`: a JSON snapshot of the node (counts, process, transport
/// coalescing, outbox bytes) for a quick look without Prometheus.
void add_debug_route(server::router& r, node::node& n, std::string prefix);

} // namespace gyre::app
