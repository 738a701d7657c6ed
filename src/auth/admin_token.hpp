// File: auth/admin_token.hpp
// The admin web UI's session token: a compact HS256 JWT signed with admin.secret, so the login
// survives restarts and works on every node sharing the secret, with nothing kept server-side.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace gyre::auth {

/// How long a login lasts (the lifetime Centrifugo gives its admin cookie).
inline constexpr std::chrono::seconds admin_token_lifetime{30 * 24 * 3600};

/// A token issued at `now_unix` (seconds). `secret` must not be empty.
std::string issue_admin_token(std::string_view secret, std::int64_t now_unix);

/// True when `token` was signed with `secret` and is not expired at `now_unix`.
bool admin_token_valid(std::string_view token, std::string_view secret, std::int64_t now_unix);

} // namespace gyre::auth
