#include "auth/jwks.hpp"

#include "auth/detail/openssl.hpp"
#include "core/base64.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <utility>

namespace gyre::auth {
namespace {

namespace json = boost::json;

using detail::bn_free;
using detail::param_bld_free;
using detail::param_free;
using detail::pkey_ctx_free;

using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* key) {
    return key == nullptr ? nullptr : std::shared_ptr<EVP_PKEY>(key, &EVP_PKEY_free);
}

const auto* as_bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

/// A string member: absent or null reads as "", another type makes the key unusable.
bool string_member(const json::object& o, std::string_view name, std::string_view& out) {
    out = {};
    const auto* v = o.if_contains(name);
    if (v == nullptr || v->is_null()) {
        return true;
    }
    if (!v->is_string()) {
        return false;
    }
    out = v->get_string();
    return true;
}

/// A base64url member holding bytes ("n", "e", "x", "y"): unpadded, as Go's RawURLEncoding
/// (which jwk-go uses) demands. std::nullopt when absent or not decodable.
std::optional<std::string> bytes_member(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    const std::string_view text = v->get_string();
    if (text.find('=') != std::string_view::npos) {
        return std::nullopt;
    }
    return base64::decode_url(text);
}

/// Builds a public key of `type_name` from OpenSSL parameters; null on any failure.
std::shared_ptr<EVP_PKEY> key_from_params(const char* type_name, OSSL_PARAM_BLD* bld) {
    const std::unique_ptr<OSSL_PARAM, param_free> params(OSSL_PARAM_BLD_to_param(bld));
    const std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        EVP_PKEY_free(key);
        return nullptr;
    }
    return share(key);
}

/// kty "RSA". Go 1.24+ crypto/rsa (Centrifugo's) refuses moduli under 1024 bits, even moduli
/// and exponents that are even or below 2; jwk-go refuses exponents above 2^31 - 1.
std::shared_ptr<EVP_PKEY> rsa_key(const json::object& o) {
    const auto n_bytes = bytes_member(o, "n");
    const auto e_bytes = bytes_member(o, "e");
    if (!n_bytes || !e_bytes || n_bytes->size() > 2048 || e_bytes->size() > 2048) {
        return nullptr;
    }
    const bn_ptr n(BN_bin2bn(as_bytes(*n_bytes), static_cast<int>(n_bytes->size()), nullptr));
    const bn_ptr e(BN_bin2bn(as_bytes(*e_bytes), static_cast<int>(e_bytes->size()), nullptr));
    if (!n || !e || BN_num_bits(n.get()) < 1024 || BN_is_odd(n.get()) != 1 ||
        BN_is_odd(e.get()) != 1 || BN_is_one(e.get()) == 1 || BN_num_bits(e.get()) > 31) {
        return nullptr;
    }
    const std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return nullptr;
    }
    return key_from_params("RSA", bld.get());
}

struct curve_info {
    const char* group; ///< OpenSSL's name
    std::size_t size;  ///< coordinate bytes
    const char* alg;
};

std::optional<curve_info> curve_for(std::string_view crv) {
    if (crv == "P-256") {
        return curve_info{"prime256v1", 32, "ES256"};
    }
    if (crv == "P-384") {
        return curve_info{"secp384r1", 48, "ES384"};
    }
    if (crv == "P-521") {
        return curve_info{"secp521r1", 66, "ES512"};
    }
    return std::nullopt;
}

/// kty "EC": x and y of exactly the curve's size (as jwk-go checks), and on the curve.
std::shared_ptr<EVP_PKEY> ec_key(const json::object& o, const curve_info& curve) {
    const auto x = bytes_member(o, "x");
    const auto y = bytes_member(o, "y");
    if (!x || !y || x->size() != curve.size || y->size() != curve.size) {
        return nullptr;
    }
    std::string point = "\x04"; // SEC 1 uncompressed point
    point += *x;
    point += *y;
    const std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.group, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(
            bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
        return nullptr;
    }
    auto key = key_from_params("EC", bld.get());
    if (!key) {
        return nullptr;
    }
    const std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return nullptr;
    }
    return key;
}

/// kty "OKP", crv "Ed25519": a 32-byte x.
std::shared_ptr<EVP_PKEY> ed25519_key(const json::object& o) {
    const auto x = bytes_member(o, "x");
    if (!x || x->size() != 32) {
        return nullptr;
    }
    return share(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, as_bytes(*x), x->size()));
}

bool is_rs_alg(std::string_view alg) noexcept {
    return alg == "RS256" || alg == "RS384" || alg == "RS512";
}

/// The key a JWK describes, or null when Centrifugo could not verify a token with it.
std::shared_ptr<const jwk> parse_key(const json::object& o) {
    std::string_view kid;
    std::string_view kty;
    std::string_view alg;
    std::string_view crv;
    std::string_view use;
    if (!string_member(o, "kid", kid) || !string_member(o, "kty", kty) ||
        !string_member(o, "alg", alg) || !string_member(o, "crv", crv) ||
        !string_member(o, "use", use)) {
        return nullptr;
    }
    // Centrifugo's manager keeps only "use":"sig" keys; a token without kid is refused before
    // any lookup, so a key without one is never found; a private key fails its type checks.
    if (use != "sig" || kid.empty() || o.contains("d")) {
        return nullptr;
    }
    jwk out;
    out.kid = std::string(kid);
    if (kty == "RSA") {
        if (!alg.empty() && !is_rs_alg(alg)) {
            return nullptr; // e.g. PS256: cristalhq's RS verifier refuses it
        }
        out.type = jwk_type::rsa;
        out.alg = std::string(alg);
        out.key = rsa_key(o);
    } else if (kty == "EC") {
        const auto curve = curve_for(crv);
        if (!curve || (!alg.empty() && alg != curve->alg)) {
            return nullptr;
        }
        out.type = jwk_type::ec;
        out.alg = curve->alg;
        out.key = ec_key(o, *curve);
    } else if (kty == "OKP") {
        if (crv != "Ed25519") {
            return nullptr; // X25519 is for key agreement, Ed448 unsupported by Centrifugo
        }
        out.type = jwk_type::okp;
        out.alg = "EdDSA";
        out.key = ed25519_key(o);
    }
    ERR_clear_error();
    if (!out.key) {
        return nullptr;
    }
    return std::make_shared<const jwk>(std::move(out));
}

