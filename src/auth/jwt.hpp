// File: auth/jwt.hpp
// The JWS compact serialisation as Centrifugo uses it: splitting and base64url-decoding a token
// (no verification here, see auth/token_verifier.hpp), and HMAC signing for HS256/384/512 so
// gentoken and the tests can mint tokens.
#pragma once

#include <boost/system/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gyre::auth {

/// A token split into its parts. Nothing in it has been verified.
struct decoded_jwt {
    std::string alg;           ///< header "alg"; empty when the header has none
    std::string header_json;   ///< decoded header bytes
    std::string claims_json;   ///< decoded payload bytes, exactly as signed (not re-serialised)
    std::string signing_input; ///< "<header b64>.<payload b64>" as it appeared in the token
    std::string signature;     ///< decoded signature bytes (may be empty)
};

/// Splits header.payload.signature and base64url-decodes the parts (unpadded, as JWS requires).
/// The header must be a JSON object whose "alg", if present, is a string; the payload is only
/// decoded, not parsed. The error is a short text starting with "malformed token".
/// Note: the error type is std::string, so use `*r` / `r->` rather than `r.value()`.
boost::system::result<decoded_jwt, std::string> decode_jwt(std::string_view token);

/// HMAC-SHA-2 of `data` under `key` for a JWT HS algorithm ("HS256", "HS384", "HS512"), as raw
/// bytes; std::nullopt for any other algorithm name.
std::optional<std::string>
hmac_sha(std::string_view alg, std::string_view key, std::string_view data);

/// Signs `claims_json` (used verbatim as the payload) and returns the compact JWT with header
/// {"alg":"<alg>","typ":"JWT"}. Throws std::invalid_argument if alg is not HS256/HS384/HS512.
std::string sign_hs(std::string_view alg, std::string_view claims_json, std::string_view secret);

} // namespace gyre::auth
