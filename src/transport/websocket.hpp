// File: transport/websocket.hpp
// The bidirectional WebSocket transport (/connection/websocket): upgrade with Centrifugo's
// origin check and protocol selection (JSON text frames, or Protobuf binary frames via the
// "centrifuge-protobuf" subprotocol or ?format=protobuf / ?cf_protocol=protobuf), then a read loop
// feeding the session and coalesced gather writes of its outbox.
#pragma once

#include "session/context.hpp"
#include "transport/registry.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace gyre::transport {

struct websocket_endpoint {
    session::context* ctx = nullptr;
    registry* connections = nullptr;
};

/// Takes over an upgraded HTTP connection on `shard` (the socket's own shard).
void accept_websocket(const websocket_endpoint& endpoint,
                      std::size_t shard,
                      boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> request);

} // namespace gyre::transport