boost::system::result<jwk_set, std::string> parse_error(const char* why) {
    return {boost::system::in_place_error, why};
}

} // namespace

bool jwk::accepts(std::string_view token_alg) const noexcept {
    switch (type) {
    case jwk_type::rsa:
        return alg.empty() ? is_rs_alg(token_alg) : token_alg == alg;
    case jwk_type::ec:
        return token_alg == alg;
    case jwk_type::okp:
        return token_alg == "EdDSA";
    }
    return false;
}

boost::system::result<jwk_set, std::string> jwk_set::parse(std::string_view text) {
    boost::system::error_code ec;
    const json::value doc = json::parse(text, ec);
    if (ec) {
        return parse_error("JWKS: not valid JSON");
    }
    if (!doc.is_object()) {
        return parse_error("JWKS: not a JSON object");
    }
    const auto* keys = doc.get_object().if_contains("keys");
    if (keys == nullptr || !keys->is_array()) {
        return parse_error("JWKS: no \"keys\" array");
    }
    jwk_set out;
    for (const auto& item : keys->get_array()) {
        if (!item.is_object()) {
            return parse_error("JWKS: a key is not a JSON object");
        }
        auto key = parse_key(item.get_object());
        if (!key) {
            continue;
        }
        const auto same = std::find_if(
            out.keys_.begin(), out.keys_.end(), [&](const auto& k) { return k->kid == key->kid; });
        if (same != out.keys_.end()) {
            *same = std::move(key); // the last one wins, as in Centrifugo's cache
        } else {
            out.keys_.push_back(std::move(key));
        }
    }
    return out;
}

const jwk* jwk_set::find(std::string_view kid) const noexcept {
    for (const auto& k : keys_) {
        if (k->kid == kid) {
            return k.get();
        }
    }
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// jwks_cache

jwks_cache::jwks_cache()
    : jwks_cache(options{}) {}

jwks_cache::jwks_cache(options opts)
    : opts_(std::move(opts)) {}

jwks_cache::clock::time_point jwks_cache::now() const {
    return opts_.now ? opts_.now() : clock::now();
}

jwks_cache::lookup_result jwks_cache::lookup(std::string_view url, std::string_view kid) {
    const auto t = now();
    const std::lock_guard lock(mutex_);
    const auto u = urls_.find(url);
    if (u == urls_.end()) {
        return {};
    }
    auto& entry = u->second;
    if (const auto k = entry.keys.find(kid); k != entry.keys.end() && t <= k->second.expires_at) {
        k->second.expires_at = t + opts_.ttl; // Centrifugo's TTLCache.Get touches the item
        return {lookup_status::hit, k->second.key};
    }
    if (entry.has_stored && t - entry.stored_at < opts_.min_refetch_interval) {
        return {lookup_status::unknown_kid, nullptr};
    }
    return {};
}

void jwks_cache::store(std::string_view url, const jwk_set& set) {
    finish_fetch(url, true, &set);
}

void jwks_cache::fetch_failed(std::string_view url) {
    finish_fetch(url, false, nullptr);
}

void jwks_cache::finish_fetch(std::string_view url, bool stored, const jwk_set* set) {
    const auto t = now();
    std::vector<unique_function<void(bool)>> waiters;
    {
        const std::lock_guard lock(mutex_);
        auto u = urls_.find(url);
        if (u == urls_.end()) {
            if (set == nullptr) {
                return;
            }
            u = urls_.emplace(std::string(url), url_entry{}).first;
        }
        auto& entry = u->second;
        waiters.swap(entry.waiters);
        entry.is_fetching = false;
        if (set != nullptr) {
            entry.stored_at = t;
            entry.has_stored = true;
            for (const auto& key : set->keys()) {
                entry.keys.insert_or_assign(key->kid, key_entry{key, t + opts_.ttl});
            }
        }
        // Sweep: Centrifugo runs a cleanup every ttl; here each store does it.
        for (auto it = urls_.begin(); it != urls_.end();) {
            auto& keys = it->second.keys;
            std::erase_if(keys, [&](const auto& kv) { return t > kv.second.expires_at; });
            const bool idle =
                keys.empty() && !it->second.is_fetching &&
                (!it->second.has_stored || t - it->second.stored_at >= opts_.min_refetch_interval);
            it = idle ? urls_.erase(it) : std::next(it);
        }
    }
    for (auto& w : waiters) {
        if (w) {
            w(stored);
        }
    }
}

bool jwks_cache::begin_fetch(std::string_view url, unique_function<void(bool)> on_done) {
    const std::lock_guard lock(mutex_);
    auto u = urls_.find(url);
    if (u == urls_.end()) {
        u = urls_.emplace(std::string(url), url_entry{}).first;
    }
    auto& entry = u->second;
    entry.waiters.push_back(std::move(on_done));
    if (entry.is_fetching) {
        return false;
    }
    entry.is_fetching = true;
    return true;
}

std::size_t jwks_cache::size() const {
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [url, entry] : urls_) {
        n += entry.keys.size();
    }
    return n;
}

} // namespace gyre::auth
