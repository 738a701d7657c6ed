#include "auth/admin_token.hpp"

#include "auth/jwt.hpp"
#include "core/strings.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace gyre::auth {

namespace {
constexpr std::string_view subject = "gyre-admin";

/// Tokens are signed with a key derived from admin.secret, never with the secret itself, so a
/// deployment that reuses the secret as its client-token HMAC key cannot mint admin logins
/// with connection tokens.
std::string signing_key(std::string_view secret) {
    return hmac_sha("HS256", secret, "gyre admin web ui token").value_or(std::string());
}
} // namespace

std::string issue_admin_token(std::string_view secret, std::int64_t now_unix) {
    const std::string claims =
        "{\"sub\":\"" + std::string(subject) + "\",\"iat\":" + std::to_string(now_unix) +
        ",\"exp\":" + std::to_string(now_unix + admin_token_lifetime.count()) + "}";
    return sign_hs("HS256", claims, signing_key(secret));
}

bool admin_token_valid(std::string_view token, std::string_view secret, std::int64_t now_unix) {
    if (secret.empty() || token.empty()) {
        return false;
    }
    auto decoded = decode_jwt(token);
    if (!decoded || decoded->alg != "HS256") {
        return false;
    }
    const auto expected = hmac_sha("HS256", signing_key(secret), decoded->signing_input);
    if (!expected || !strings::constant_time_equal(*expected, decoded->signature)) {
        return false;
    }
    boost::system::error_code ec;
    const auto claims = boost::json::parse(decoded->claims_json, ec);
    if (ec || !claims.is_object()) {
        return false;
    }
    const auto& o = claims.as_object();
    const auto* sub = o.if_contains("sub");
    const auto* exp = o.if_contains("exp");
    return sub && sub->is_string() && sub->as_string() == subject && exp && exp->is_int64() &&
           exp->as_int64() > now_unix;
}

} // namespace gyre::auth
