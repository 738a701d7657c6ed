#include "auth/token_verifier.hpp"

#include "auth/jwt.hpp"
#include "config/error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/throw_exception.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <vector>

namespace gyre::auth {
namespace {

namespace json = boost::json;

struct bio_free {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

struct x509_free {
    void operator()(X509* x) const noexcept { X509_free(x); }
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

const auto* as_bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

/// The newest OpenSSL error as text; empties this thread's error queue either way, so a failed
/// parse or verification leaves nothing behind for unrelated code (e.g. TLS) to trip over.
std::string take_openssl_error() {
    const unsigned long code = ERR_peek_last_error();
    std::string text = "unknown OpenSSL error";
    if (code != 0) {
        std::array<char, 256> buf{};
        ERR_error_string_n(code, buf.data(), buf.size());
        text = buf.data();
    }
    ERR_clear_error();
    return text;
}

enum class alg_family { hs, rs, es };

struct alg_info {
    alg_family family;
    const EVP_MD* md;
};

std::optional<alg_info> parse_alg(std::string_view alg) {
    if (alg.size() != 5) {
        return std::nullopt;
    }
    const auto prefix = alg.substr(0, 2);
    const auto bits = alg.substr(2);
    alg_info info{};
    if (prefix == "HS") {
        info.family = alg_family::hs;
    } else if (prefix == "RS") {
        info.family = alg_family::rs;
    } else if (prefix == "ES") {
        info.family = alg_family::es;
    } else {
        return std::nullopt;
    }
    if (bits == "256") {
        info.md = EVP_sha256();
    } else if (bits == "384") {
        info.md = EVP_sha384();
    } else if (bits == "512") {
        info.md = EVP_sha512();
    } else {
        return std::nullopt;
    }
    return info;
}

// ---------------------------------------------------------------------------------------------
// Keys

using pkey_owner = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::unique_ptr<BIO, bio_free> memory_bio(std::string_view data) {
    if (data.size() > static_cast<std::size_t>(INT_MAX)) {
        return nullptr;
    }
    return std::unique_ptr<BIO, bio_free>(
        BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

/// A "PUBLIC KEY" (SubjectPublicKeyInfo) PEM block, or failing that the key of a certificate
/// PEM, as Centrifugo's x509.ParsePKIXPublicKey / ParseCertificate fallback accepts.
pkey_owner read_public_key(std::string_view pem, const std::string& key_name) {
    auto bio = memory_bio(pem);
    if (!bio) {
        throw config::config_error(key_name + ": cannot read PEM (" + take_openssl_error() + ")");
    }
    pkey_owner key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (key) {
        ERR_clear_error();
        return key;
    }
    const std::string pubkey_error = take_openssl_error();
    bio = memory_bio(pem);
    if (bio) {
        const std::unique_ptr<X509, x509_free> cert(
            PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (cert) {
            key.reset(X509_get_pubkey(cert.get()));
        }
    }
    ERR_clear_error();
    if (!key) {
        throw config::config_error(key_name +
                                   ": not a PEM public key (\"-----BEGIN PUBLIC KEY-----\") or "
                                   "certificate (" +
                                   pubkey_error + ")");
    }
    return key;
}

std::string key_type_name(EVP_PKEY* key) {
    const char* name = EVP_PKEY_get0_type_name(key);
    return name != nullptr ? name : "unknown";
}

/// The ES algorithm a named-curve EC key serves, or "" for any other curve.
std::string es_alg_for_curve(EVP_PKEY* key, std::string& curve_name) {
    std::array<char, 80> name{};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, name.data(), name.size(), &len) != 1) {
        ERR_clear_error();
        curve_name = "unnamed curve";
        return {};
    }
    curve_name.assign(name.data(), len);
    switch (OBJ_sn2nid(curve_name.c_str())) {
    case NID_X9_62_prime256v1:
        return "ES256";
    case NID_secp384r1:
        return "ES384";
    case NID_secp521r1:
        return "ES512";
    default:
        return {};
    }
}

bool digest_verify(EVP_PKEY* key,
                   const EVP_MD* md,
                   std::string_view signature,
                   std::string_view signing_input) {
    const std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx.get(),
                                     as_bytes(signature),
                                     signature.size(),
                                     as_bytes(signing_input),
                                     signing_input.size()) == 1;
    ERR_clear_error();
    return ok;
}

/// JWS ES signatures are the fixed-width big-endian r || s (RFC 7518 section 3.4); OpenSSL
/// wants a DER ECDSA-Sig-Value. Empty on failure.
std::string ecdsa_raw_to_der(std::string_view raw) {
    const auto half = static_cast<int>(raw.size() / 2);
    std::unique_ptr<BIGNUM, bn_free> r(BN_bin2bn(as_bytes(raw), half, nullptr));
    std::unique_ptr<BIGNUM, bn_free> s(
        BN_bin2bn(as_bytes(raw.substr(raw.size() / 2)), half, nullptr));
    const std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        ERR_clear_error();
        return {};
    }
    (void)r.release(); // owned by sig now
    (void)s.release();
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) {
        ERR_clear_error();
        return {};
    }
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != len) {
        ERR_clear_error();
        return {};
    }
    return der;
}

std::size_t es_coordinate_size(std::string_view es_alg) {
    if (es_alg == "ES256") {
        return 32;
    }
    if (es_alg == "ES384") {
        return 48;
    }
    return 66; // ES512: P-521
}

std::optional<verify_error> check_hmac(std::string_view alg,
                                       std::initializer_list<std::string_view> secrets,
                                       std::string_view signing_input,
                                       std::string_view signature) {
    bool have_key = false;
    for (const auto secret : secrets) {
        if (secret.empty()) {
            continue;
        }
        have_key = true;
        const auto mac = hmac_sha(alg, secret, signing_input);
        if (mac && mac->size() == signature.size() &&
            CRYPTO_memcmp(mac->data(), signature.data(), mac->size()) == 0) {
            return std::nullopt;
        }
    }
    return have_key ? verify_error::invalid_signature : verify_error::no_key;
}

std::optional<verify_error> check_ecdsa(EVP_PKEY* key,
                                        std::string_view key_alg,
                                        std::string_view alg,
                                        const EVP_MD* md,
                                        std::string_view signing_input,
                                        std::string_view signature) {
    // Like Centrifugo, an ES algorithm other than the key's curve is simply not enabled.
    if (key == nullptr || alg != key_alg) {
        return verify_error::no_key;
    }
    if (signature.size() != 2 * es_coordinate_size(key_alg)) {
        return verify_error::invalid_signature;
    }
    const auto der = ecdsa_raw_to_der(signature);
    if (der.empty() || !digest_verify(key, md, der, signing_input)) {
        return verify_error::invalid_signature;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Regular expressions

/// Centrifugo compiles audience_regex / issuer_regex with Go's RE2 syntax; std::regex speaks
/// ECMAScript. Translate what differs and is likely in these patterns: named groups
/// (?P<name>...) and (?<name>...) become plain groups (Gyre has no JWKS URL templates to feed),
/// a leading (?i) becomes the icase flag, \A and \z become ^ and $, and a ']' first in a class
/// is escaped. Anything else unsupported makes std::regex throw, which becomes a config_error.
struct translated_regex {
    std::string pattern;
    bool icase = false;
};

/// Length of a named-group opener "(?P<name>" or "(?<name>" starting `rest`, else 0.
std::size_t named_group_opener(std::string_view rest) {
    std::size_t name_at = 0;
    if (rest.starts_with("(?P<")) {
        name_at = 4;
    } else if (rest.starts_with("(?<") && rest.size() > 3 && rest[3] != '=' && rest[3] != '!') {
        name_at = 3; // not the look-behinds (?<= and (?<!
    }
    if (name_at == 0) {
        return 0;
    }
    const auto close = rest.find('>', name_at);
    return close == std::string_view::npos ? 0 : close + 1;
}

/// Copies "[" or "[^" starting `rest`, escaping a ']' right after it (literal in RE2, an empty
/// class in ECMAScript). Returns how many characters of `rest` it used.
std::size_t append_class_opening(std::string_view rest, std::string& out) {
    std::size_t used = 1;
    out += '[';
    if (rest.size() > used && rest[used] == '^') {
        out += '^';
        ++used;
    }
    if (rest.size() > used && rest[used] == ']') {
        out += "\\]";
        ++used;
    }
    return used;
}

translated_regex translate_re2(std::string_view p) {
    translated_regex out;
    if (p.starts_with("(?i)")) {
        out.icase = true;
        p.remove_prefix(4);
    }
    bool in_class = false;
    std::size_t i = 0;
    while (i < p.size()) {
        const auto rest = p.substr(i);
        if (rest.size() > 1 && rest[0] == '\\') {
            const bool anchor = !in_class && (rest[1] == 'A' || rest[1] == 'z');
            out.pattern += anchor ? (rest[1] == 'A' ? "^" : "$") : rest.substr(0, 2);
            i += 2;
        } else if (in_class) {
            in_class = rest[0] != ']';
            out.pattern += rest[0];
            ++i;
        } else if (rest[0] == '[') {
            i += append_class_opening(rest, out.pattern);
            in_class = true;
        } else if (const auto opener = named_group_opener(rest); opener != 0) {
            out.pattern += '(';
            i += opener;
        } else {
            out.pattern += rest[0];
            ++i;
        }
    }
    return out;
}

/// Compiled so that regex_match() answers what Go's FindStringSubmatch does (is there a match
/// anywhere?), using libstdc++'s polynomial (Thompson NFA) executor: the claims come from
/// untrusted tokens, and the default backtracking executor recurses once per input character
/// (stack overflow on long input) and can take exponential time.
std::regex compile_regex(const std::string& pattern, const std::string& key_name) {
    const auto translated = translate_re2(pattern);
    auto flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
    if (translated.icase) {
        flags |= std::regex::icase;
    }
    try {
        const std::regex alone(translated.pattern, flags); // rejects e.g. "a)(b" on its own
        (void)alone;
        return std::regex("[\\s\\S]*(?:" + translated.pattern + ")[\\s\\S]*", flags);
    } catch (const std::regex_error& e) {
        throw config::config_error(key_name + ": invalid regular expression \"" + pattern +
                                   "\": " + e.what());
    }
}

bool regex_found(const std::regex& re, std::string_view text) {
    return std::regex_match(text.begin(), text.end(), re);
}

// ---------------------------------------------------------------------------------------------
// Claims

/// JWT NumericDate as Go's json.Number accepts it: a JSON number, or a string holding one.
/// The integer part, saturated to int64. Returns false for any other type.
bool numeric_date(const json::value* v, std::optional<std::int64_t>& out) {
    out.reset();
    if (v == nullptr || v->is_null()) {
        return true;
    }
    double d = 0;
    if (v->is_int64()) {
        out = v->get_int64();
        return true;
    }
    if (v->is_uint64()) {
        const auto u = v->get_uint64();
        out = u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                  ? std::numeric_limits<std::int64_t>::max()
                  : static_cast<std::int64_t>(u);
        return true;
    }
    if (v->is_double()) {
        d = v->get_double();
    } else if (v->is_string()) {
        const auto s = std::string_view(v->get_string());
        const bool number_like = !s.empty() &&
                                 (s.front() == '-' || (s.front() >= '0' && s.front() <= '9')) &&
                                 s.back() >= '0' && s.back() <= '9';
        boost::system::error_code ec;
        const json::value parsed = number_like ? json::parse(s, ec) : json::value();
        if (!number_like || ec || !parsed.is_number()) {
            return false;
        }
        return numeric_date(&parsed, out);
    } else {
        return false;
    }
    constexpr double limit = 9.2e18; // inside int64, so the cast below is defined
    if (d >= limit) {
        out = std::numeric_limits<std::int64_t>::max();
    } else if (d <= -limit) {
        out = std::numeric_limits<std::int64_t>::min();
    } else {
        out = static_cast<std::int64_t>(d); // truncates toward zero: the integer part
    }
    return true;
}

/// A string claim ("iss", "sub", "jti"): absent or null reads as "", other types are malformed.
bool string_claim(const json::object& claims, std::string_view name, std::string_view& out) {
    out = {};
    const auto* v = claims.if_contains(name);
    if (v == nullptr || v->is_null()) {
        return true;
    }
    if (!v->is_string()) {
        return false;
    }
    out = v->get_string();
    return true;
}

/// "aud": a string or an array of strings (RFC 7519 section 4.1.3).
bool audience_claim(const json::object& claims, std::vector<std::string_view>& out) {
    out.clear();
    const auto* v = claims.if_contains("aud");
    if (v == nullptr || v->is_null()) {
        return true;
    }
    if (v->is_string()) {
        out.emplace_back(v->get_string());
        return true;
    }
    if (!v->is_array()) {
        return false;
    }
    for (const auto& item : v->get_array()) {
        if (!item.is_string()) {
            return false;
        }
        out.emplace_back(item.get_string());
    }
    return true;
}

/// Centrifugo reads a custom user ID claim with gjson: the name is a path whose '.' steps into
/// objects (or arrays, by index) and '\' escapes the next character.
const json::value* find_claim_path(const json::object& claims, std::string_view path) {
    std::vector<std::string> parts(1);
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '\\' && i + 1 < path.size()) {
            parts.back() += path[++i];
        } else if (path[i] == '.') {
            parts.emplace_back();
        } else {
            parts.back() += path[i];
        }
    }
    const json::value* current = nullptr;
    const json::object* object = &claims;
    for (const auto& part : parts) {
        if (object != nullptr) {
            current = object->if_contains(part);
        } else if (current != nullptr && current->is_array()) {
            std::size_t index = 0;
            const auto* end = part.data() + part.size();
            const auto [ptr, ec] = std::from_chars(part.data(), end, index);
            const auto& array = current->get_array();
            current = (part.empty() || ec != std::errc() || ptr != end || index >= array.size())
                          ? nullptr
                          : &array[index];
        } else {
            current = nullptr;
        }
        if (current == nullptr) {
            return nullptr;
        }
        object = current->if_object();
    }
    return current;
}

/// gjson's Result.String(): strings as they are, numbers in plain decimal, booleans as
/// true/false, objects and arrays as JSON, null and missing as "".
std::string claim_as_string(const json::value* v) {
    if (v == nullptr) {
        return {};
    }
    switch (v->kind()) {
    case json::kind::string:
        return std::string(v->get_string());
    case json::kind::int64:
        return std::to_string(v->get_int64());
    case json::kind::uint64:
        return std::to_string(v->get_uint64());
    case json::kind::double_: {
        std::array<char, 400> buf{};
        const auto res = std::to_chars(
            buf.data(), buf.data() + buf.size(), v->get_double(), std::chars_format::fixed);
        return res.ec == std::errc() ? std::string(buf.data(), res.ptr) : std::string();
    }
    case json::kind::bool_:
        return v->get_bool() ? "true" : "false";
    case json::kind::object:
    case json::kind::array:
        return json::serialize(*v);
    case json::kind::null:
        break;
    }
    return {};
}

} // namespace

