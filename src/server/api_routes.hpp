// File: server/api_routes.hpp
// The server HTTP API's endpoints, as Centrifugo serves them under http_api.handler_prefix:
// `POST <prefix>/<method>` (one request object per body) and the legacy `POST <prefix>` (a
// stream of {"method","params"} commands answered line by line). Both are POST-only and
// authorized by the API key; the work itself is done by api::executor.
#pragma once

#include "api/executor.hpp"
#include "server/router.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace gyre::server {

struct api_options {
    std::string prefix = "/api";
    std::string key;               ///< empty and not insecure: every call is refused (401)
    bool insecure = false;         ///< no key check at all
    bool transport_errors = false; ///< http_api.error_mode "transport"
};

/// Registers every API endpoint on `r`. `exec` must outlive the router.
void add_api_routes(router& r, std::shared_ptr<api::executor> exec, api_options opts);

/// Runs the legacy command stream in `req.body` (already authorized) and answers with one reply
/// line per command: the `/api` endpoint and the admin UI's `/admin/api` share it.
void run_legacy_commands(api::executor& exec, const http_request& req, responder done);

/// Centrifugo's key check: `X-API-Key`, else `Authorization: apikey KEY`, else `?api_key=`,
/// compared in constant time. An empty configured key refuses everything.
bool api_key_valid(const http_request& req, std::string_view key);

} // namespace gyre::server
