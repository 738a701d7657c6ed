#include "auth/jwt.hpp"

#include "core/base64.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <climits>
#include <stdexcept>

namespace gyre::auth {
namespace {

const EVP_MD* hs_digest(std::string_view alg) noexcept {
    if (alg == "HS256") {
        return EVP_sha256();
    }
    if (alg == "HS384") {
        return EVP_sha384();
    }
    if (alg == "HS512") {
        return EVP_sha512();
    }
    return nullptr;
}

/// JWS segments are unpadded base64url (RFC 7515 section 2); like Go's RawURLEncoding, which
/// Centrifugo uses, reject '=' rather than let the lenient decoder strip it.
std::optional<std::string> decode_segment(std::string_view segment) {
    if (segment.find('=') != std::string_view::npos) {
        return std::nullopt;
    }
    return base64::decode_url(segment);
}

/// decoded_jwt is an aggregate, so a bare std::string would be ambiguous; say which side it is.
boost::system::result<decoded_jwt, std::string> malformed(const char* why) {
    return {boost::system::in_place_error, why};
}

} // namespace

boost::system::result<decoded_jwt, std::string> decode_jwt(std::string_view token) {
    const auto dot1 = token.find('.');
    const auto dot2 = token.rfind('.');
    if (dot1 == std::string_view::npos || dot2 == dot1 || token.find('.', dot1 + 1) != dot2) {
        return malformed("malformed token: expected three dot-separated parts");
    }
    const auto header_b64 = token.substr(0, dot1);
    const auto claims_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const auto signature_b64 = token.substr(dot2 + 1);

    auto header = decode_segment(header_b64);
    if (!header) {
        return malformed("malformed token: header is not base64url");
    }
    auto claims = decode_segment(claims_b64);
    if (!claims) {
        return malformed("malformed token: payload is not base64url");
    }
    auto signature = decode_segment(signature_b64);
    if (!signature) {
        return malformed("malformed token: signature is not base64url");
    }

    boost::system::error_code ec;
    const boost::json::value header_value = boost::json::parse(*header, ec);
    if (ec || !header_value.is_object()) {
        return malformed("malformed token: header is not a JSON object");
    }
    std::string alg;
    if (const auto* a = header_value.get_object().if_contains("alg");
        a != nullptr && !a->is_null()) {
        if (!a->is_string()) {
            return malformed("malformed token: header alg is not a string");
        }
        alg = std::string(a->get_string());
    }

    decoded_jwt out;
    out.alg = std::move(alg);
    out.header_json = std::move(*header);
    out.claims_json = std::move(*claims);
    out.signing_input = std::string(token.substr(0, dot2));
    out.signature = std::move(*signature);
    return out;
}

std::optional<std::string>
hmac_sha(std::string_view alg, std::string_view key, std::string_view data) {
    const EVP_MD* md = hs_digest(alg);
    if (md == nullptr) {
        return std::nullopt;
    }
    if (key.size() > static_cast<std::size_t>(INT_MAX)) {
        throw std::length_error("HMAC key too long");
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    // A non-null pointer even for empty inputs: OpenSSL treats a null key specially.
    static constexpr unsigned char empty = 0;
    const void* key_ptr = key.empty() ? &empty : static_cast<const void*>(key.data());
    const auto* data_ptr =
        data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
    if (HMAC(md,
             key_ptr,
             static_cast<int>(key.size()),
             data_ptr,
             data.size(),
             mac.data(),
             &mac_len) == nullptr) {
        throw std::runtime_error("HMAC computation failed");
    }
    return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
}

std::string sign_hs(std::string_view alg, std::string_view claims_json, std::string_view secret) {
    if (hs_digest(alg) == nullptr) {
        throw std::invalid_argument("sign_hs: unsupported algorithm \"" + std::string(alg) +
                                    "\", expected HS256, HS384 or HS512");
    }
    std::string header = R"({"alg":")";
    header += alg;
    header += R"(","typ":"JWT"})";
    std::string token = base64::encode_url(header);
    token += '.';
    token += base64::encode_url(claims_json);
    const auto mac = hmac_sha(alg, secret, token);
    token += '.';
    token += base64::encode_url(*mac);
    return token;
}

} // namespace gyre::auth
