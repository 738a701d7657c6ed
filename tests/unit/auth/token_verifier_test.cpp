#include "auth/jwt.hpp"
#include "auth/token_verifier.hpp"
#include "config/error.hpp"
#include "core/base64.hpp"
#include "keys/test_keys.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gyre::auth {

// GoogleTest's printer hook, so failures show "token expired" rather than an integer.
void PrintTo(verify_error e, std::ostream* os) { // NOLINT(readability-identifier-naming)
    *os << to_string(e);
}

namespace {

namespace keys = test_keys;
using config::config_error;
using config::token_options;

constexpr std::int64_t now = 1'700'000'000;

// ---------------------------------------------------------------------------------------------
// Token minting with OpenSSL private keys (independent of the code under test but for base64).

struct bio_free {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

struct ecdsa_sig_free {
    void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

const EVP_MD* digest_for(std::string_view alg) {
    if (alg.ends_with("256")) {
        return EVP_sha256();
    }
    if (alg.ends_with("384")) {
        return EVP_sha384();
    }
    return EVP_sha512();
}

std::string signing_input(std::string_view alg, std::string_view claims) {
    return base64::encode_url(R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})") + "." +
           base64::encode_url(claims);
}

/// A DER signature for RSA keys; the JWS raw r || s for EC keys (coordinate size `ec_size`).
std::string sign_with(std::string_view private_pem,
                      std::string_view alg,
                      std::string_view input,
                      std::size_t ec_size) {
    const std::unique_ptr<BIO, bio_free> bio(
        BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())));
    const std::unique_ptr<EVP_PKEY, pkey_free> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    const std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    if (!key || !ctx ||
        EVP_DigestSignInit(ctx.get(), nullptr, digest_for(alg), nullptr, key.get()) != 1) {
        throw std::runtime_error("test setup: cannot load signing key");
    }
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
        throw std::runtime_error("test setup: cannot size signature");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(
            ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size()) !=
        1) {
        throw std::runtime_error("test setup: cannot sign");
    }
    sig.resize(len);
    if (ec_size == 0) {
        return sig;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    const std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> ecdsa(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!ecdsa) {
        throw std::runtime_error("test setup: bad DER signature");
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(ecdsa.get(), &r, &s);
    std::string raw(2 * ec_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    BN_bn2binpad(r, out, static_cast<int>(ec_size));
    BN_bn2binpad(s, out + ec_size, static_cast<int>(ec_size));
    return raw;
}

std::string sign_rs(std::string_view alg, std::string_view claims, std::string_view private_pem) {
    const std::string input = signing_input(alg, claims);
    return input + "." + base64::encode_url(sign_with(private_pem, alg, input, 0));
}

std::size_t ec_size_for(std::string_view alg) {
    return alg == "ES256" ? 32U : alg == "ES384" ? 48U : 66U;
}

std::string sign_es(std::string_view alg, std::string_view claims, std::string_view private_pem) {
    const std::string input = signing_input(alg, claims);
    return input + "." + base64::encode_url(sign_with(private_pem, alg, input, ec_size_for(alg)));
}

/// A token with any header, payload and raw signature bytes.
std::string raw_token(std::string_view header, std::string_view claims, std::string_view sig) {
    return base64::encode_url(header) + "." + base64::encode_url(claims) + "." +
           base64::encode_url(sig);
}

/// Replaces the payload, keeping header and signature: what an attacker editing claims does.
std::string with_payload(const std::string& token, std::string_view claims) {
    const auto dot1 = token.find('.');
    const auto dot2 = token.rfind('.');
    return token.substr(0, dot1 + 1) + base64::encode_url(claims) + token.substr(dot2);
}

token_options hmac_options(std::string secret = "secret") {
    token_options o;
    o.hmac_secret_key = std::move(secret);
    return o;
}

token_options rsa_options(std::string_view public_pem = keys::rsa_public) {
    token_options o;
    o.rsa_public_key = std::string(public_pem);
    return o;
}

token_options ec_options(std::string_view public_pem) {
    token_options o;
    o.ecdsa_public_key = std::string(public_pem);
    return o;
}

std::optional<verify_error> error_of(const boost::system::result<verified_token, verify_error>& r) {
    if (r) {
        return std::nullopt;
    }
    return r.error();
}

std::string config_error_text(const token_options& o, std::string_view prefix = "client.token") {
    try {
        const token_verifier v(o, false, prefix);
        (void)v;
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no config_error)";
}

const std::string claims_42 = R"({"sub":"42","exp":1700000600})";

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(jwt, verify_hs_round_trip) {
    const token_verifier v(hmac_options());
    for (const std::string alg : {"HS256", "HS384", "HS512"}) {
        const auto r = v.verify(sign_hs(alg, claims_42, "secret"), now);
        ASSERT_TRUE(r) << alg << ": " << to_string(r.error());
        EXPECT_EQ(r->alg, alg);
        EXPECT_EQ(r->user, "42");
        EXPECT_EQ(r->exp, 1'700'000'600);
        EXPECT_EQ(r->claims_json, claims_42);
        EXPECT_EQ(r->claims.at("sub").as_string(), "42");
    }
}

TEST(jwt, verify_rs_round_trip) {
    const token_verifier v(rsa_options());
    for (const std::string alg : {"RS256", "RS384", "RS512"}) {
        const auto r = v.verify(sign_rs(alg, claims_42, keys::rsa_private), now);
        ASSERT_TRUE(r) << alg << ": " << to_string(r.error());
        EXPECT_EQ(r->alg, alg);
        EXPECT_EQ(r->user, "42");
    }
}

TEST(jwt, verify_es_round_trip) {
    struct es_case {
        std::string alg;
        std::string_view private_pem;
        std::string_view public_pem;
    };

    for (const es_case& c : {es_case{"ES256", keys::ec_p256_private, keys::ec_p256_public},
                             es_case{"ES384", keys::ec_p384_private, keys::ec_p384_public},
                             es_case{"ES512", keys::ec_p521_private, keys::ec_p521_public}}) {
        const token_verifier v(ec_options(c.public_pem));
        const std::string token = sign_es(c.alg, claims_42, c.private_pem);
        EXPECT_EQ(decode_jwt(token)->signature.size(), 2 * ec_size_for(c.alg)) << c.alg;
        const auto r = v.verify(token, now);
        ASSERT_TRUE(r) << c.alg << ": " << to_string(r.error());
        EXPECT_EQ(r->alg, c.alg);
        EXPECT_EQ(r->user, "42");
    }
}

TEST(jwt, verify_accepts_rsa_key_given_as_certificate) {
    const token_verifier v(rsa_options(keys::rsa_certificate));
    EXPECT_TRUE(v.verify(sign_rs("RS256", claims_42, keys::rsa_private), now));
    EXPECT_EQ(error_of(v.verify(sign_rs("RS256", claims_42, keys::rsa_other_private), now)),
              verify_error::invalid_signature);
}

TEST(jwt, verify_rfc7515_example_with_binary_secret) {
    // RFC 7515 appendix A.1, exp 1300819380; the payload's CR LFs must be kept as signed.
    std::string secret;
    for (const char* p = "0323354b2b0fa5bc837e0665777ba68f5ab328e6f054c928a90f84b2d2502ebf"
                         "d3fb5a92d20647ef968ab4c377623d223d2e2172052e4f08c0cd9af567d080a3";
         *p != '\0';
         p += 2) {
        secret += static_cast<char>(std::stoi(std::string(p, 2), nullptr, 16));
    }
    const std::string token =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
        "cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const token_verifier v(hmac_options(secret));
    const auto r = v.verify(token, 1'300'819'379);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->claims_json,
              "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
    EXPECT_EQ(r->exp, 1'300'819'380);
    EXPECT_EQ(r->user, "");
    EXPECT_EQ(error_of(v.verify(token, 1'300'819'380)), verify_error::expired);
}

TEST(jwt, verify_keeps_payload_bytes_verbatim) {
    const std::string claims = "{ \"sub\" : \"7\",\n  \"info\" : {\"b\":1, \"a\":2.50} }";
    const auto r = token_verifier(hmac_options()).verify(sign_hs("HS256", claims, "secret"), now);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->claims_json, claims);
    EXPECT_EQ(r->user, "7");
    EXPECT_FALSE(r->exp.has_value());
}

// ---------------------------------------------------------------------------------------------
// Signatures

TEST(jwt, verify_tampered_payload_is_invalid_signature) {
    const std::string forged = R"({"sub":"admin","exp":1700000600})";
    const token_verifier hs(hmac_options());
    const token_verifier rs(rsa_options());
    const token_verifier es(ec_options(keys::ec_p256_public));
    const std::string hs_token = sign_hs("HS256", claims_42, "secret");
    const std::string rs_token = sign_rs("RS256", claims_42, keys::rsa_private);
    const std::string es_token = sign_es("ES256", claims_42, keys::ec_p256_private);
    ASSERT_TRUE(hs.verify(hs_token, now));
    ASSERT_TRUE(rs.verify(rs_token, now));
    ASSERT_TRUE(es.verify(es_token, now));
    EXPECT_EQ(error_of(hs.verify(with_payload(hs_token, forged), now)),
              verify_error::invalid_signature);
    EXPECT_EQ(error_of(rs.verify(with_payload(rs_token, forged), now)),
              verify_error::invalid_signature);
    EXPECT_EQ(error_of(es.verify(with_payload(es_token, forged), now)),
              verify_error::invalid_signature);
}

TEST(jwt, verify_tampered_signature_is_invalid_signature) {
    const token_verifier rs(rsa_options());
    const token_verifier es(ec_options(keys::ec_p256_public));
    for (const auto& [verifier, token] :
         {std::pair{&rs, sign_rs("RS256", claims_42, keys::rsa_private)},
          std::pair{&es, sign_es("ES256", claims_42, keys::ec_p256_private)}}) {
        auto decoded = decode_jwt(token);
        ASSERT_TRUE(decoded);
        std::string sig = decoded->signature;
        sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
        EXPECT_EQ(
            error_of(verifier->verify(decoded->signing_input + "." + base64::encode_url(sig), now)),
            verify_error::invalid_signature);
        // Truncated and empty signatures.
        EXPECT_EQ(error_of(verifier->verify(
                      decoded->signing_input + "." + base64::encode_url(sig.substr(1)), now)),
                  verify_error::invalid_signature);
        EXPECT_EQ(error_of(verifier->verify(decoded->signing_input + ".", now)),
                  verify_error::invalid_signature);
    }
}

TEST(jwt, verify_es_der_signature_is_rejected) {
    // OpenSSL's native DER form is not the JWS r || s encoding.
    const std::string input = signing_input("ES256", claims_42);
    const std::string der = sign_with(keys::ec_p256_private, "ES256", input, 0);
    const token_verifier v(ec_options(keys::ec_p256_public));
    EXPECT_EQ(error_of(v.verify(input + "." + base64::encode_url(der), now)),
              verify_error::invalid_signature);
}

TEST(jwt, verify_wrong_key_is_invalid_signature) {
    EXPECT_EQ(error_of(token_verifier(hmac_options("other"))
                           .verify(sign_hs("HS256", claims_42, "secret"), now)),
              verify_error::invalid_signature);
    EXPECT_EQ(error_of(token_verifier(rsa_options(keys::rsa_other_public))
                           .verify(sign_rs("RS256", claims_42, keys::rsa_private), now)),
              verify_error::invalid_signature);
    EXPECT_EQ(error_of(token_verifier(ec_options(keys::ec_other_public))
                           .verify(sign_es("ES256", claims_42, keys::ec_p256_private), now)),
              verify_error::invalid_signature);
}

TEST(jwt, verify_failures_leave_openssl_error_queue_empty) {
    ERR_clear_error();
    const token_verifier rs(rsa_options());
    const token_verifier es(ec_options(keys::ec_p256_public));
    EXPECT_FALSE(rs.verify(sign_rs("RS256", claims_42, keys::rsa_other_private), now));
    EXPECT_FALSE(rs.verify(signing_input("RS256", claims_42) + ".AAAA", now));
    EXPECT_FALSE(es.verify(sign_es("ES256", claims_42, keys::ec_other_private), now));
    EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(jwt, verify_unsupported_algorithms) {
    const token_verifier v(hmac_options());
    for (const std::string header : {R"({"alg":"none"})",
                                     R"({"alg":"None"})",
                                     R"({"alg":"PS256"})",
                                     R"({"alg":"EdDSA"})",
                                     R"({"alg":"hs256"})",
                                     R"({"alg":"HS255"})",
                                     R"({"alg":""})",
                                     R"({"typ":"JWT"})"}) {
        EXPECT_EQ(error_of(v.verify(raw_token(header, claims_42, ""), now)),
                  verify_error::unsupported_algorithm)
            << header;
    }
    // "none" with any signature at all is still refused.
    EXPECT_EQ(error_of(v.verify(raw_token(R"({"alg":"none"})", claims_42, "x"), now)),
              verify_error::unsupported_algorithm);
}

TEST(jwt, verify_without_key_for_algorithm_family) {
    const token_verifier hs_only(hmac_options());
    const token_verifier rs_only(rsa_options());
    const token_verifier nothing{token_options{}};
    EXPECT_EQ(error_of(hs_only.verify(sign_rs("RS256", claims_42, keys::rsa_private), now)),
              verify_error::no_key);
    EXPECT_EQ(error_of(hs_only.verify(sign_es("ES256", claims_42, keys::ec_p256_private), now)),
              verify_error::no_key);
    EXPECT_EQ(error_of(rs_only.verify(sign_hs("HS256", claims_42, "secret"), now)),
              verify_error::no_key);
    EXPECT_EQ(error_of(nothing.verify(sign_hs("HS256", claims_42, "secret"), now)),
              verify_error::no_key);
}

TEST(jwt, verify_rejects_hs_token_keyed_with_the_rsa_public_key) {
    // The classic algorithm-confusion attack: HS256 "signed" with the public key as secret.
    const std::string token = sign_hs("HS256", claims_42, keys::rsa_public);
    EXPECT_EQ(error_of(token_verifier(rsa_options()).verify(token, now)), verify_error::no_key);
    EXPECT_TRUE(token_verifier(hmac_options(std::string(keys::rsa_public))).verify(token, now));
}

TEST(jwt, verify_es_algorithm_must_match_key_curve) {
    const token_verifier p256(ec_options(keys::ec_p256_public));
    const token_verifier p384(ec_options(keys::ec_p384_public));
    EXPECT_TRUE(p384.verify(sign_es("ES384", claims_42, keys::ec_p384_private), now));
    // An ES256 signature made with the P-384 key but labelled ES384, and vice versa.
    EXPECT_EQ(error_of(p256.verify(sign_es("ES384", claims_42, keys::ec_p384_private), now)),
              verify_error::no_key);
    EXPECT_EQ(error_of(p384.verify(sign_es("ES256", claims_42, keys::ec_p256_private), now)),
              verify_error::no_key);
}

// ---------------------------------------------------------------------------------------------
// Previous HMAC secret

TEST(jwt, verify_previous_hmac_secret_until_valid_until) {
    token_options o = hmac_options("new");
    o.hmac_previous_secret_key = "old";
    o.hmac_previous_secret_key_valid_until = now + 100;
    const token_verifier v(o);
    const std::string old_token = sign_hs("HS256", R"({"sub":"1"})", "old");
    const std::string new_token = sign_hs("HS256", R"({"sub":"1"})", "new");
    EXPECT_TRUE(v.verify(old_token, now));
    EXPECT_TRUE(v.verify(old_token, now + 100)); // Centrifugo refuses only once now > valid_until
    EXPECT_EQ(error_of(v.verify(old_token, now + 101)), verify_error::invalid_signature);
    EXPECT_TRUE(v.verify(new_token, now + 101));
    EXPECT_EQ(error_of(v.verify(sign_hs("HS256", R"({"sub":"1"})", "neither"), now)),
              verify_error::invalid_signature);
}

TEST(jwt, verify_previous_hmac_secret_without_valid_until_never_lapses) {
    token_options o = hmac_options("new");
    o.hmac_previous_secret_key = "old";
    const token_verifier v(o);
    EXPECT_TRUE(v.verify(sign_hs("HS512", R"({"sub":"1"})", "old"), now));
    EXPECT_TRUE(v.verify(sign_hs("HS512", R"({"sub":"1"})", "old"), 4'000'000'000));
    // Without the previous secret configured, the old token is refused.
    EXPECT_EQ(error_of(token_verifier(hmac_options("new"))
                           .verify(sign_hs("HS512", R"({"sub":"1"})", "old"), now)),
              verify_error::invalid_signature);
}

TEST(jwt, verify_previous_hmac_secret_alone) {
    token_options o;
    o.hmac_previous_secret_key = "old";
    o.hmac_previous_secret_key_valid_until = now;
    const token_verifier v(o);
    EXPECT_TRUE(v.verify(sign_hs("HS256", "{}", "old"), now));
    EXPECT_EQ(error_of(v.verify(sign_hs("HS256", "{}", "old"), now + 1)), verify_error::no_key);
}

// ---------------------------------------------------------------------------------------------
// Time claims

TEST(jwt, verify_exp) {
    const token_verifier v(hmac_options());
    const auto at = [&](std::string_view claims, std::int64_t t) {
        return error_of(v.verify(sign_hs("HS256", claims, "secret"), t));
    };
    EXPECT_EQ(at(R"({"exp":1700000001})", now), std::nullopt);
    EXPECT_EQ(at(R"({"exp":1700000000})", now), verify_error::expired); // exp must be after now
    EXPECT_EQ(at(R"({"exp":1699999999})", now), verify_error::expired);
    EXPECT_EQ(at(R"({"exp":0})", now), verify_error::expired);
    EXPECT_EQ(at(R"({"exp":null})", now), std::nullopt);
    EXPECT_EQ(at(R"({})", now), std::nullopt);
}

TEST(jwt, verify_exp_number_forms) {
    const token_verifier v(hmac_options());
    const auto verify = [&](std::string_view claims, std::int64_t t) {
        return v.verify(sign_hs("HS256", claims, "secret"), t);
    };
    EXPECT_EQ(verify(R"({"exp":1700000001.9})", now).value().exp, 1'700'000'001);
    EXPECT_EQ(error_of(verify(R"({"exp":1700000000.9})", now)), verify_error::expired);
    EXPECT_EQ(verify(R"({"exp":1.7000006e9})", now).value().exp, 1'700'000'600);
    EXPECT_EQ(verify(R"({"exp":"1700000600"})", now).value().exp,
              1'700'000'600); // Go's json.Number
    EXPECT_EQ(verify(R"({"exp":18446744073709551615})", now).value().exp, INT64_MAX);
    EXPECT_EQ(verify(R"({"exp":1e300})", now).value().exp, INT64_MAX);
    EXPECT_EQ(error_of(verify(R"({"exp":-1e300})", now)), verify_error::expired);
    for (const std::string bad : {R"({"exp":true})",
                                  R"({"exp":"soon"})",
                                  R"({"exp":" 1"})",
                                  R"({"exp":[1]})",
                                  R"({"nbf":{}})",
                                  R"({"iat":"x"})"}) {
        EXPECT_EQ(error_of(verify(bad, now)), verify_error::malformed) << bad;
    }
}

TEST(jwt, verify_nbf) {
    const token_verifier v(hmac_options());
    const auto at = [&](std::string_view claims, std::int64_t t) {
        return error_of(v.verify(sign_hs("HS256", claims, "secret"), t));
    };
    EXPECT_EQ(at(R"({"nbf":1700000001})", now), verify_error::not_yet_valid);
    EXPECT_EQ(at(R"({"nbf":1700000000})", now), std::nullopt);
    EXPECT_EQ(at(R"({"nbf":1699999999,"exp":1700000001})", now), std::nullopt);
    EXPECT_EQ(at(R"({"nbf":1700000001})", now + 1), std::nullopt);
}

TEST(jwt, verify_time_checks_come_last) {
    // An expired token with a bad signature or wrong audience is reported as such, like
    // Centrifugo, which only says "token expired" about otherwise valid tokens.
    token_options o = hmac_options();
    o.audience = "gyre";
    const token_verifier v(o);
    const std::string expired = R"({"aud":"gyre","exp":1})";
    EXPECT_EQ(error_of(v.verify(sign_hs("HS256", expired, "secret"), now)), verify_error::expired);
    EXPECT_EQ(error_of(v.verify(sign_hs("HS256", expired, "wrong"), now)),
              verify_error::invalid_signature);
    EXPECT_EQ(error_of(v.verify(sign_hs("HS256", R"({"aud":"other","exp":1})", "secret"), now)),
              verify_error::audience_mismatch);
}

// ---------------------------------------------------------------------------------------------
// Audience and issuer

TEST(jwt, verify_audience_string_and_array) {
    token_options o = hmac_options();
    o.audience = "gyre";
    const token_verifier v(o);
    const auto check = [&](std::string_view claims) {
        return error_of(v.verify(sign_hs("HS256", claims, "secret"), now));
    };
    EXPECT_EQ(check(R"({"aud":"gyre"})"), std::nullopt);
    EXPECT_EQ(check(R"({"aud":["other","gyre"]})"), std::nullopt);
    EXPECT_EQ(check(R"({"aud":"other"})"), verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({"aud":["other"]})"), verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({"aud":[]})"), verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({"aud":"gyre2"})"), verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({})"), verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({"aud":["gyre",1]})"), verify_error::malformed);
    EXPECT_EQ(check(R"({"aud":42})"), verify_error::malformed);
    // Without a configured audience, any well-typed aud is fine.
    EXPECT_TRUE(
        token_verifier(hmac_options()).verify(sign_hs("HS256", R"({"aud":"x"})", "secret"), now));
}

TEST(jwt, verify_audience_regex) {
    token_options o = hmac_options();
    o.audience_regex = R"(^https://(?P<tenant>[a-z]+)\.example\.com$)";
    const token_verifier v(o);
    const auto check = [&](std::string_view claims) {
        return error_of(v.verify(sign_hs("HS256", claims, "secret"), now));
    };
    EXPECT_EQ(check(R"({"aud":"https://acme.example.com"})"), std::nullopt);
    EXPECT_EQ(check(R"({"aud":["x","https://acme.example.com"]})"), std::nullopt);
    EXPECT_EQ(check(R"({"aud":"https://acme.example.com.evil.org"})"),
              verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({"aud":"https://ACME.example.com"})"), verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({"aud":["x","y"]})"), verify_error::audience_mismatch);
    EXPECT_EQ(check(R"({})"), verify_error::audience_mismatch);
}

TEST(jwt, verify_regex_is_a_search_like_go) {
    // Go's FindStringSubmatch, which Centrifugo uses, finds a match anywhere in the claim.
    token_options o = hmac_options();
    o.issuer_regex = R"(example\.com)";
    const token_verifier v(o);
    EXPECT_TRUE(v.verify(sign_hs("HS256", R"({"iss":"https://example.com/x"})", "secret"), now));
    EXPECT_EQ(
        error_of(v.verify(sign_hs("HS256", R"({"iss":"https://example.org"})", "secret"), now)),
        verify_error::issuer_mismatch);

    token_options ci = hmac_options();
    ci.issuer_regex = R"((?i)\Aissuer-[0-9]+\z)";
    const token_verifier icase(ci);
    EXPECT_TRUE(icase.verify(sign_hs("HS256", R"({"iss":"ISSUER-12"})", "secret"), now));
    EXPECT_EQ(error_of(icase.verify(sign_hs("HS256", R"({"iss":"x-issuer-12"})", "secret"), now)),
              verify_error::issuer_mismatch);

    // RE2 reads a ']' first in a class as a literal; ECMAScript would see an empty class.
    token_options br = hmac_options();
    br.issuer_regex = "^[]a]+$";
    const token_verifier bracket(br);
    EXPECT_TRUE(bracket.verify(sign_hs("HS256", R"({"iss":"]a]"})", "secret"), now));
    EXPECT_EQ(error_of(bracket.verify(sign_hs("HS256", R"({"iss":"]b"})", "secret"), now)),
              verify_error::issuer_mismatch);
}

TEST(jwt, verify_regex_survives_hostile_claims) {
    // Claims come from untrusted tokens: a long value must not overflow the stack (libstdc++'s
    // default backtracking executor recurses per character) nor take exponential time.
    token_options o = hmac_options();
    o.audience_regex = "^(a+)+$";
    const token_verifier v(o);
    const auto started = std::chrono::steady_clock::now();
    const std::string long_aud(100'000, 'a');
    EXPECT_TRUE(v.verify(sign_hs("HS256", R"({"aud":")" + long_aud + R"("})", "secret"), now));
    const std::string hostile = std::string(5'000, 'a') + "b";
    EXPECT_EQ(
        error_of(v.verify(sign_hs("HS256", R"({"aud":")" + hostile + R"("})", "secret"), now)),
        verify_error::audience_mismatch);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

TEST(jwt, verify_issuer) {
    token_options o = hmac_options();
    o.issuer = "https://auth.example.com";
    const token_verifier v(o);
    const auto check = [&](std::string_view claims) {
        return error_of(v.verify(sign_hs("HS256", claims, "secret"), now));
    };
    EXPECT_EQ(check(R"({"iss":"https://auth.example.com"})"), std::nullopt);
    EXPECT_EQ(check(R"({"iss":"https://auth.example.com/"})"), verify_error::issuer_mismatch);
    EXPECT_EQ(check(R"({})"), verify_error::issuer_mismatch);
    EXPECT_EQ(check(R"({"iss":["https://auth.example.com"]})"), verify_error::malformed);
}

TEST(jwt, verify_issuer_regex) {
    token_options o = hmac_options();
    o.issuer_regex = R"(^https://auth\.example\.com/(?<realm>[a-z]+)$)";
    const token_verifier v(o);
    const auto check = [&](std::string_view claims) {
        return error_of(v.verify(sign_hs("HS256", claims, "secret"), now));
    };
    EXPECT_EQ(check(R"({"iss":"https://auth.example.com/main"})"), std::nullopt);
    EXPECT_EQ(check(R"({"iss":"https://auth.example.com/"})"), verify_error::issuer_mismatch);
    EXPECT_EQ(check(R"({"iss":"https://auth.example.com/main/x"})"), verify_error::issuer_mismatch);
    EXPECT_EQ(check(R"({})"), verify_error::issuer_mismatch);
}

// ---------------------------------------------------------------------------------------------
// Malformed tokens

TEST(jwt, verify_malformed_tokens) {
    const token_verifier v(hmac_options());
    const std::string good = sign_hs("HS256", claims_42, "secret");
    ASSERT_TRUE(v.verify(good, now));
    const std::string header = good.substr(0, good.find('.'));
    const std::string payload =
        good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
    for (const std::string& token : {std::string(),
                                     std::string("."),
                                     std::string(".."),
                                     header + "." + payload,    // two parts
                                     good + ".x",               // four parts
                                     "#" + good,                // bad base64 header
                                     header + ".%%%." + "c2ln", // bad base64 payload
                                     good + "=",                // padded signature
                                     raw_token("not json", claims_42, "s"),
                                     raw_token("[]", claims_42, "s")}) {
        EXPECT_EQ(error_of(v.verify(token, now)), verify_error::malformed) << token;
    }
}

TEST(jwt, verify_malformed_claims) {
    const token_verifier v(hmac_options());
    for (const std::string claims : {"",
                                     "not json",
                                     "[1,2]",
                                     "\"sub\"",
                                     "null",
                                     R"({"sub":1})",
                                     R"({"sub":"1"} trailing)",
                                     R"({"jti":5})"}) {
        EXPECT_EQ(error_of(v.verify(sign_hs("HS256", claims, "secret"), now)),
                  verify_error::malformed)
            << claims;
    }
    // Deep nesting within Go's limits is fine (Boost.JSON alone would stop at 32).
    const std::string deep = R"({"info":)" + std::string(100, '[') + std::string(100, ']') + "}";
    EXPECT_TRUE(v.verify(sign_hs("HS256", deep, "secret"), now));
}

// ---------------------------------------------------------------------------------------------
// User ID

TEST(jwt, verify_user_from_sub_by_default) {
    const token_verifier v(hmac_options());
    EXPECT_EQ(
        v.verify(sign_hs("HS256", R"({"sub":"u1","user_id":"u2"})", "secret"), now).value().user,
        "u1");
    EXPECT_EQ(v.verify(sign_hs("HS256", R"({"user_id":"u2"})", "secret"), now).value().user, "");
    EXPECT_EQ(v.verify(sign_hs("HS256", R"({"sub":null})", "secret"), now).value().user, "");
}

TEST(jwt, verify_user_id_claim) {
    token_options o = hmac_options();
    o.user_id_claim = "user_id";
    const token_verifier v(o);
    const auto user = [&](std::string_view claims) {
        const auto r = v.verify(sign_hs("HS256", claims, "secret"), now);
        return r ? r->user : "<" + std::string(to_string(r.error())) + ">";
    };
    EXPECT_EQ(user(R"({"sub":"u1","user_id":"u2"})"), "u2");
    EXPECT_EQ(user(R"({"sub":"u1"})"), "");
    EXPECT_EQ(user(R"({"user_id":42})"), "42"); // gjson's String() of a number
    EXPECT_EQ(user(R"({"user_id":-7})"), "-7");
    EXPECT_EQ(user(R"({"user_id":1.5})"), "1.5");
    EXPECT_EQ(user(R"({"user_id":true})"), "true");
    EXPECT_EQ(user(R"({"user_id":null})"), "");
}

TEST(jwt, verify_user_id_claim_path) {
    token_options nested = hmac_options();
    nested.user_id_claim = "profile.ids.1";
    EXPECT_EQ(token_verifier(nested)
                  .verify(sign_hs("HS256", R"({"profile":{"ids":["a","b"]}})", "secret"), now)
                  .value()
                  .user,
              "b");
    token_options escaped = hmac_options();
    escaped.user_id_claim = R"(https://example\.com/uid)";
    EXPECT_EQ(token_verifier(escaped)
                  .verify(sign_hs("HS256", R"({"https://example.com/uid":"u9"})", "secret"), now)
                  .value()
                  .user,
              "u9");
}

// ---------------------------------------------------------------------------------------------
// Configuration errors

TEST(jwt, invalid_pem_is_config_error) {
    token_options rsa;
    rsa.rsa_public_key = "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n";
    EXPECT_THROW(token_verifier{rsa}, config_error);
    EXPECT_TRUE(config_error_text(rsa).starts_with("client.token.rsa_public_key: "))
        << config_error_text(rsa);

    token_options ec;
    ec.ecdsa_public_key = "garbage";
    EXPECT_TRUE(config_error_text(ec, "client.subscription_token")
                    .starts_with("client.subscription_token.ecdsa_public_key: "))
        << config_error_text(ec, "client.subscription_token");

    // A private key is not a public key.
    EXPECT_TRUE(config_error_text(rsa_options(keys::rsa_private))
                    .starts_with("client.token.rsa_public_key: "));
    // And the control: the real public key loads.
    EXPECT_EQ(config_error_text(rsa_options()), "(no config_error)");
}

TEST(jwt, wrong_key_type_is_config_error) {
    EXPECT_TRUE(config_error_text(rsa_options(keys::ec_p256_public))
                    .starts_with("client.token.rsa_public_key: expected an RSA public key"))
        << config_error_text(rsa_options(keys::ec_p256_public));
    EXPECT_TRUE(config_error_text(ec_options(keys::rsa_public))
                    .starts_with("client.token.ecdsa_public_key: expected an EC public key"));
    EXPECT_TRUE(config_error_text(ec_options(keys::ec_secp256k1_public))
                    .starts_with("client.token.ecdsa_public_key: unsupported curve"))
        << config_error_text(ec_options(keys::ec_secp256k1_public));
}

TEST(jwt, invalid_regex_is_config_error) {
    token_options aud = hmac_options();
    aud.audience_regex = "(unclosed";
    EXPECT_TRUE(config_error_text(aud).starts_with("client.token.audience_regex: "))
        << config_error_text(aud);
    token_options iss = hmac_options();
    iss.issuer_regex = "a)(b";
    EXPECT_TRUE(config_error_text(iss).starts_with("client.token.issuer_regex: "))
        << config_error_text(iss);
    token_options backref = hmac_options();
    backref.issuer_regex = R"((a)\1)"; // RE2 has no back-references either
    EXPECT_TRUE(config_error_text(backref).starts_with("client.token.issuer_regex: "));
}

TEST(jwt, conflicting_or_unsupported_options_are_config_errors) {
    token_options aud = hmac_options();
    aud.audience = "a";
    aud.audience_regex = "a";
    EXPECT_NE(config_error_text(aud).find("client.token.audience_regex"), std::string::npos);
    token_options iss = hmac_options();
    iss.issuer = "a";
    iss.issuer_regex = "a";
    EXPECT_NE(config_error_text(iss).find("client.token.issuer_regex"), std::string::npos);
    token_options jwks = hmac_options();
    jwks.jwks_public_endpoint = "ftp://example.com/.well-known/jwks.json"; // needs http(s)
    EXPECT_TRUE(config_error_text(jwks).starts_with("client.token.jwks_public_endpoint: "));
}

// ---------------------------------------------------------------------------------------------
// Misc

TEST(jwt, skip_signature_verify_still_checks_claims) {
    const token_verifier v(token_options{}, true);
    const auto r = v.verify(raw_token(R"({"alg":"none"})", R"({"sub":"9"})", ""), now);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->user, "9");
    EXPECT_EQ(r->alg, "none");
    EXPECT_TRUE(v.verify(sign_hs("HS256", R"({"sub":"9"})", "anything"), now));
    EXPECT_EQ(error_of(v.verify(sign_hs("HS256", R"({"exp":1})", "anything"), now)),
              verify_error::expired);
    EXPECT_EQ(error_of(v.verify(raw_token(R"({"alg":"none"})", "[]", ""), now)),
              verify_error::malformed);
    // And without the flag the same token is refused.
    EXPECT_EQ(error_of(token_verifier(token_options{})
                           .verify(raw_token(R"({"alg":"none"})", R"({"sub":"9"})", ""), now)),
              verify_error::unsupported_algorithm);
}

TEST(jwt, verify_error_texts) {
    EXPECT_EQ(to_string(verify_error::malformed), "malformed token");
    EXPECT_EQ(to_string(verify_error::unsupported_algorithm), "unsupported algorithm");
    EXPECT_EQ(to_string(verify_error::invalid_signature), "invalid signature");
    EXPECT_EQ(to_string(verify_error::expired), "token expired");
    EXPECT_EQ(to_string(verify_error::not_yet_valid), "token not valid yet");
    EXPECT_EQ(to_string(verify_error::audience_mismatch), "invalid audience");
    EXPECT_EQ(to_string(verify_error::issuer_mismatch), "invalid issuer");
    EXPECT_EQ(to_string(verify_error::no_key), "no key for token algorithm");
}

TEST(jwt, result_value_throws_with_error_text) {
    const auto r = token_verifier(hmac_options()).verify("x.y", now);
    try {
        (void)r.value();
        FAIL() << "value() did not throw";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "malformed token");
    }
}

TEST(jwt, verify_is_safe_from_several_threads) {
    token_options o = hmac_options();
    o.rsa_public_key = std::string(keys::rsa_public);
    o.ecdsa_public_key = std::string(keys::ec_p256_public);
    const token_verifier v(o);
    const std::vector<std::string> tokens = {sign_hs("HS256", claims_42, "secret"),
                                             sign_rs("RS256", claims_42, keys::rsa_private),
                                             sign_es("ES256", claims_42, keys::ec_p256_private)};
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int& failed : failures) {
        threads.emplace_back([&v, &tokens, slot = &failed] {
            for (int i = 0; i < 50; ++i) {
                for (const auto& token : tokens) {
                    *slot += v.verify(token, now) ? 0 : 1;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    for (const int f : failures) {
        EXPECT_EQ(f, 0);
    }
}

} // namespace
} // namespace gyre::auth
