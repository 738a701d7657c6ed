#include "auth/jwt.hpp"
#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace gyre::auth {
namespace {

std::string to_hex(std::string_view bytes) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4U];
        out += digits[b & 0xFU];
    }
    return out;
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    }
    return out;
}

// RFC 7515 appendix A.1: an HS256 JWS whose header and payload contain CR LF line breaks.
constexpr std::string_view rfc7515_token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                                           ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dH"
                                           "A6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                                           ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view rfc7515_key_hex =
    "0323354b2b0fa5bc837e0665777ba68f5ab328e6f054c928a90f84b2d2502ebf"
    "d3fb5a92d20647ef968ab4c377623d223d2e2172052e4f08c0cd9af567d080a3";

TEST(jwt, sign_hs_matches_known_token) {
    // The well-known jwt.io example token, produced independently of this code.
    EXPECT_EQ(sign_hs("HS256",
                      R"({"sub":"1234567890","name":"John Doe","iat":1516239022})",
                      "your-256-bit-secret"),
              "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
              ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
              ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
}

TEST(jwt, hmac_sha_matches_rfc4231_vectors) {
    // RFC 4231 test case 2.
    const std::string key = "Jefe";
    const std::string data = "what do ya want for nothing?";
    EXPECT_EQ(to_hex(hmac_sha("HS256", key, data).value()),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(to_hex(hmac_sha("HS384", key, data).value()),
              "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec373632244"
              "5e8e2240ca5e69e2c78b3239ecfab21649");
    EXPECT_EQ(to_hex(hmac_sha("HS512", key, data).value()),
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    EXPECT_FALSE(hmac_sha("RS256", key, data).has_value());
    EXPECT_FALSE(hmac_sha("hs256", key, data).has_value());
}

TEST(jwt, sign_hs_header_and_signature_per_algorithm) {
    for (const std::string alg : {"HS256", "HS384", "HS512"}) {
        const std::string claims = R"({"sub":"42"})";
        const std::string token = sign_hs(alg, claims, "secret");
        const auto decoded = decode_jwt(token);
        ASSERT_TRUE(decoded) << alg;
        EXPECT_EQ(decoded->alg, alg);
        EXPECT_EQ(decoded->header_json, R"({"alg":")" + alg + R"(","typ":"JWT"})");
        EXPECT_EQ(decoded->claims_json, claims);
        EXPECT_EQ(decoded->signature, hmac_sha(alg, "secret", decoded->signing_input).value());
        EXPECT_EQ(token.substr(0, token.rfind('.')), decoded->signing_input);
    }
    EXPECT_EQ(decode_jwt(sign_hs("HS256", "{}", "s"))->signature.size(), 32U);
    EXPECT_EQ(decode_jwt(sign_hs("HS384", "{}", "s"))->signature.size(), 48U);
    EXPECT_EQ(decode_jwt(sign_hs("HS512", "{}", "s"))->signature.size(), 64U);
}

TEST(jwt, sign_hs_rejects_other_algorithms) {
    EXPECT_THROW(sign_hs("RS256", "{}", "secret"), std::invalid_argument);
    EXPECT_THROW(sign_hs("none", "{}", "secret"), std::invalid_argument);
    EXPECT_THROW(sign_hs("", "{}", "secret"), std::invalid_argument);
}

TEST(jwt, decode_rfc7515_example_keeps_exact_bytes) {
    const auto decoded = decode_jwt(rfc7515_token);
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(decoded->alg, "HS256");
    EXPECT_EQ(decoded->header_json, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
    EXPECT_EQ(decoded->claims_json,
              "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
    EXPECT_EQ(decoded->signing_input, rfc7515_token.substr(0, rfc7515_token.rfind('.')));
    EXPECT_EQ(decoded->signature,
              hmac_sha("HS256", from_hex(rfc7515_key_hex), decoded->signing_input).value());
}

TEST(jwt, decode_rejects_wrong_number_of_parts) {
    const std::string h = base64::encode_url(R"({"alg":"HS256"})");
    const std::string p = base64::encode_url("{}");
    for (const std::string& token : {std::string(),
                                     std::string("abc"),
                                     h + "." + p,
                                     h + "." + p + ".c.d",
                                     h + ".." + p + ".c"}) {
        const auto decoded = decode_jwt(token);
        ASSERT_FALSE(decoded) << token;
        EXPECT_TRUE(decoded.error().starts_with("malformed token")) << decoded.error();
    }
    EXPECT_TRUE(decode_jwt(h + "." + p + "."));     // an empty signature still splits
    EXPECT_TRUE(decode_jwt(h + "." + p + ".c2ln")); // the control case
}

TEST(jwt, decode_rejects_bad_base64) {
    const std::string h = base64::encode_url(R"({"alg":"HS256"})");
    const std::string p = base64::encode_url(R"({"sub":"1"})");
    EXPECT_FALSE(decode_jwt("*" + h + "." + p + ".c2ln"));
    EXPECT_FALSE(decode_jwt(h + ".!" + p + ".c2ln"));
    EXPECT_FALSE(decode_jwt(h + "." + p + ".c2l+"));     // standard, not url, alphabet
    EXPECT_FALSE(decode_jwt(h + "." + p + ".c2lnbg==")); // padding is not allowed in JWS
    EXPECT_FALSE(decode_jwt(h + "." + p + ".c2lnb"));    // impossible length
    EXPECT_FALSE(decode_jwt(h + "." + p + " .c2ln"));    // whitespace
    EXPECT_TRUE(decode_jwt(h + "." + p + ".c2lnbg"));    // the control case
}

TEST(jwt, decode_rejects_header_that_is_not_a_json_object) {
    const std::string p = base64::encode_url("{}");
    for (const std::string header : {"",
                                     "not json",
                                     R"(["alg","HS256"])",
                                     R"("HS256")",
                                     R"({"alg":"HS256"} x)",
                                     R"({"alg":256})",
                                     R"({"alg":["HS256"]})"}) {
        EXPECT_FALSE(decode_jwt(base64::encode_url(header) + "." + p + ".c2ln")) << header;
    }
    EXPECT_TRUE(decode_jwt(base64::encode_url(R"({"alg":"HS256"})") + "." + p + ".c2ln"));
}

TEST(jwt, decode_without_alg_gives_empty_alg) {
    const auto decoded =
        decode_jwt(base64::encode_url(R"({"typ":"JWT"})") + "." + base64::encode_url("{}") + ".");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->alg, "");
    EXPECT_EQ(decoded->signature, "");
}

TEST(jwt, decode_does_not_parse_or_reformat_the_payload) {
    const std::string claims = "{ \"b\" : 1,\n  \"a\" : [ 1 , 2 ] }";
    const auto decoded = decode_jwt(base64::encode_url(R"({"alg":"HS256"})") + "." +
                                    base64::encode_url(claims) + ".c2ln");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->claims_json, claims);
    EXPECT_EQ(decoded->signature, "sig");

    // Not JSON at all is still decodable here; the verifier is what rejects it.
    EXPECT_TRUE(decode_jwt(base64::encode_url(R"({"alg":"HS256"})") + "." +
                           base64::encode_url("not json") + ".c2ln"));
}

} // namespace
} // namespace gyre::auth
