// File: node/redis_broker.hpp
// The broker for several nodes: publications go through Redis PUB/SUB, history lives in Redis
// streams, written with the publish by one Lua script so offsets, epochs and idempotency are
// atomic per channel, with Centrifuge's key layout and payload framing
// (`__p1:<offset>:<epoch>__` + a protobuf Publication). With several addresses each channel
// belongs to one instance (engine/redis/sharding.hpp). Each shard has its own command
// connection per instance; the PUB/SUB subscription of a channel lives on the channel's home
// shard, where its publications arrive and are fanned out.
#pragma once

#include "engine/redis/address.hpp"
#include "node/broker.hpp"

#include <memory>
#include <string>
#include <vector>

namespace gyre::node {

class node;

struct redis_broker_options {
    /// Several addresses shard the channels between independent instances (Centrifugo's
    /// client-side sharding); each channel's PUB/SUB, history and presence live on one.
    std::vector<engine::redis::address> addresses;
    std::string prefix = "centrifugo";
    /// Only presence (Centrifugo's separate `presence_manager`): no PUB/SUB connections.
    bool presence_only = false;
    /// Centrifugo's presence_user_mapping: a user ZSET and a user -> connections HASH per
    /// channel, so presence_stats need not read every client's info.
    bool presence_user_mapping = false;
};

/// Creates the broker (its connections start at once and reconnect on their own).
std::unique_ptr<broker> make_redis_broker(node& n, redis_broker_options options);

} // namespace gyre::node
