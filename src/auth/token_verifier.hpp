// File: auth/token_verifier.hpp
// Verifies connection and subscription JWTs the way Centrifugo does: HS/RS/ES 256/384/512 with
// the keys from client.token (or client.subscription_token), previous-HMAC-key rotation, exp/nbf,
// aud/iss (exact or regex) and the user ID claim; or, with jwks_public_endpoint, RS/ES/EdDSA by
// "kid" against keys from a JWKS cache that the caller fills (auth does no I/O; see
// verify_error::key_unavailable). Built once from the config; verify() is const and safe to call
// from several threads at once.
#pragma once

#include "auth/jwks.hpp"
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
#include <utility>
#include <vector>

namespace gyre::auth {

/// Why a token was refused. Centrifugo answers `expired` and `not_yet_valid` with "token
/// expired" and every other value with "invalid token"; callers should map them the same way.
enum class verify_error {
    malformed,             ///< not header.payload.signature, bad base64/JSON, ill-typed claims
    unsupported_algorithm, ///< "none", PS256, anything but HS/RS/ES 256/384/512; with JWKS,
                           ///< anything but RS/ES 256/384/512 and EdDSA
    invalid_signature,
    expired,       ///< exp <= now
    not_yet_valid, ///< nbf > now
    audience_mismatch,
    issuer_mismatch,
    no_key, ///< no key configured for the algorithm (or an ES key on another curve); with
            ///< JWKS: no "kid", a kid the freshly fetched JWKS lacks, a key of another type
            ///< or "alg", or a templated endpoint URL that expands to something unsafe
    /// JWKS only: the key for the token's kid is not cached. Not a verdict: fetch
    /// jwks_url_for(token) (HTTP GET), jwk_set::parse the body, jwks()->store() it, and call
    /// verify() again (once); see the comment on token_verifier for the whole sequence.
    key_unavailable,
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

/// What JWKS mode needs besides client.token: where the keys live and one config flag.
struct jwks_settings {
    /// Shared by several verifiers (connection and subscription tokens, successive reloads)
    /// to keep fetched keys; null: the verifier makes its own when it needs one.
    std::shared_ptr<jwks_cache> cache;
    /// client.token.insecure_skip_jwks_endpoint_safety_check: accept a templated endpoint
    /// whose {{var}} comes from a regex group that is not a plain list of literals.
    bool insecure_skip_endpoint_safety_check = false;
};

/// JWKS mode, driven by the caller (the session layer), for a token `t`:
///   1. r = verifier.verify(t, now). Anything but key_unavailable is the answer.
///   2. url = verifier.jwks_url_for(t) (an error here is "invalid token").
///   3. if verifier.jwks()->begin_fetch(url, on_done) returned true, GET `url` (Centrifugo: 1 s
///      timeout, 2 attempts, only status 200 counts); then either
///      verifier.jwks()->store(url, *jwk_set::parse(body)) or verifier.jwks()->fetch_failed(url).
///   4. on_done(stored) runs (on the storing thread) for every waiter on that URL: post back to
///      the session's shard; if `stored`, call verify() once more with the same verifier and
///      treat a second key_unavailable like any other error; if not, the token is invalid.
class token_verifier {
public:
    /// Parses the PEM keys (SubjectPublicKeyInfo "PUBLIC KEY", or an X.509 certificate) and
    /// compiles audience_regex / issuer_regex (Go RE2 subset, see the .cpp). Throws
    /// config::config_error naming the key, e.g. "client.token.rsa_public_key: ...";
    /// `key_prefix` is that name's prefix ("client.subscription_token" for subscription tokens).
    /// With skip_signature_verify (client.insecure_skip_token_signature_verify) neither the
    /// algorithm nor the signature is checked, as in Centrifugo; claims still are.
    /// With jwks_public_endpoint (http:// or https://, optionally with {{var}} placeholders
    /// filled from named groups of issuer_regex / audience_regex) tokens are checked against
    /// JWKS keys only: the static keys are still parsed but, as in Centrifugo, not used.
    explicit token_verifier(const config::token_options& opts,
                            bool skip_signature_verify = false,
                            std::string_view key_prefix = "client.token");

