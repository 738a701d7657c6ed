// File: node/nats_broker.hpp
// The broker for several nodes on NATS, as Centrifugo's: at-most-once PUB/SUB only, no history,
// recovery or idempotency. Subjects `<prefix>.client.<channel>` carry protobuf Pushes (the
// payload Centrifugo's NATS broker sends), `<prefix>.control` carries control messages between
// nodes. Presence stays in each node's memory. libnats does the network I/O on its own threads;
// every message is handed to the channel's home shard.
#pragma once

#include "node/broker.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace gyre::node {

class node;

struct nats_broker_options {
    std::string url = "nats://localhost:4222";
    std::string prefix = "centrifugo";
    std::chrono::milliseconds dial_timeout{1000};
    std::chrono::milliseconds write_timeout{1000};
};

/// Connects at once (blocking; call at start-up, not on a shard) and throws std::runtime_error
/// naming the URL when no server answers, as Centrifugo refuses to start then. Once connected,
/// libnats reconnects on its own and resubscribes; publishes fail while it is disconnected.
std::unique_ptr<broker> make_nats_broker(node& n, nats_broker_options options);

} // namespace gyre::node
