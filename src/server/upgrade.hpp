// File: server/upgrade.hpp
// Handlers that take over a connection after an HTTP Upgrade (WebSocket transports). They get
// the socket, the parsed request and the shard the connection lives on.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace gyre::server {

using upgrade_handler =
    std::function<void(std::size_t shard,
                       boost::asio::ip::tcp::socket socket,
                       boost::beast::http::request<boost::beast::http::string_body> request)>;

/// Path -> handler, checked before the router for Upgrade requests.
using upgrade_routes = std::vector<std::pair<std::string, upgrade_handler>>;

} // namespace gyre::server
