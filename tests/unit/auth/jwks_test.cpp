#include "auth/jwks.hpp"
#include "auth/jwt.hpp"
#include "auth/token_verifier.hpp"
#include "config/error.hpp"
#include "core/base64.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gyre::auth {
namespace {

using config::config_error;
using config::token_options;

constexpr std::int64_t now = 1'700'000'000;
const std::string claims_42 = R"({"sub":"42","exp":1700000600})";
const std::string endpoint = "https://auth.example.com/.well-known/jwks.json";

// ---------------------------------------------------------------------------------------------
// Keys made by OpenSSL at run time, exported as JWKs, and token minting (independent of the
// code under test but for base64).

struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

struct bn_free {
    void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};

struct ecdsa_sig_free {
    void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

pkey_ptr generate(const char* type, const char* curve = nullptr) {
    EVP_PKEY* key = nullptr;
    if (std::string_view(type) == "RSA") {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
    } else if (curve != nullptr) {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
    } else {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    }
    if (key == nullptr) {
        throw std::runtime_error(std::string("test setup: cannot generate ") + type);
    }
    return pkey_ptr(key);
}

/// Generated once: RSA key generation is slow under the sanitizers.
struct test_keys {
    pkey_ptr rsa = generate("RSA");
    pkey_ptr rsa_other = generate("RSA");
    pkey_ptr p256 = generate("EC", "P-256");
    pkey_ptr p384 = generate("EC", "P-384");
    pkey_ptr ed25519 = generate("ED25519");
};

const test_keys& keys() {
    static const test_keys k;
    return k;
}

std::string bn_param(EVP_PKEY* key, const char* name, int pad = 0) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
        throw std::runtime_error(std::string("test setup: no parameter ") + name);
    }
    const std::unique_ptr<BIGNUM, bn_free> bn(raw);
    const int size = pad > 0 ? pad : BN_num_bytes(bn.get());
    std::string out(static_cast<std::size_t>(size), '\0');
    BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size);
    return out;
}

std::string b64(std::string_view bytes) {
    return base64::encode_url(bytes);
}

std::string rsa_jwk(std::string_view kid, EVP_PKEY* key, std::string_view extra = "") {
    return R"({"kty":"RSA","use":"sig","kid":")" + std::string(kid) + R"(","n":")" +
           b64(bn_param(key, OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
           b64(bn_param(key, OSSL_PKEY_PARAM_RSA_E)) + "\"" + std::string(extra) + "}";
}

std::string ec_jwk(std::string_view kid,
                   EVP_PKEY* key,
                   std::string_view crv,
                   int size,
                   std::string_view extra = "") {
    return R"({"kty":"EC","use":"sig","kid":")" + std::string(kid) + R"(","crv":")" +
           std::string(crv) + R"(","x":")" + b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size)) +
           R"(","y":")" + b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size)) + "\"" +
           std::string(extra) + "}";
}

std::string ed25519_jwk(std::string_view kid, EVP_PKEY* key, std::string_view extra = "") {
    std::string x(32, '\0');
    std::size_t len = x.size();
    if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(x.data()), &len) != 1) {
        throw std::runtime_error("test setup: no Ed25519 public key");
    }
    return R"({"kty":"OKP","use":"sig","crv":"Ed25519","kid":")" + std::string(kid) + R"(","x":")" +
           b64(x) + "\"" + std::string(extra) + "}";
}

std::string jwks_of(const std::vector<std::string>& keys) {
    std::string out = R"({"keys":[)";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        out += (i == 0 ? "" : ",") + keys[i];
    }
    return out + "]}";
}

/// The standard set: RSA "rsa1", P-256 "ec1", P-384 "ec2", Ed25519 "ed1".
std::string standard_jwks() {
    const auto& k = keys();
    return jwks_of({rsa_jwk("rsa1", k.rsa.get()),
                    ec_jwk("ec1", k.p256.get(), "P-256", 32),
                    ec_jwk("ec2", k.p384.get(), "P-384", 48),
                    ed25519_jwk("ed1", k.ed25519.get())});
}

jwk_set parsed(const std::string& json) {
    auto r = jwk_set::parse(json);
    if (!r) {
        throw std::runtime_error("test setup: " + r.error());
    }
    return std::move(*r);
}

const EVP_MD* digest_for(std::string_view alg) {
    if (alg == "EdDSA") {
        return nullptr;
    }
    if (alg.ends_with("256")) {
        return EVP_sha256();
    }
    if (alg.ends_with("384")) {
        return EVP_sha384();
    }
    return EVP_sha512();
}

