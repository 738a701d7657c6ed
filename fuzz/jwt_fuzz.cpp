// libFuzzer entry point for JWT handling: auth::decode_jwt and token_verifier::verify on the
// input as a token, with an HMAC secret (and a previous secret) configured. Link gyre_auth.
// Oracles besides "never crash": a verifier that skips signatures agrees with decode_jwt on
// structure, and the input signed as claims with the configured secret is never refused for
// its signature and keeps its payload bytes exactly.
#include "auth/jwt.hpp"
#include "auth/token_verifier.hpp"
#include "config/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr std::int64_t now_unix = 1'700'000'000;
constexpr std::string_view secret = "gyre-fuzz-secret";

gyre::config::token_options hmac_options() {
    gyre::config::token_options o;
    o.hmac_secret_key = std::string(secret);
    o.hmac_previous_secret_key = "gyre-fuzz-previous-secret";
    return o;
}

/// Claims checks that the HMAC verifier never reaches unless a signature matches.
gyre::config::token_options claim_options() {
    gyre::config::token_options o;
    o.audience_regex = "^gyre-[a-z]+$";
    o.issuer_regex = "(?i)issuer";
    o.user_id_claim = "user.id";
    return o;
}

void fail_if(bool condition) {
    if (condition) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using gyre::auth::verify_error;
    static const gyre::auth::token_verifier hmac_verifier(hmac_options());
    static const gyre::auth::token_verifier claims_verifier(claim_options(), true);

    const std::string_view input(reinterpret_cast<const char*>(data), size);

    const auto decoded = gyre::auth::decode_jwt(input);
    const auto verified = hmac_verifier.verify(input, now_unix);
    fail_if(!decoded && (verified || verified.error() != verify_error::malformed));

    const auto unsigned_check = claims_verifier.verify(input, now_unix);
    fail_if(!decoded && (unsigned_check || unsigned_check.error() != verify_error::malformed));
    fail_if(unsigned_check && unsigned_check->claims_json != decoded->claims_json);

    // The input as the claims of a token this verifier's own secret signed.
    const std::string token = gyre::auth::sign_hs("HS256", input, secret);
    const auto own = gyre::auth::decode_jwt(token);
    fail_if(!own || own->claims_json != input || own->alg != "HS256");
    const auto signed_check = hmac_verifier.verify(token, now_unix);
    if (signed_check) {
        fail_if(signed_check->claims_json != input || signed_check->alg != "HS256");
    } else {
        const auto e = signed_check.error();
        fail_if(e == verify_error::invalid_signature || e == verify_error::unsupported_algorithm ||
                e == verify_error::no_key);
    }
    return 0;
}
