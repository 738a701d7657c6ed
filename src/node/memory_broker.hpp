// File: node/memory_broker.hpp
// The broker of a single node, with no network: a publication goes straight to the channel's
// home shard, which owns the channel's history stream and idempotency keys (so neither needs a
// lock), stamps the offset and fans the publication out.
#pragma once

#include "node/broker.hpp"

#include <memory>

namespace gyre::node {

class node;

/// The default broker of `n` (node.hpp): history and idempotency kept on the home shards.
std::unique_ptr<broker> make_memory_broker(node& n);

} // namespace gyre::node
