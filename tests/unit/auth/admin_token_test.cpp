// The admin web UI's session token.
#include "auth/admin_token.hpp"
#include "auth/jwt.hpp"
#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gyre::auth {
namespace {

constexpr std::int64_t issued_at = 1'700'000'000;
constexpr std::int64_t lifetime = admin_token_lifetime.count();

std::vector<std::string> parts_of(const std::string& token) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto dot = token.find('.', start);
        out.push_back(token.substr(start, dot - start));
        if (dot == std::string::npos) {
            return out;
        }
        start = dot + 1;
    }
}

/// The key admin tokens are signed with (auth/admin_token.cpp).
std::string derived_key(const std::string& secret) {
    return *hmac_sha("HS256", secret, "gyre admin web ui token");
}

TEST(AdminToken, LifetimeIsThirtyDays) {
    EXPECT_EQ(lifetime, 2'592'000);
}

TEST(AdminToken, IssuesACompactHs256JwtWithTheAdminClaims) {
    const auto token = issue_admin_token("s3cret", issued_at);
    ASSERT_EQ(parts_of(token).size(), 3U);
    auto decoded = decode_jwt(token);
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(decoded->alg, "HS256");
    EXPECT_EQ(decoded->claims_json,
              "{\"sub\":\"gyre-admin\",\"iat\":1700000000,\"exp\":" +
                  std::to_string(issued_at + lifetime) + "}");
    // Signed with a key derived from the secret, not with the secret itself.
    EXPECT_EQ(*hmac_sha("HS256", derived_key("s3cret"), decoded->signing_input),
              decoded->signature);
    EXPECT_NE(*hmac_sha("HS256", "s3cret", decoded->signing_input), decoded->signature);
    // Deterministic: same secret and time, same token; another time, another token.
    EXPECT_EQ(issue_admin_token("s3cret", issued_at), token);
    EXPECT_NE(issue_admin_token("s3cret", issued_at + 1), token);
}

TEST(AdminToken, RoundTripUntilExpiry) {
    const auto token = issue_admin_token("s3cret", issued_at);
    EXPECT_TRUE(admin_token_valid(token, "s3cret", issued_at));
    EXPECT_TRUE(admin_token_valid(token, "s3cret", issued_at - 100)); // clock skew: still fine
    EXPECT_TRUE(admin_token_valid(token, "s3cret", issued_at + lifetime - 1));
    EXPECT_FALSE(admin_token_valid(token, "s3cret", issued_at + lifetime)); // exp is exclusive
    EXPECT_FALSE(admin_token_valid(token, "s3cret", issued_at + lifetime + 3600));
}

