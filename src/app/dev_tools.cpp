#include "app/dev_tools.hpp"

#include "auth/jwt.hpp"
#include "config/duration.hpp"
#include "core/base64.hpp"

#include <boost/json.hpp>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace gyre::app {
namespace json = boost::json;

std::string random_secret(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
        throw std::runtime_error("cannot get random bytes from OpenSSL");
    }
    return base64::encode_url(
        std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

json::object generated_config() {
    return json::object{
        {"client",
         json::object{{"token", json::object{{"hmac_secret_key", random_secret(64)}}},
                      {"allowed_origins", json::array{}}}},
        {"admin",
         json::object{
             {"enabled", false}, {"password", random_secret(16)}, {"secret", random_secret(64)}}},
        {"http_api", json::object{{"key", random_secret(64)}}},
    };
}

std::string make_connection_token(const config::config& cfg,
                                  const std::string& user,
                                  std::int64_t ttl_seconds,
                                  std::int64_t now_unix) {
    const auto& secret = cfg.client.token.hmac_secret_key;
    if (secret.empty()) {
        throw std::runtime_error("no HMAC secret key set in client.token.hmac_secret_key");
    }
    json::object claims;
    claims["sub"] = user;
    if (!cfg.client.token.user_id_claim.empty()) {
        claims[cfg.client.token.user_id_claim] = user;
    }
    claims["iat"] = now_unix;
    if (ttl_seconds >= 0) {
        claims["exp"] = now_unix + ttl_seconds;
    }
    return auth::sign_hs("HS256", json::serialize(claims), secret);
}

std::string token_banner(const std::string& user, std::int64_t ttl_seconds) {
    const std::string who = user.empty() ? "anonymous user" : "user \"" + user + "\"";
    const std::string ttl =
        ttl_seconds < 0
            ? "without expiration"
            : "with expiration TTL " + config::format_duration(std::chrono::seconds(ttl_seconds));
    return "HMAC SHA-256 JWT for " + who + " " + ttl + ":";
}

} // namespace gyre::app