std::string_view to_string(verify_error e) noexcept {
    switch (e) {
    case verify_error::malformed:
        return "malformed token";
    case verify_error::unsupported_algorithm:
        return "unsupported algorithm";
    case verify_error::invalid_signature:
        return "invalid signature";
    case verify_error::expired:
        return "token expired";
    case verify_error::not_yet_valid:
        return "token not valid yet";
    case verify_error::audience_mismatch:
        return "invalid audience";
    case verify_error::issuer_mismatch:
        return "invalid issuer";
    case verify_error::no_key:
        return "no key for token algorithm";
    }
    return "invalid token";
}

void throw_exception_from_error(verify_error e, const boost::source_location& loc) {
    boost::throw_with_location(std::runtime_error(std::string(to_string(e))), loc);
}

void token_verifier::pkey_free::operator()(EVP_PKEY* key) const noexcept {
    EVP_PKEY_free(key);
}

token_verifier::token_verifier(const config::token_options& opts,
                               bool skip_signature_verify,
                               std::string_view key_prefix)
    : hmac_secret_(opts.hmac_secret_key)
    , hmac_previous_secret_(opts.hmac_previous_secret_key)
    , hmac_previous_valid_until_(opts.hmac_previous_secret_key_valid_until)
    , audience_(opts.audience)
    , issuer_(opts.issuer)
    , user_id_claim_(opts.user_id_claim)
    , skip_signature_verify_(skip_signature_verify) {
    const std::string prefix(key_prefix);
    if (!opts.jwks_public_endpoint.empty()) {
        throw config::config_error(prefix +
                                   ".jwks_public_endpoint: JWKS is not supported by Gyre; "
                                   "configure hmac_secret_key, rsa_public_key or ecdsa_public_key");
    }
    if (!opts.audience.empty() && !opts.audience_regex.empty()) {
        throw config::config_error(prefix + ".audience and " + prefix +
                                   ".audience_regex can not be used together, set only one");
    }
    if (!opts.issuer.empty() && !opts.issuer_regex.empty()) {
        throw config::config_error(prefix + ".issuer and " + prefix +
                                   ".issuer_regex can not be used together, set only one");
    }
    if (!opts.rsa_public_key.empty()) {
        const std::string name = prefix + ".rsa_public_key";
        auto key = read_public_key(opts.rsa_public_key, name);
        if (EVP_PKEY_is_a(key.get(), "RSA") != 1) {
            throw config::config_error(name + ": expected an RSA public key, got " +
                                       key_type_name(key.get()));
        }
        rsa_key_.reset(key.release());
    }
    if (!opts.ecdsa_public_key.empty()) {
        const std::string name = prefix + ".ecdsa_public_key";
        auto key = read_public_key(opts.ecdsa_public_key, name);
        if (EVP_PKEY_is_a(key.get(), "EC") != 1) {
            throw config::config_error(name + ": expected an EC public key, got " +
                                       key_type_name(key.get()));
        }
        std::string curve;
        ecdsa_alg_ = es_alg_for_curve(key.get(), curve);
        if (ecdsa_alg_.empty()) {
            throw config::config_error(name + ": unsupported curve " + curve +
                                       ", expected P-256, P-384 or P-521");
        }
        ecdsa_key_.reset(key.release());
    }
    if (!opts.audience_regex.empty()) {
        audience_regex_ = compile_regex(opts.audience_regex, prefix + ".audience_regex");
    }
    if (!opts.issuer_regex.empty()) {
        issuer_regex_ = compile_regex(opts.issuer_regex, prefix + ".issuer_regex");
    }
}