TEST(AdminToken, WrongSecretIsRefused) {
    const auto token = issue_admin_token("s3cret", issued_at);
    EXPECT_FALSE(admin_token_valid(token, "s3cret2", issued_at));
    EXPECT_FALSE(admin_token_valid(token, "S3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(token, "s3cre", issued_at));
    EXPECT_FALSE(admin_token_valid(issue_admin_token("other", issued_at), "s3cret", issued_at));
}

TEST(AdminToken, EmptySecretIsRefused) {
    const auto token = issue_admin_token("", issued_at); // even one signed with the empty key
    EXPECT_FALSE(admin_token_valid(token, "", issued_at));
    EXPECT_FALSE(admin_token_valid(issue_admin_token("s3cret", issued_at), "", issued_at));
}

TEST(AdminToken, TamperedPayloadIsRefused) {
    const auto token = issue_admin_token("s3cret", issued_at);
    auto parts = parts_of(token);
    ASSERT_EQ(parts.size(), 3U);
    // A longer expiry under the original signature.
    const std::string forged_claims = "{\"sub\":\"gyre-admin\",\"iat\":1700000000,\"exp\":" +
                                      std::to_string(issued_at + 100 * lifetime) + "}";
    const auto forged = parts[0] + "." + base64::encode_url(forged_claims) + "." + parts[2];
    EXPECT_FALSE(admin_token_valid(forged, "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(forged, "s3cret", issued_at + 2 * lifetime));
    // A single changed payload character.
    auto flipped = parts[1];
    flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(admin_token_valid(parts[0] + "." + flipped + "." + parts[2], "s3cret", issued_at));
    // A different header (same alg, other bytes) under the original signature.
    const auto header2 = base64::encode_url("{\"typ\":\"JWT\",\"alg\":\"HS256\"}");
    EXPECT_FALSE(admin_token_valid(header2 + "." + parts[1] + "." + parts[2], "s3cret", issued_at));
}

TEST(AdminToken, TamperedSignatureIsRefused) {
    const auto token = issue_admin_token("s3cret", issued_at);
    auto parts = parts_of(token);
    ASSERT_EQ(parts.size(), 3U);
    auto sig = parts[2];
    sig[0] = sig[0] == 'A' ? 'B' : 'A'; // the first character carries six full bits
    EXPECT_FALSE(admin_token_valid(parts[0] + "." + parts[1] + "." + sig, "s3cret", issued_at));
    // Truncated, empty and missing signatures.
    EXPECT_FALSE(admin_token_valid(
        parts[0] + "." + parts[1] + "." + parts[2].substr(0, 20), "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(parts[0] + "." + parts[1] + ".", "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(parts[0] + "." + parts[1], "s3cret", issued_at));
    // The signature of another token.
    const auto other = parts_of(issue_admin_token("s3cret", issued_at + 1));
    EXPECT_FALSE(
        admin_token_valid(parts[0] + "." + parts[1] + "." + other[2], "s3cret", issued_at));
}

TEST(AdminToken, RegularJwtsWithTheSameSecretAreRefused) {
    const auto exp = std::to_string(issued_at + 3600);
    // A client connection token for a user.
    EXPECT_FALSE(admin_token_valid(
        sign_hs("HS256", "{\"sub\":\"42\",\"exp\":" + exp + "}", "s3cret"), "s3cret", issued_at));
    // No subject, an empty one, a non-string one, a near miss.
    EXPECT_FALSE(admin_token_valid(
        sign_hs("HS256", "{\"exp\":" + exp + "}", "s3cret"), "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(
        sign_hs("HS256", "{\"sub\":\"\",\"exp\":" + exp + "}", "s3cret"), "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(
        sign_hs("HS256", "{\"sub\":1,\"exp\":" + exp + "}", "s3cret"), "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(
        sign_hs("HS256", "{\"sub\":\"gyre-admin \",\"exp\":" + exp + "}", "s3cret"),
        "s3cret",
        issued_at));
    // The admin subject without a usable expiry never authenticates.
    EXPECT_FALSE(admin_token_valid(
        sign_hs("HS256", "{\"sub\":\"gyre-admin\"}", "s3cret"), "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(
        sign_hs("HS256", "{\"sub\":\"gyre-admin\",\"exp\":\"" + exp + "\"}", "s3cret"),
        "s3cret",
        issued_at));
    // Another HMAC algorithm with the right claims.
    const auto claims = "{\"sub\":\"gyre-admin\",\"exp\":" + exp + "}";
    EXPECT_FALSE(admin_token_valid(sign_hs("HS384", claims, "s3cret"), "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(sign_hs("HS512", claims, "s3cret"), "s3cret", issued_at));
    // Payload that is not a JSON object.
    EXPECT_FALSE(admin_token_valid(sign_hs("HS256", "[1,2]", "s3cret"), "s3cret", issued_at));
    EXPECT_FALSE(admin_token_valid(sign_hs("HS256", "not json", "s3cret"), "s3cret", issued_at));
    // Even the admin claims, signed with the raw secret (a client-token key reused as
    // admin.secret), are refused...
    EXPECT_FALSE(admin_token_valid(sign_hs("HS256", claims, "s3cret"), "s3cret", issued_at));
    // ...and the control: the same construction under the derived key is accepted.
    EXPECT_TRUE(
        admin_token_valid(sign_hs("HS256", claims, derived_key("s3cret")), "s3cret", issued_at));
}

TEST(AdminToken, UnsignedTokensAreRefused) {
    const auto claims = base64::encode_url("{\"sub\":\"gyre-admin\",\"exp\":9999999999}");
    const auto none = base64::encode_url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
    EXPECT_FALSE(admin_token_valid(none + "." + claims + ".", "s3cret", issued_at));
    const auto no_alg = base64::encode_url("{\"typ\":\"JWT\"}");
    EXPECT_FALSE(admin_token_valid(no_alg + "." + claims + ".", "s3cret", issued_at));
}

TEST(AdminToken, GarbageIsRefused) {
    const auto token = issue_admin_token("s3cret", issued_at);
    for (const std::string& bad : {std::string(),
                                   std::string("."),
                                   std::string(".."),
                                   std::string("..."),
                                   std::string("a.b.c"),
                                   std::string("not a token"),
                                   std::string("insecure"),
                                   std::string("token ") + token,
                                   token + ".",
                                   token + ".extra",
                                   " " + token,
                                   token + " ",
                                   token + "\n",
                                   std::string(10000, 'x'),
                                   std::string("\0\0\0", 3)}) {
        EXPECT_FALSE(admin_token_valid(bad, "s3cret", issued_at)) << bad;
    }
}

} // namespace
} // namespace gyre::auth
