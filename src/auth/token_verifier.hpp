// File: auth/token_verifier.hpp
// Verifies connection and subscription JWTs the way Centrifugo does: HS/RS/ES 256/384/512 with
// the keys from client.token (or client.subscription_token), previous-HMAC-key rotation, exp/nbf,
// aud/iss (exact or regex) and the user ID claim. Built once from the config; verify() is const
// and safe to call from several threads at once.
#pragma once

#include "config/config.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace gyre::auth {

/// Why a token was refused. Centrifugo answers `expired` and `not_yet_valid` with "token
/// expired" and every other value with "invalid token"; callers should map them the same way.
enum class verify_error {
    malformed,             ///< not header.payload.signature, bad base64/JSON, ill-typed claims
    unsupported_algorithm, ///< "none", PS256, EdDSA, anything but HS/RS/ES 256/384/512
    invalid_signature,
    expired,       ///< exp <= now
    not_yet_valid, ///< nbf > now
    audience_mismatch,
    issuer_mismatch,
    no_key, ///< no key configured for the algorithm (or an ES key on another curve)
};

/// Short human text, e.g. "token expired", "invalid signature".
std::string_view to_string(verify_error e) noexcept;

/// Lets boost::system::result<T, verify_error>::value() throw (a std::runtime_error).
[[noreturn]] void throw_exception_from_error(verify_error e, const boost::source_location& loc);

struct verified_token {
    std::string alg;
    std::string claims_json; ///< the payload bytes exactly as signed
    boost::json::object claims;
    std::string user; ///< "sub", or the configured user_id_claim; "" when absent
    std::optional<std::int64_t> exp;
};

class token_verifier {
public:
    /// Parses the PEM keys (SubjectPublicKeyInfo "PUBLIC KEY", or an X.509 certificate) and
    /// compiles audience_regex / issuer_regex (Go RE2 subset, see the .cpp). Throws
    /// config::config_error naming the key, e.g. "client.token.rsa_public_key: ...";
    /// `key_prefix` is that name's prefix ("client.subscription_token" for subscription tokens).
    /// With skip_signature_verify (client.insecure_skip_token_signature_verify) neither the
    /// algorithm nor the signature is checked, as in Centrifugo; claims still are.
    explicit token_verifier(const config::token_options& opts,
                            bool skip_signature_verify = false,
                            std::string_view key_prefix = "client.token");

    /// Checks, in Centrifugo's order of precedence: structure, algorithm, key and signature,
    /// claim types, audience, issuer, then exp/nbf (so "expired" means otherwise valid).
    boost::system::result<verified_token, verify_error> verify(std::string_view token,
                                                               std::int64_t now_unix) const;

private:
    struct pkey_free {
        void operator()(EVP_PKEY* key) const noexcept;
    };

    using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

    std::optional<verify_error> check_signature(std::string_view alg,
                                                std::string_view signing_input,
                                                std::string_view signature,
                                                std::int64_t now_unix) const;

    std::string hmac_secret_;
    std::string hmac_previous_secret_;
    std::int64_t hmac_previous_valid_until_ = 0;
    pkey_ptr rsa_key_;
    pkey_ptr ecdsa_key_;
    std::string ecdsa_alg_; ///< the one ES algorithm the key's curve serves, e.g. "ES256"
    std::string audience_;
    std::optional<std::regex> audience_regex_;
    std::string issuer_;
    std::optional<std::regex> issuer_regex_;
    std::string user_id_claim_;
    bool skip_signature_verify_ = false;
};

} // namespace gyre::auth