std::optional<verify_error> token_verifier::check_signature(std::string_view alg,
                                                            std::string_view signing_input,
                                                            std::string_view signature,
                                                            std::int64_t now_unix) const {
    const auto info = parse_alg(alg);
    if (!info) {
        return verify_error::unsupported_algorithm;
    }
    switch (info->family) {
    case alg_family::hs: {
        // Centrifugo retries with the previous secret whenever the current one fails (or is
        // unset), unless valid_until is set (> 0) and has passed.
        const bool previous_usable =
            hmac_previous_valid_until_ <= 0 || now_unix <= hmac_previous_valid_until_;
        return check_hmac(
            alg,
            {hmac_secret_, previous_usable ? std::string_view(hmac_previous_secret_) : ""},
            signing_input,
            signature);
    }
    case alg_family::rs:
        if (!rsa_key_) {
            return verify_error::no_key;
        }
        return digest_verify(rsa_key_.get(), info->md, signature, signing_input)
                   ? std::nullopt
                   : std::optional(verify_error::invalid_signature);
    case alg_family::es:
        return check_ecdsa(ecdsa_key_.get(), ecdsa_alg_, alg, info->md, signing_input, signature);
    }
    return verify_error::unsupported_algorithm;
}

boost::system::result<verified_token, verify_error>
token_verifier::verify(std::string_view token, std::int64_t now_unix) const {
    auto decoded = decode_jwt(token);
    if (!decoded) {
        return verify_error::malformed;
    }
    if (!skip_signature_verify_) {
        if (const auto err = check_signature(
                decoded->alg, decoded->signing_input, decoded->signature, now_unix)) {
            return *err;
        }
    }

    // Go's json.Unmarshal nests 10000 deep; Boost.JSON's default of 32 would refuse big "info".
    json::parse_options parse_opts;
    parse_opts.max_depth = 1000;
    boost::system::error_code ec;
    json::value parsed = json::parse(decoded->claims_json, ec, {}, parse_opts);
    if (ec || !parsed.is_object()) {
        return verify_error::malformed;
    }
    json::object& claims = parsed.get_object();

    // The registered claims must have their RFC 7519 types, or Centrifugo's decoding fails.
    std::optional<std::int64_t> exp;
    std::optional<std::int64_t> nbf;
    std::optional<std::int64_t> iat;
    std::string_view iss;
    std::string_view sub;
    std::string_view jti;
    std::vector<std::string_view> aud;
    if (!numeric_date(claims.if_contains("exp"), exp) ||
        !numeric_date(claims.if_contains("nbf"), nbf) ||
        !numeric_date(claims.if_contains("iat"), iat) || !string_claim(claims, "iss", iss) ||
        !string_claim(claims, "sub", sub) || !string_claim(claims, "jti", jti) ||
        !audience_claim(claims, aud)) {
        return verify_error::malformed;
    }

    if (!audience_.empty() && std::find(aud.begin(), aud.end(), audience_) == aud.end()) {
        return verify_error::audience_mismatch;
    }
    if (audience_regex_ && std::none_of(aud.begin(), aud.end(), [&](std::string_view a) {
            return regex_found(*audience_regex_, a);
        })) {
        return verify_error::audience_mismatch;
    }
    if (!issuer_.empty() && iss != issuer_) {
        return verify_error::issuer_mismatch;
    }
    if (issuer_regex_ && !regex_found(*issuer_regex_, iss)) {
        return verify_error::issuer_mismatch;
    }

    // jwt.RegisteredClaims: valid while exp is after now and nbf before it; with whole
    // seconds that is exp > now and nbf <= now.
    if (exp && *exp <= now_unix) {
        return verify_error::expired;
    }
    if (nbf && *nbf > now_unix) {
        return verify_error::not_yet_valid;
    }

    verified_token out;
    out.user = user_id_claim_.empty() ? std::string(sub)
                                      : claim_as_string(find_claim_path(claims, user_id_claim_));
    out.alg = std::move(decoded->alg);
    out.claims_json = std::move(decoded->claims_json);
    out.claims = std::move(claims);
    out.exp = exp;
    return out;
}

} // namespace gyre::auth
