// File: transport/websocket.hpp
// The bidirectional WebSocket transport (/connection/websocket): upgrade with Centrifugo's
// origin check and protocol selection (JSON text frames, or Protobuf binary frames via the
// "centrifuge-protobuf" subprotocol or ?format=protobuf / ?cf_protocol=protobuf), then a read loop
// feeding the session and coalesced gather writes of its outbox.
#pragma once

#include "transport/socket_connection.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace gyre::transport {

/// Takes over an upgraded HTTP connection on `shard` (the socket's own shard).
void accept_websocket(const endpoint& ep,
                      std::size_t shard,
                      boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> request);

/// The unidirectional WebSocket (uni_websocket): the connect request comes in ?cf_connect
/// (bad JSON there: 400 before the upgrade) or as the first text message; the server sends
/// bare pushes, native pings, and on close a disconnect push and a close frame.
void accept_uni_websocket(const endpoint& ep,
                          std::size_t shard,
                          boost::asio::ip::tcp::socket socket,
                          boost::beast::http::request<boost::beast::http::string_body> request);

} // namespace gyre::transport