    token_verifier(const config::token_options& opts,
                   bool skip_signature_verify,
                   std::string_view key_prefix,
                   jwks_settings jwks);

    /// Checks, in Centrifugo's order of precedence: structure, algorithm, key and signature,
    /// claim types, audience, issuer, then exp/nbf (so "expired" means otherwise valid).
    /// With JWKS the order is Centrifugo's for that mode: structure, claim types, issuer_regex /
    /// audience_regex (their named groups build the endpoint URL), algorithm, kid and key
    /// (key_unavailable when not cached), signature, exact audience / issuer, exp/nbf.
    boost::system::result<verified_token, verify_error> verify(std::string_view token,
                                                               std::int64_t now_unix) const;

    /// Whether jwks_public_endpoint is set.
    bool uses_jwks() const noexcept { return jwks_cache_ != nullptr; }

    /// The cache verify() reads in JWKS mode (null otherwise).
    const std::shared_ptr<jwks_cache>& jwks() const noexcept { return jwks_cache_; }

    /// The JWKS URL to fetch for `token`: jwks_public_endpoint with each {{var}} replaced by
    /// the named group `var` of the issuer_regex / audience_regex match (the audience's wins;
    /// unknown names become ""). Errors: no_key when not in JWKS mode or when the expansion fails
    /// Centrifugo's path-traversal check ("." / ".." / empty segments, trailing '/') or has
    /// spaces or control characters; malformed, issuer_mismatch, audience_mismatch.
    boost::system::result<std::string, verify_error> jwks_url_for(std::string_view token) const;

private:
    /// A named capture group of issuer_regex / audience_regex and its ECMAScript group number.
    using named_group = std::pair<std::string, std::size_t>;

    struct pkey_free {
        void operator()(EVP_PKEY* key) const noexcept;
    };

    using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

    std::optional<verify_error> check_signature(std::string_view alg,
                                                std::string_view signing_input,
                                                std::string_view signature,
                                                std::int64_t now_unix) const;

    /// aud/iss against audience / issuer (and, `with_regexes`, the regexes).
    std::optional<verify_error> check_audience_issuer(std::string_view iss,
                                                      const std::vector<std::string_view>& aud,
                                                      bool with_regexes) const;

    /// Fills `vars` from the regex matches; issuer_mismatch / audience_mismatch if none.
    std::optional<verify_error>
    template_vars(std::string_view iss,
                  const std::vector<std::string_view>& aud,
                  std::vector<std::pair<std::string, std::string>>& vars) const;

    boost::system::result<std::string, verify_error>
    expand_endpoint(std::string_view iss, const std::vector<std::string_view>& aud) const;

    std::optional<verify_error> check_jwks_signature(std::string_view header_json,
                                                     std::string_view alg,
                                                     std::string_view signing_input,
                                                     std::string_view signature,
                                                     const std::string& url) const;

    std::string hmac_secret_;
    std::string hmac_previous_secret_;
    std::int64_t hmac_previous_valid_until_ = 0;
    pkey_ptr rsa_key_;
    pkey_ptr ecdsa_key_;
    std::string ecdsa_alg_; ///< the one ES algorithm the key's curve serves, e.g. "ES256"
    std::string audience_;
    std::optional<std::regex> audience_regex_;
    std::vector<named_group> audience_groups_;
    std::string issuer_;
    std::optional<std::regex> issuer_regex_;
    std::vector<named_group> issuer_groups_;
    std::string user_id_claim_;
    bool skip_signature_verify_ = false;
    std::string jwks_endpoint_;              ///< the template, "" when not in JWKS mode
    std::shared_ptr<jwks_cache> jwks_cache_; ///< set exactly in JWKS mode
};

} // namespace gyre::auth