/// A signed token; `header` is the JSON header, the signature is JWS-shaped for the key type.
std::string
sign_token(EVP_PKEY* key, std::string_view alg, std::string_view header, std::string_view claims) {
    const std::string input = b64(header) + "." + b64(claims);
    const std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(alg), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
        throw std::runtime_error("test setup: cannot sign");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(
            ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size()) !=
        1) {
        throw std::runtime_error("test setup: cannot sign");
    }
    sig.resize(len);
    if (alg.starts_with("ES")) {
        const std::size_t size = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        const std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> ecdsa(
            d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
        const BIGNUM* r = nullptr;
        const BIGNUM* s = nullptr;
        ECDSA_SIG_get0(ecdsa.get(), &r, &s);
        std::string raw(2 * size, '\0');
        auto* out = reinterpret_cast<unsigned char*>(raw.data());
        BN_bn2binpad(r, out, static_cast<int>(size));
        BN_bn2binpad(s, out + size, static_cast<int>(size));
        sig = raw;
    }
    return input + "." + b64(sig);
}

std::string sign_kid(EVP_PKEY* key,
                     std::string_view alg,
                     std::string_view kid,
                     std::string_view claims = claims_42) {
    return sign_token(key,
                      alg,
                      R"({"alg":")" + std::string(alg) + R"(","kid":")" + std::string(kid) +
                          R"(","typ":"JWT"})",
                      claims);
}

token_options jwks_options(std::string url = endpoint) {
    token_options o;
    o.jwks_public_endpoint = std::move(url);
    return o;
}

/// "ok", or the error's text: readable in failure output.
std::string outcome(const boost::system::result<verified_token, verify_error>& r) {
    return r ? std::string("ok") : std::string(to_string(r.error()));
}

std::string text(verify_error e) {
    return std::string(to_string(e));
}

std::string config_error_text(const token_options& o, jwks_settings s = {}) {
    try {
        const token_verifier v(o, false, "client.token", std::move(s));
        (void)v;
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no config_error)";
}

/// A clock the test moves by hand.
struct fake_clock {
    std::shared_ptr<std::atomic<std::int64_t>> seconds =
        std::make_shared<std::atomic<std::int64_t>>(1000);

    std::function<jwks_cache::clock::time_point()> fn() const {
        return [s = seconds] {
            return jwks_cache::clock::time_point(std::chrono::seconds(*s));
        };
    }

    void advance(std::chrono::seconds d) const { *seconds += d.count(); }
};

// ---------------------------------------------------------------------------------------------
// jwk_set

TEST(jwks, parses_rsa_ec_and_ed25519_keys) {
    const auto set = parsed(standard_jwks());
    ASSERT_EQ(set.size(), 4U);
    ASSERT_NE(set.find("rsa1"), nullptr);
    EXPECT_EQ(set.find("rsa1")->type, jwk_type::rsa);
    EXPECT_EQ(set.find("rsa1")->alg, "");
    EXPECT_TRUE(set.find("rsa1")->accepts("RS256"));
    EXPECT_TRUE(set.find("rsa1")->accepts("RS512"));
    EXPECT_FALSE(set.find("rsa1")->accepts("PS256"));
    EXPECT_FALSE(set.find("rsa1")->accepts("ES256"));
    ASSERT_NE(set.find("ec1"), nullptr);
    EXPECT_EQ(set.find("ec1")->type, jwk_type::ec);
    EXPECT_EQ(set.find("ec1")->alg, "ES256");
    EXPECT_FALSE(set.find("ec1")->accepts("ES384"));
    EXPECT_EQ(set.find("ec2")->alg, "ES384");
    ASSERT_NE(set.find("ed1"), nullptr);
    EXPECT_EQ(set.find("ed1")->type, jwk_type::okp);
    EXPECT_TRUE(set.find("ed1")->accepts("EdDSA"));
    EXPECT_FALSE(set.find("ed1")->accepts("ES256"));
    EXPECT_EQ(set.find("nope"), nullptr);
    EXPECT_EQ(EVP_PKEY_is_a(set.find("rsa1")->key.get(), "RSA"), 1);
    EXPECT_EQ(EVP_PKEY_is_a(set.find("ed1")->key.get(), "ED25519"), 1);
}

