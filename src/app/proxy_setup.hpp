// File: app/proxy_setup.hpp
// Builds the node's backend proxies from the configuration: connect and refresh when enabled,
// and every named proxy an enabled namespace (channel or RPC) refers to. Errors name the key.
#pragma once

#include "config/config.hpp"
#include "runtime/shard_set.hpp"
#include "session/proxies.hpp"

#include <memory>

namespace gyre::app {

/// Throws config::config_error (unknown proxy name, missing endpoint) or std::runtime_error
/// (an endpoint this build cannot reach).
std::unique_ptr<session::proxies> build_proxies(const config::config& cfg,
                                                runtime::shard_set& shards);

} // namespace gyre::app
