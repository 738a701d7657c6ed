// File: server/transport_routes.hpp
// The HTTP endpoints of the client transports other than the WebSocket upgrades: the streams
// (http_stream, sse, uni_http_stream, uni_sse; each hands its connection to transport/ after
// the request checks), /emulation and /connection/init, with Centrifugo's CORS rule (echo an
// allowed Origin, the requested headers and credentials) and its preflight answers.
#pragma once

#include "config/config.hpp"
#include "server/router.hpp"
#include "transport/socket_connection.hpp"

namespace gyre::server {

/// Registers the enabled endpoints of `cfg` on `r`; returns the endpoint groups added (for the
/// start-up line). `ep` must outlive the router.
std::vector<std::string>
add_transport_routes(router& r, const config::config& cfg, const transport::endpoint& ep);

/// CORS headers for a request to a connection endpoint (Centrifugo's middleware): when the
/// origin check passes, Access-Control-Allow-Origin echoes Origin (empty when none was sent),
/// Access-Control-Allow-Headers echoes Access-Control-Request-Headers, and credentials are
/// allowed; a failed check adds nothing (the browser then refuses the answer).
std::vector<std::pair<std::string, std::string>>
cors_headers(const std::vector<std::string>& allowed_origins, const http_request& req);

} // namespace gyre::server