TEST(jwks, rejects_malformed_documents) {
    for (const std::string doc : {"",
                                  "not json",
                                  "[]",
                                  "{}",
                                  R"({"keys":null})",
                                  R"({"keys":{}})",
                                  R"({"keys":[1]})",
                                  R"({"keys":["x"]})",
                                  R"({"keys":[]} trailing)"}) {
        EXPECT_FALSE(jwk_set::parse(doc)) << doc;
    }
    const auto empty = jwk_set::parse(R"({"keys":[]})");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(jwks, skips_unusable_keys) {
    const auto& k = keys();
    const std::string good = rsa_jwk("good", k.rsa.get());
    std::string rsa_no_use = rsa_jwk("no-use", k.rsa.get());
    rsa_no_use.replace(rsa_no_use.find(R"("use":"sig",)"), 12, "");
    std::string rsa_enc = rsa_jwk("enc", k.rsa.get());
    rsa_enc.replace(rsa_enc.find(R"("use":"sig")"), 11, R"("use":"enc")");
    std::string rsa_padded = rsa_jwk("padded", k.rsa.get());
    rsa_padded.replace(rsa_padded.find(R"(","e":")"), 1, "=\""); // n ends in '='
    std::string p256_as_p384 = ec_jwk("wrong-crv", k.p256.get(), "P-384", 32);
    std::string ed_as_x25519 = ed25519_jwk("x25519", k.ed25519.get());
    ed_as_x25519.replace(ed_as_x25519.find("Ed25519"), 7, "X25519");
    // 512-bit odd modulus: Go refuses RSA keys under 1024 bits.
    const std::string small_n = b64("\xC1" + std::string(62, '\x5A') + "\x01");
    const std::string off_curve = b64(std::string(32, '\x01'));
    const std::string y_off = b64(std::string(32, '\x02'));
    const std::vector<std::string> bad = {
        R"({"kty":"oct","use":"sig","kid":"oct","k":"c2VjcmV0"})",
        R"({"kty":"EC","use":"sig","kid":"k1","crv":"secp256k1","x":")" + off_curve + R"(","y":")" +
            y_off + R"("})",
        R"({"kty":"EC","use":"sig","kid":"off","crv":"P-256","x":")" + off_curve + R"(","y":")" +
            y_off + R"("})",
        R"({"kty":"RSA","use":"sig","kid":"small","n":")" + small_n + R"(","e":"AQAB"})",
        R"({"kty":"RSA","use":"sig","kid":"even-e","n":")" +
            b64(bn_param(k.rsa.get(), OSSL_PKEY_PARAM_RSA_N)) + R"(","e":"AQAA"})",
        R"({"kty":"RSA","use":"sig","kid":"no-e","n":")" +
            b64(bn_param(k.rsa.get(), OSSL_PKEY_PARAM_RSA_N)) + R"("})",
        R"({"kty":"Unknown","use":"sig","kid":"unknown"})",
        R"({"use":"sig","kid":"no-kty"})",
        R"({"kty":"RSA","use":"sig","kid":7})",
        rsa_jwk("", k.rsa.get()),
        rsa_no_use,
        rsa_enc,
        rsa_padded,
        rsa_jwk("private", k.rsa.get(), R"(,"d":"AQAB")"),
        rsa_jwk("ps256", k.rsa.get(), R"(,"alg":"PS256")"),
        p256_as_p384,
        ec_jwk("alg-mismatch", k.p256.get(), "P-256", 32, R"(,"alg":"ES384")"),
        ed_as_x25519,
        R"({"kty":"OKP","use":"sig","crv":"Ed25519","kid":"short","x":"AAAA"})",
    };
    std::vector<std::string> all = bad;
    all.push_back(good);
    const auto set = parsed(jwks_of(all));
    ASSERT_EQ(set.size(), 1U);
    EXPECT_NE(set.find("good"), nullptr);
}

TEST(jwks, last_key_with_a_kid_wins) {
    const auto& k = keys();
    const auto set = parsed(jwks_of(
        {rsa_jwk("same", k.rsa_other.get()), rsa_jwk("same", k.rsa.get(), R"(,"alg":"RS384")")}));
    ASSERT_EQ(set.size(), 1U);
    EXPECT_EQ(set.find("same")->alg, "RS384");
}

// ---------------------------------------------------------------------------------------------
// jwks_cache

