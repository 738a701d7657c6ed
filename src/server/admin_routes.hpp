// File: server/admin_routes.hpp
// The admin web UI and its three backend endpoints, under admin.handler_prefix:
//   GET  admin/init  {"insecure","edition","authenticated"}
//   POST admin/auth  form `password` -> {"token"} (400 and no token on a wrong password, as
//                    Centrifugo; 429 with Retry-After while the address is throttled)
//   POST admin/api   the legacy API command stream, with `Authorization: token <T>`
// and the UI's files (embedded, or admin.web_path) at the prefix itself.
#pragma once

#include "api/executor.hpp"
#include "server/login_throttle.hpp"
#include "server/router.hpp"

#include <memory>
#include <string>

namespace gyre::server {

struct admin_options {
    std::string prefix;   ///< "" serves at the root
    std::string password; ///< both required unless insecure (checked by the caller at start)
    std::string secret;
    bool insecure = false;
    std::string web_path;             ///< non-empty: serve the UI from this directory
    login_throttle_policy throttle{}; ///< failed logins, per client address
};

/// Registers the admin endpoints and the UI on `r`. `exec` must outlive the router.
void add_admin_routes(router& r, std::shared_ptr<api::executor> exec, admin_options opts);

} // namespace gyre::server
