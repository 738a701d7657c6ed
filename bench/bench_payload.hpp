// File: bench/bench_payload.hpp
// Shared inputs for the micro-benchmarks: a JSON object payload of an exact size and the
// publication push that carries it, as the node builds one for hub::broadcast.
#pragma once

#include "hub/prepared_push.hpp"
#include "protocol/client/messages.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace gyre::bench {

/// `{"text":"xxxx...","n":1}`, padded to exactly `size` bytes (size >= 32).
inline std::string json_payload(std::size_t size) {
    constexpr std::string_view head = R"({"text":")";
    constexpr std::string_view tail = R"(","n":1})";
    std::string out(head);
    out.append(size - head.size() - tail.size(), 'x');
    out.append(tail);
    return out;
}

/// A publication push on `channel`, with publisher info and offset as the node sets them.
inline protocol::client::push publication_push(std::string channel, std::size_t payload_size) {
    protocol::client::publication pub;
    pub.data = json_payload(payload_size);
    pub.info = protocol::client::client_info{"42", "5c5b8b2e-5d0d-4bb8-a1c7-b0d1d0f0e5b1", {}, {}};
    pub.offset = 12345;
    protocol::client::push p;
    p.channel = std::move(channel);
    p.body = std::move(pub);
    return p;
}

inline hub::prepared_push_ptr prepare(protocol::client::push p) {
    return std::make_shared<const hub::prepared_push>(std::move(p));
}

} // namespace gyre::bench