TEST(jwks, cache_hit_miss_and_expiry_after_last_use) {
    fake_clock clock;
    jwks_cache cache({jwks_cache::default_ttl, std::chrono::seconds(1), clock.fn()});
    EXPECT_EQ(jwks_cache::default_ttl, std::chrono::hours(1)); // Centrifugo's _defaultTTL
    EXPECT_EQ(cache.lookup(endpoint, "rsa1").status, jwks_cache::lookup_status::miss);
    cache.store(endpoint, parsed(standard_jwks()));
    EXPECT_EQ(cache.size(), 4U);
    const auto hit = cache.lookup(endpoint, "rsa1");
    ASSERT_EQ(hit.status, jwks_cache::lookup_status::hit);
    EXPECT_EQ(hit.key->kid, "rsa1");
    // Scoped by URL: another tenant's endpoint knows nothing.
    EXPECT_EQ(cache.lookup("https://other.example.com/jwks", "rsa1").status,
              jwks_cache::lookup_status::miss);

    // A hit keeps the key an hour longer (Centrifugo's TTLCache touches on Get)...
    clock.advance(std::chrono::minutes(59));
    EXPECT_EQ(cache.lookup(endpoint, "rsa1").status, jwks_cache::lookup_status::hit);
    clock.advance(std::chrono::minutes(59));
    EXPECT_EQ(cache.lookup(endpoint, "rsa1").status, jwks_cache::lookup_status::hit);
    // ...while unused keys expire an hour after the store: a new fetch is needed.
    EXPECT_EQ(cache.lookup(endpoint, "ec1").status, jwks_cache::lookup_status::miss);
    clock.advance(std::chrono::minutes(61));
    EXPECT_EQ(cache.lookup(endpoint, "rsa1").status, jwks_cache::lookup_status::miss);
    // The next store sweeps what expired.
    cache.store("https://other.example.com/jwks", parsed(R"({"keys":[]})"));
    EXPECT_EQ(cache.size(), 0U);
}

TEST(jwks, cache_unknown_kid_refetches_only_after_the_interval) {
    fake_clock clock;
    jwks_cache cache({std::chrono::hours(1), std::chrono::seconds(5), clock.fn()});
    cache.store(endpoint, parsed(standard_jwks()));
    EXPECT_EQ(cache.lookup(endpoint, "rotated").status, jwks_cache::lookup_status::unknown_kid);
    clock.advance(std::chrono::seconds(4));
    EXPECT_EQ(cache.lookup(endpoint, "rotated").status, jwks_cache::lookup_status::unknown_kid);
    clock.advance(std::chrono::seconds(1));
    EXPECT_EQ(cache.lookup(endpoint, "rotated").status, jwks_cache::lookup_status::miss);
    // The new document adds the rotated key and keeps the old ones.
    cache.store(endpoint, parsed(jwks_of({rsa_jwk("rotated", keys().rsa_other.get())})));
    EXPECT_EQ(cache.lookup(endpoint, "rotated").status, jwks_cache::lookup_status::hit);
    EXPECT_EQ(cache.lookup(endpoint, "rsa1").status, jwks_cache::lookup_status::hit);
}

TEST(jwks, cache_coalesces_fetches_of_one_url) {
    jwks_cache cache;
    std::vector<std::string> calls;
    auto record = [&calls](std::string who) {
        return [&calls, who = std::move(who)](bool stored) {
            calls.push_back(who + (stored ? ":stored" : ":failed"));
        };
    };
    EXPECT_TRUE(cache.begin_fetch(endpoint, record("a")));
    EXPECT_FALSE(cache.begin_fetch(endpoint, record("b")));
    EXPECT_TRUE(cache.begin_fetch("https://other.example.com/jwks", record("c")));
    cache.store(endpoint, parsed(standard_jwks()));
    EXPECT_EQ(calls, (std::vector<std::string>{"a:stored", "b:stored"}));
    cache.fetch_failed("https://other.example.com/jwks");
    EXPECT_EQ(calls.back(), "c:failed");
    // Both fetches ended, so the next asker fetches again.
    EXPECT_TRUE(cache.begin_fetch(endpoint, record("d")));
    cache.fetch_failed(endpoint);
    EXPECT_EQ(calls.back(), "d:failed");
    EXPECT_EQ(calls.size(), 4U);
    cache.fetch_failed("https://never.example.com/jwks"); // nothing to finish: no effect
}

// ---------------------------------------------------------------------------------------------
// token_verifier in JWKS mode

