// File: app/dev_tools.hpp
// The development helpers behind genconfig, gentoken and checktoken: secrets, the generated
// config, and connection tokens. Kept apart from the CLI parsing so tests can call them.
#pragma once

#include "config/config.hpp"
#include "config/load.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

namespace gyre::app {

/// `bytes` random bytes from OpenSSL, base64url without padding.
std::string random_secret(std::size_t bytes);

/// The minimal config genconfig writes: token secret, API key, admin password and secret.
boost::json::object generated_config();

/// An HS256 connection JWT for `user` (sub, iat, exp unless ttl < 0). Throws if no HMAC secret.
std::string make_connection_token(const config::config& cfg,
                                  const std::string& user,
                                  std::int64_t ttl_seconds,
                                  std::int64_t now_unix);

/// "HMAC SHA-256 JWT for user "u" with expiration TTL 168h0m0s:" (or anonymous / no expiry).
std::string token_banner(const std::string& user, std::int64_t ttl_seconds);

} // namespace gyre::app
