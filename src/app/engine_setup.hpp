// File: app/engine_setup.hpp
// Which broker and presence store the node uses, from Centrifugo's `engine` (both parts),
// `broker` and `presence_manager` (each part on its own) sections; and how a Redis object of
// the config (engine.redis, broker.redis, presence_manager.redis) becomes the addresses the
// Redis client dials: `address` entries (one per shard), or the explicit `cluster_address` /
// `sentinel_address` lists, with the object's user, password, db, timeouts and tls filling
// what an address string leaves out.
#pragma once

#include "config/config.hpp"
#include "engine/redis/address.hpp"
#include "node/node.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gyre::app {

/// `path` names the object in errors ("engine.redis.address: ...").
std::variant<std::vector<engine::redis::address>, std::string>
redis_addresses(const boost::json::object& redis, std::string_view path);

struct engine_plan {
    node::node::broker_factory broker; ///< empty: the memory broker
    enum class presence_kind { broker, local, store } presence = presence_kind::broker;
    node::node::broker_factory presence_store; ///< for presence_kind::store
    std::chrono::seconds presence_ttl{60};
    std::string describe; ///< for the start-up log: "engine=redis broker=nats presence=redis"
};

/// The plan for `cfg`, or an error naming the config key.
std::variant<engine_plan, std::string> plan_engines(const config::config& cfg);

/// Applies the presence part of `plan` to `n` (before the shards start).
void apply_presence(const engine_plan& plan, node::node& n);

} // namespace gyre::app