TEST(jwks, verify_by_kid_after_store) {
    const token_verifier v(jwks_options());
    ASSERT_TRUE(v.uses_jwks());
    ASSERT_NE(v.jwks(), nullptr);
    const auto& k = keys();

    struct token_case {
        std::string alg;
        std::string kid;
        EVP_PKEY* key;
    };

    const std::vector<token_case> cases = {{"RS256", "rsa1", k.rsa.get()},
                                           {"RS384", "rsa1", k.rsa.get()},
                                           {"RS512", "rsa1", k.rsa.get()},
                                           {"ES256", "ec1", k.p256.get()},
                                           {"ES384", "ec2", k.p384.get()},
                                           {"EdDSA", "ed1", k.ed25519.get()}};
    for (const auto& c : cases) {
        EXPECT_EQ(outcome(v.verify(sign_kid(c.key, c.alg, c.kid), now)),
                  text(verify_error::key_unavailable))
            << c.alg;
    }
    v.jwks()->store(endpoint, parsed(standard_jwks()));
    for (const auto& c : cases) {
        const auto r = v.verify(sign_kid(c.key, c.alg, c.kid), now);
        ASSERT_EQ(outcome(r), "ok") << c.alg;
        EXPECT_EQ(r->alg, c.alg);
        EXPECT_EQ(r->user, "42");
        EXPECT_EQ(r->exp, 1'700'000'600);
        // Claims are still checked after the signature.
        EXPECT_EQ(outcome(v.verify(sign_kid(c.key, c.alg, c.kid), 1'700'000'600)),
                  text(verify_error::expired))
            << c.alg;
    }
}

TEST(jwks, wrong_key_or_tampering_is_invalid_signature) {
    const token_verifier v(jwks_options());
    v.jwks()->store(endpoint, parsed(standard_jwks()));
    const auto& k = keys();
    EXPECT_EQ(outcome(v.verify(sign_kid(k.rsa_other.get(), "RS256", "rsa1"), now)),
              text(verify_error::invalid_signature));
    const auto other_ed = generate("ED25519");
    EXPECT_EQ(outcome(v.verify(sign_kid(other_ed.get(), "EdDSA", "ed1"), now)),
              text(verify_error::invalid_signature));
    for (const std::string& token : {sign_kid(k.ed25519.get(), "EdDSA", "ed1"),
                                     sign_kid(k.p256.get(), "ES256", "ec1"),
                                     sign_kid(k.rsa.get(), "RS256", "rsa1")}) {
        const auto dot1 = token.find('.');
        const auto dot2 = token.rfind('.');
        const std::string edited =
            token.substr(0, dot1 + 1) + b64(R"({"sub":"admin"})") + token.substr(dot2);
        EXPECT_EQ(outcome(v.verify(edited, now)), text(verify_error::invalid_signature));
        EXPECT_EQ(outcome(v.verify(token.substr(0, dot2 + 1) + b64("short"), now)),
                  text(verify_error::invalid_signature));
    }
}

TEST(jwks, kid_and_algorithm_rules) {
    token_options o = jwks_options();
    o.hmac_secret_key = "secret"; // ignored in JWKS mode, as in Centrifugo
    const token_verifier v(o);
    const auto& k = keys();
    v.jwks()->store(endpoint,
                    parsed(jwks_of({rsa_jwk("rs256-only", k.rsa.get(), R"(,"alg":"RS256")"),
                                    rsa_jwk("rsa1", k.rsa.get()),
                                    ec_jwk("ec1", k.p256.get(), "P-256", 32)})));
    EXPECT_EQ(outcome(v.verify(sign_kid(k.rsa.get(), "RS256", "rs256-only"), now)), "ok");
    EXPECT_EQ(outcome(v.verify(sign_kid(k.rsa.get(), "RS384", "rs256-only"), now)),
              text(verify_error::no_key));
    EXPECT_EQ(outcome(v.verify(sign_kid(k.p256.get(), "ES256", "rsa1"), now)),
              text(verify_error::no_key));
    EXPECT_EQ(outcome(v.verify(sign_kid(k.rsa.get(), "RS256", "ec1"), now)),
              text(verify_error::no_key));
    EXPECT_EQ(outcome(v.verify(sign_kid(k.ed25519.get(), "EdDSA", "rsa1"), now)),
              text(verify_error::no_key));
    // HMAC and unknown algorithms never reach the cache.
    EXPECT_EQ(outcome(v.verify(sign_hs("HS256", claims_42, "secret"), now)),
              text(verify_error::unsupported_algorithm));
    EXPECT_EQ(
        outcome(v.verify(
            sign_token(k.rsa.get(), "RS256", R"({"alg":"PS256","kid":"rsa1"})", claims_42), now)),
        text(verify_error::unsupported_algorithm));
    // No kid: refused without a fetch; a kid that is not a string: malformed.
    EXPECT_EQ(
        outcome(v.verify(sign_token(k.rsa.get(), "RS256", R"({"alg":"RS256"})", claims_42), now)),
        text(verify_error::no_key));
    EXPECT_EQ(outcome(v.verify(
                  sign_token(k.rsa.get(), "RS256", R"({"alg":"RS256","kid":""})", claims_42), now)),
              text(verify_error::no_key));
    EXPECT_EQ(outcome(v.verify(
                  sign_token(k.rsa.get(), "RS256", R"({"alg":"RS256","kid":1})", claims_42), now)),
              text(verify_error::malformed));
}

TEST(jwks, unknown_kid_is_refused_until_a_refetch_is_due) {
    fake_clock clock;
    jwks_settings s;
    s.cache = std::make_shared<jwks_cache>(
        jwks_cache::options{std::chrono::hours(1), std::chrono::seconds(1), clock.fn()});
    const token_verifier v(jwks_options(), false, "client.token", s);
    EXPECT_EQ(v.jwks(), s.cache);
    const auto& k = keys();
    const std::string token = sign_kid(k.rsa_other.get(), "RS256", "new");
    EXPECT_EQ(outcome(v.verify(token, now)), text(verify_error::key_unavailable));
    v.jwks()->store(endpoint, parsed(standard_jwks()));
    // Just fetched and the kid is not there: a verdict, not another fetch.
    EXPECT_EQ(outcome(v.verify(token, now)), text(verify_error::no_key));
    clock.advance(std::chrono::seconds(2));
    EXPECT_EQ(outcome(v.verify(token, now)), text(verify_error::key_unavailable));
    v.jwks()->store(endpoint, parsed(jwks_of({rsa_jwk("new", k.rsa_other.get())})));
    EXPECT_EQ(outcome(v.verify(token, now)), "ok");
}

TEST(jwks, expired_cache_entry_needs_a_new_fetch) {
    fake_clock clock;
    jwks_settings s;
    s.cache = std::make_shared<jwks_cache>(
        jwks_cache::options{std::chrono::hours(1), std::chrono::seconds(1), clock.fn()});
    const token_verifier v(jwks_options(), false, "client.token", s);
    v.jwks()->store(endpoint, parsed(standard_jwks()));
    const std::string token = sign_kid(keys().p256.get(), "ES256", "ec1");
    EXPECT_EQ(outcome(v.verify(token, now)), "ok");
    clock.advance(std::chrono::hours(1) + std::chrono::seconds(1));
    EXPECT_EQ(outcome(v.verify(token, now)), text(verify_error::key_unavailable));
    const auto url = v.jwks_url_for(token);
    ASSERT_TRUE(url);
    EXPECT_EQ(*url, endpoint);
    v.jwks()->store(*url, parsed(standard_jwks()));
    EXPECT_EQ(outcome(v.verify(token, now)), "ok");
}

TEST(jwks, fetch_and_retry_as_a_session_would) {
    const token_verifier v(jwks_options());
    const std::string token = sign_kid(keys().ed25519.get(), "EdDSA", "ed1");
    auto r = v.verify(token, now);
    ASSERT_EQ(outcome(r), text(verify_error::key_unavailable));
    const auto url = v.jwks_url_for(token);
    ASSERT_TRUE(url);
    bool retried = false;
    const bool must_fetch = v.jwks()->begin_fetch(*url, [&](bool stored) {
        ASSERT_TRUE(stored);
        r = v.verify(token, now);
        retried = true;
    });
    ASSERT_TRUE(must_fetch);
    const std::string body = standard_jwks(); // what the HTTP GET returned
    const auto set = jwk_set::parse(body);
    ASSERT_TRUE(set);
    v.jwks()->store(*url, *set);
    EXPECT_TRUE(retried);
    EXPECT_EQ(outcome(r), "ok");
}

TEST(jwks, skip_signature_verify_needs_no_keys) {
    const token_verifier v(jwks_options(), true);
    EXPECT_EQ(outcome(v.verify(sign_kid(keys().rsa.get(), "RS256", "whatever"), now)), "ok");
}

TEST(jwks, static_mode_is_unchanged) {
    token_options o;
    o.hmac_secret_key = "secret";
    const token_verifier v(o);
    EXPECT_FALSE(v.uses_jwks());
    EXPECT_EQ(v.jwks(), nullptr);
    EXPECT_EQ(outcome(v.verify(sign_hs("HS256", claims_42, "secret"), now)), "ok");
    EXPECT_FALSE(v.jwks_url_for(sign_hs("HS256", claims_42, "secret")));
    EXPECT_EQ(outcome(v.verify(sign_kid(keys().ed25519.get(), "EdDSA", "ed1"), now)),
              text(verify_error::unsupported_algorithm));
}

// ---------------------------------------------------------------------------------------------
// Templated endpoints

const std::string realm_endpoint = "https://keycloak.example.com/realms/{{realm}}/certs";

TEST(jwks, endpoint_template_from_issuer_regex) {
    token_options o = jwks_options(realm_endpoint);
    o.issuer_regex = R"(^https://auth\.example\.com/(?P<realm>acme|globex)$)";
    const token_verifier v(o);
    const auto& k = keys();
    const std::string acme = sign_kid(
        k.rsa.get(), "RS256", "rsa1", R"({"sub":"1","iss":"https://auth.example.com/acme"})");
    const std::string globex = sign_kid(
        k.rsa.get(), "RS256", "rsa1", R"({"sub":"2","iss":"https://auth.example.com/globex"})");
    const std::string stranger = sign_kid(
        k.rsa.get(), "RS256", "rsa1", R"({"sub":"3","iss":"https://auth.example.com/evil"})");
    EXPECT_EQ(*v.jwks_url_for(acme), "https://keycloak.example.com/realms/acme/certs");
    EXPECT_EQ(*v.jwks_url_for(globex), "https://keycloak.example.com/realms/globex/certs");
    EXPECT_EQ(v.jwks_url_for(stranger).error(), verify_error::issuer_mismatch);
    EXPECT_EQ(outcome(v.verify(stranger, now)), text(verify_error::issuer_mismatch));

    v.jwks()->store("https://keycloak.example.com/realms/acme/certs", parsed(standard_jwks()));
    EXPECT_EQ(outcome(v.verify(acme, now)), "ok");
    // The same kid under another realm's URL is not trusted from acme's document.
    EXPECT_EQ(outcome(v.verify(globex, now)), text(verify_error::key_unavailable));
}

TEST(jwks, endpoint_template_from_audience_regex_wins_and_unknown_names_are_empty) {
    token_options o = jwks_options("https://{{tenant}}.example.com/{{region}}{{missing}}/jwks");
    o.issuer_regex = "(?P<tenant>one|two)";
    o.audience_regex = R"((?<region>eu|us)-(?P<tenant>two|three))";
    const token_verifier v(o);
    const std::string token =
        sign_kid(keys().rsa.get(),
                 "RS256",
                 "rsa1",
                 R"({"sub":"1","iss":"one","aud":["nothing","us-three","eu-two"]})");
    const auto url = v.jwks_url_for(token);
    ASSERT_TRUE(url) << to_string(url.error());
    EXPECT_EQ(*url, "https://three.example.com/us/jwks");
    EXPECT_EQ(
        v.jwks_url_for(
             sign_kid(keys().rsa.get(), "RS256", "rsa1", R"({"sub":"1","iss":"one","aud":"none"})"))
            .error(),
        verify_error::audience_mismatch);
}

TEST(jwks, template_groups_follow_go_leftmost_first_matching) {
    token_options o = jwks_options("https://example.com/{{a}}/{{b}}/jwks");
    o.issuer_regex = "(?P<a>x|xy)(?P<b>y|z)?";
    const token_verifier v(o);
    const std::string token = sign_kid(keys().rsa.get(), "RS256", "rsa1", R"({"iss":"__xyz__xz"})");
    // Go: leftmost match at "xy", first alternative "x", then "y".
    EXPECT_EQ(*v.jwks_url_for(token), "https://example.com/x/y/jwks");
}

TEST(jwks, expanded_url_with_dot_segments_is_refused) {
    token_options o = jwks_options("https://example.com/tenants/{{tenant}}/jwks.json");
    o.issuer_regex = "^(?P<tenant>.*)$";
    const token_verifier v(o, false, "client.token", jwks_settings{nullptr, true});
    const auto& k = keys();
    for (const std::string iss : {"..", "../../etc", ".", "a/", "a%2F..%2Fb", "a b", "%zz"}) {
        const std::string token =
            sign_kid(k.rsa.get(), "RS256", "rsa1", R"({"iss":")" + iss + R"("})");
        EXPECT_EQ(v.jwks_url_for(token).error(), verify_error::no_key) << iss;
        EXPECT_EQ(outcome(v.verify(token, now)), text(verify_error::no_key)) << iss;
    }
    const std::string ok = sign_kid(k.rsa.get(), "RS256", "rsa1", R"({"iss":"acme"})");
    EXPECT_EQ(*v.jwks_url_for(ok), "https://example.com/tenants/acme/jwks.json");
}

TEST(jwks, endpoint_safety_check) {
    auto with = [](std::string url, std::string issuer_regex, std::string audience_regex = "") {
        token_options o = jwks_options(std::move(url));
        o.issuer_regex = std::move(issuer_regex);
        o.audience_regex = std::move(audience_regex);
        return o;
    };
    const std::string ok = "(no config_error)";
    // Explicit lists of literals are fine, wherever the placeholder is.
    EXPECT_EQ(config_error_text(with(realm_endpoint, "(?P<realm>acme|globex)")), ok);
    EXPECT_EQ(config_error_text(with("https://{{host}}/jwks", R"((?P<host>a\.example\.com))")), ok);
    EXPECT_EQ(config_error_text(with(realm_endpoint, "(?P<realm>test1|test2|(?:a|b)c|)")), ok);
    EXPECT_EQ(config_error_text(with(realm_endpoint, R"(^https://x\.com/(?P<realm>a|b)$)")), ok);
    // A permissive group nobody uses is fine too, and so is no regex at all.
    EXPECT_EQ(config_error_text(with(realm_endpoint, "(?P<realm>a|b)(?P<rest>.*)")), ok);
    EXPECT_EQ(config_error_text(with(realm_endpoint, "")), ok);
    EXPECT_EQ(config_error_text(with(endpoint, "(?P<realm>.*)")), ok);

    for (const std::string bad : {"(?P<realm>.+)",
                                  "(?P<realm>acme|.*)",
                                  "(?P<realm>acme?)",
                                  "(?P<realm>a{3})",
                                  "(?P<realm>a|b)[0-9]",
                                  R"((?P<realm>\w+))",
                                  R"((?P<realm>a\b))",
                                  "(?P<realm>(?=a)a)"}) {
        const auto error = config_error_text(with(realm_endpoint, bad));
        EXPECT_TRUE(error.starts_with("client.token.issuer_regex: ")) << bad << " -> " << error;
    }
    EXPECT_TRUE(config_error_text(with(realm_endpoint, "", "(?<realm>[a-z]+)"))
                    .starts_with("client.token.audience_regex: "));
    // The escape hatch (client.token.insecure_skip_jwks_endpoint_safety_check).
    EXPECT_EQ(config_error_text(with(realm_endpoint, "(?P<realm>.+)"), {nullptr, true}), ok);
}

TEST(jwks, endpoint_config_errors) {
    for (const std::string url : {"ftp://example.com/jwks",
                                  "example.com/jwks",
                                  "https://example.com/{{realm/jwks",
                                  "https://example.com/jwks/",
                                  "https://example.com/a/../jwks",
                                  "https://example.com/a b"}) {
        EXPECT_TRUE(
            config_error_text(jwks_options(url)).starts_with("client.token.jwks_public_endpoint: "))
            << url << " -> " << config_error_text(jwks_options(url));
    }
    EXPECT_EQ(config_error_text(jwks_options("HTTP://EXAMPLE.com:8080/jwks?x=1")),
              "(no config_error)");
    EXPECT_EQ(config_error_text(jwks_options("http://localhost:8080")), "(no config_error)");
}

TEST(jwks, concurrent_verify_and_store) {
    const token_verifier v(jwks_options());
    const auto set = parsed(standard_jwks());
    const auto& k = keys();
    const std::vector<std::string> tokens = {sign_kid(k.rsa.get(), "RS256", "rsa1"),
                                             sign_kid(k.p256.get(), "ES256", "ec1"),
                                             sign_kid(k.ed25519.get(), "EdDSA", "ed1")};
    v.jwks()->store(endpoint, set);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                if (t == 0 && i % 10 == 0) {
                    v.jwks()->store(endpoint, set);
                }
                const auto& token = tokens[static_cast<std::size_t>(i + t) % tokens.size()];
                if (!v.verify(token, now)) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
}

} // namespace
} // namespace gyre::auth
