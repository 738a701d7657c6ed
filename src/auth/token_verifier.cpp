#include "auth/token_verifier.hpp"

#include "auth/detail/openssl.hpp"
#include "auth/jwt.hpp"
#include "config/error.hpp"
#include "core/strings.hpp"

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

using detail::bio_free;
using detail::bn_free;
using detail::ecdsa_sig_free;
using detail::md_ctx_free;
using detail::x509_free;

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
/// (?P<name>...) and (?<name>...) become plain groups whose numbers are recorded (JWKS URL
/// templates read them), a leading (?i) becomes the icase flag, \A and \z become ^ and $, and a
/// ']' first in a class is escaped. Anything else unsupported makes std::regex throw, which
/// becomes a config_error.
struct translated_regex {
    std::string pattern;
    bool icase = false;
    std::vector<std::pair<std::string, std::size_t>> groups; ///< named group -> group number
};

struct group_opener {
    std::size_t length = 0; ///< of "(?P<name>" or "(?<name>"; 0 when `rest` starts neither
    std::string_view name;
};

group_opener named_group_opener(std::string_view rest) {
    std::size_t name_at = 0;
    if (rest.starts_with("(?P<")) {
        name_at = 4;
    } else if (rest.starts_with("(?<") && rest.size() > 3 && rest[3] != '=' && rest[3] != '!') {
        name_at = 3; // not the look-behinds (?<= and (?<!
    }
    if (name_at == 0) {
        return {};
    }
    const auto close = rest.find('>', name_at);
    if (close == std::string_view::npos) {
        return {};
    }
    return {close + 1, rest.substr(name_at, close - name_at)};
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
    std::size_t captures = 0;
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
        } else if (const auto opener = named_group_opener(rest); opener.length != 0) {
            out.groups.emplace_back(std::string(opener.name), ++captures);
            out.pattern += '(';
            i += opener.length;
        } else {
            if (rest[0] == '(' && !rest.starts_with("(?")) {
                ++captures;
            }
            out.pattern += rest[0];
            ++i;
        }
    }
    return out;
}

struct compiled_regex {
    std::regex re;
    std::vector<std::pair<std::string, std::size_t>> groups;
};

/// Compiled so that regex_match() answers what Go's FindStringSubmatch does (is there a match
/// anywhere, and what do its groups hold?), using libstdc++'s polynomial (Thompson NFA)
/// executor: the claims come from untrusted tokens, and the default backtracking executor
/// recurses once per input character (stack overflow on long input) and can take exponential
/// time. The lazy prefix makes the match the leftmost one, as in Go.
compiled_regex compile_regex(const std::string& pattern, const std::string& key_name) {
    auto translated = translate_re2(pattern);
    auto flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
    if (translated.icase) {
        flags |= std::regex::icase;
    }
    try {
        const std::regex alone(translated.pattern, flags); // rejects e.g. "a)(b" on its own
        (void)alone;
        return {std::regex("[\\s\\S]*?(?:" + translated.pattern + ")[\\s\\S]*", flags),
                std::move(translated.groups)};
    } catch (const std::regex_error& e) {
        throw config::config_error(key_name + ": invalid regular expression \"" + pattern +
                                   "\": " + e.what());
    }
}

bool regex_found(const std::regex& re, std::string_view text) {
    return std::regex_match(text.begin(), text.end(), re);
}

/// Like regex_found, and on a match appends (name, submatch) for each named group to `vars`
/// (a group that took no part gives "", as in Go).
bool regex_found(const std::regex& re,
                 const std::vector<std::pair<std::string, std::size_t>>& groups,
                 std::string_view text,
                 std::vector<std::pair<std::string, std::string>>& vars) {
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(text.begin(), text.end(), m, re)) {
        return false;
    }
    for (const auto& [name, index] : groups) {
        vars.emplace_back(name, index < m.size() ? m[index].str() : std::string());
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// JWKS endpoint templates

/// The {{name}} placeholders of a fasttemplate URL template (the text between the braces, as
/// is); std::nullopt when a "{{" is never closed (fasttemplate.New panics on that).
std::optional<std::vector<std::string>> template_placeholders(std::string_view t) {
    std::vector<std::string> out;
    for (auto open = t.find("{{"); open != std::string_view::npos; open = t.find("{{")) {
        const auto close = t.find("}}", open + 2);
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        out.emplace_back(t.substr(open + 2, close - open - 2));
        t.remove_prefix(close + 2);
    }
    return out;
}

/// fasttemplate's ExecuteString: each {{name}} becomes its value, "" when there is none. Later
/// entries of `vars` win (Centrifugo fills one map, issuer first, then audience).
std::string expand_template(std::string_view t,
                            const std::vector<std::pair<std::string, std::string>>& vars) {
    std::string out;
    for (auto open = t.find("{{"); open != std::string_view::npos; open = t.find("{{")) {
        const auto close = t.find("}}", open + 2);
        if (close == std::string_view::npos) {
            break; // the constructor refuses such templates
        }
        out += t.substr(0, open);
        const auto name = t.substr(open + 2, close - open - 2);
        const auto var = std::find_if(
            vars.rbegin(), vars.rend(), [&](const auto& v) { return v.first == name; });
        if (var != vars.rend()) {
            out += var->second;
        }
        t.remove_prefix(close + 2);
    }
    out += t;
    return out;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
               return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
           });
}

std::size_t scheme_length(std::string_view url) {
    if (starts_with_icase(url, "http://")) {
        return 7;
    }
    if (starts_with_icase(url, "https://")) {
        return 8;
    }
    return 0;
}

/// Whether an expanded JWKS URL may be fetched: http(s), no control characters or spaces, and a
/// percent-decoded path that Go's path.Clean leaves as it is (Centrifugo's resolveURL refuses
/// the rest as "path traversal": "." and ".." segments, "//", a trailing '/').
bool url_is_safe(std::string_view url) {
    const auto scheme = scheme_length(url);
    if (scheme == 0 || std::any_of(url.begin(), url.end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
        })) {
        return false;
    }
    auto rest = url.substr(scheme);
    const auto path_at = rest.find_first_of("/?#");
    if (path_at == std::string_view::npos || rest[path_at] != '/') {
        return true; // no path
    }
    rest = rest.substr(path_at);
    rest = rest.substr(0, rest.find_first_of("?#"));
    std::string path;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] != '%') {
            path += rest[i];
            continue;
        }
        const int hi = i + 2 < rest.size() ? strings::hex_digit(rest[i + 1]) : -1;
        const int lo = hi >= 0 ? strings::hex_digit(rest[i + 2]) : -1;
        if (lo < 0) {
            return false; // url.Parse: invalid URL escape
        }
        path += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    if (path == "/") {
        return true;
    }
    std::string_view segments = std::string_view(path).substr(1);
    while (true) {
        const auto slash = segments.find('/');
        const auto segment = segments.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") {
            return false;
        }
        if (slash == std::string_view::npos) {
            return true;
        }
        segments.remove_prefix(slash + 1);
    }
}

/// Whether `\<e>` stands for one fixed character: escaped punctuation, or \n, \t, \x41, \101...;
/// not the assertions and classes (\b, \A, \z, \d, \pL...) nor \Q...\E.
bool literal_escape(char e) {
    const bool alnum = (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z');
    return !alnum || std::string_view("ntrfvax01234567").find(e) != std::string_view::npos;
}

/// Length of the group opener starting `rest` ("(", "(?:", "(?P<name>", "(?<name>"), 0 for the
/// other "(?" forms (flags, look-arounds).
std::size_t literal_group_opener(std::string_view rest) {
    if (const auto opener = named_group_opener(rest); opener.length != 0) {
        return opener.length;
    }
    if (rest.starts_with("(?:")) {
        return 3;
    }
    return rest.starts_with("(?") ? 0 : 1;
}

/// Whether the named group whose body starts at `p[at]` can match only a finite set of fixed
/// strings: Centrifugo's isLiteralTree (literals, alternation, nested groups), over the text.
bool literal_group_body(std::string_view p, std::size_t at) {
    int depth = 1;
    while (at < p.size()) {
        const auto rest = p.substr(at);
        const char c = rest[0];
        if (c == '\\') {
            if (rest.size() < 2 || !literal_escape(rest[1])) {
                return false;
            }
            at += 2;
        } else if (c == '(') {
            const auto length = literal_group_opener(rest);
            if (length == 0) {
                return false;
            }
            at += length;
            ++depth;
        } else if (c == ')') {
            ++at;
            if (--depth == 0) {
                return true;
            }
        } else if (std::string_view(".^$*+?{").find(c) != std::string_view::npos) {
            return false;
        } else {
            ++at; // a literal or '|'
        }
    }
    return false;
}

/// Centrifugo's validateJWKSEndpointSafety for one of issuer_regex / audience_regex: a template
/// value comes from an unverified claim, so every named group a placeholder uses must be an
/// explicit list of allowed values, and the pattern may hold no character class at all.
void check_template_regex(std::string_view pattern,
                          const std::vector<std::string>& placeholders,
                          const std::string& key_name) {
    constexpr std::string_view advice =
        " - use an explicit list of allowed values (e.g., value1|value2|value3)";
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '[') {
            throw config::config_error(key_name +
                                       ": contains character class syntax which is not allowed "
                                       "when JWKS endpoint URL template is used" +
                                       std::string(advice));
        }
        if (pattern[i] == '\\' && i + 1 < pattern.size()) {
            if (std::string_view("dDwWsSpP").find(pattern[i + 1]) != std::string_view::npos) {
                throw config::config_error(key_name + ": contains character class shorthand (\\" +
                                           pattern[i + 1] +
                                           ") which is not allowed when JWKS endpoint URL "
                                           "template is used" +
                                           std::string(advice));
            }
            ++i;
        }
    }
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\') {
            ++i;
            continue;
        }
        const auto opener = named_group_opener(pattern.substr(i));
        if (opener.length == 0 ||
            std::find(placeholders.begin(), placeholders.end(), opener.name) ==
                placeholders.end()) {
            continue;
        }
        if (!literal_group_body(pattern, i + opener.length)) {
            throw config::config_error(key_name + ": named group \"" + std::string(opener.name) +
                                       "\" is used in JWKS endpoint URL template - only an "
                                       "explicit list of allowed values is permitted (e.g., "
                                       "value1|value2|value3)");
        }
    }
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

/// The payload as a JSON object; Go's json.Unmarshal nests 10000 deep, and Boost.JSON's
/// default of 32 would refuse a big "info".
std::optional<json::value> parse_claims(std::string_view claims_json) {
    json::parse_options parse_opts;
    parse_opts.max_depth = 1000;
    boost::system::error_code ec;
    json::value parsed = json::parse(claims_json, ec, {}, parse_opts);
    if (ec || !parsed.is_object()) {
        return std::nullopt;
    }
    return parsed;
}

/// The registered claims, which must have their RFC 7519 types or Centrifugo's decoding fails.
struct registered_claims {
    std::optional<std::int64_t> exp;
    std::optional<std::int64_t> nbf;
    std::optional<std::int64_t> iat;
    std::string_view iss;
    std::string_view sub;
    std::string_view jti;
    std::vector<std::string_view> aud;
};

std::optional<registered_claims> read_registered_claims(const json::object& claims) {
    registered_claims r;
    if (!numeric_date(claims.if_contains("exp"), r.exp) ||
        !numeric_date(claims.if_contains("nbf"), r.nbf) ||
        !numeric_date(claims.if_contains("iat"), r.iat) || !string_claim(claims, "iss", r.iss) ||
        !string_claim(claims, "sub", r.sub) || !string_claim(claims, "jti", r.jti) ||
        !audience_claim(claims, r.aud)) {
        return std::nullopt;
    }
    return r;
}

/// The header "kid": "" when absent or null; std::nullopt when not a string (cristalhq/jwt's
/// header decoding fails on that).
std::optional<std::string> header_kid(std::string_view header_json) {
    boost::system::error_code ec;
    const json::value header = json::parse(header_json, ec);
    if (ec || !header.is_object()) {
        return std::nullopt;
    }
    const auto* kid = header.get_object().if_contains("kid");
    if (kid == nullptr || kid->is_null()) {
        return std::string();
    }
    if (!kid->is_string()) {
        return std::nullopt;
    }
    return std::string(kid->get_string());
}

/// jwks_public_endpoint at start-up: http(s), well-formed placeholders, a clean URL when there
/// are none, and Centrifugo's safety check of the regex groups the placeholders use.
void check_jwks_endpoint(const config::token_options& opts,
                         const std::string& prefix,
                         bool skip_safety_check) {
    const std::string name = prefix + ".jwks_public_endpoint";
    const std::string& endpoint = opts.jwks_public_endpoint;
    if (scheme_length(endpoint) == 0) {
        throw config::config_error(
            name + ": endpoint must have http:// or https:// scheme, got \"" + endpoint + "\"");
    }
    const auto placeholders = template_placeholders(endpoint);
    if (!placeholders) {
        throw config::config_error(name + R"(: "{{" without "}}" in ")" + endpoint + "\"");
    }
    if (placeholders->empty() && !url_is_safe(endpoint)) {
        // Centrifugo starts, then refuses every token ("path contains traversal sequences");
        // say so now.
        throw config::config_error(name + ": \"" + endpoint +
                                   "\" is not a clean URL (control characters, spaces, bad "
                                   "%-escapes, or a '.', '..' or empty path segment, or a "
                                   "trailing '/')");
    }
    if (!placeholders->empty() && !skip_safety_check) {
        check_template_regex(opts.issuer_regex, *placeholders, prefix + ".issuer_regex");
        check_template_regex(opts.audience_regex, *placeholders, prefix + ".audience_regex");
    }
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
    case verify_error::key_unavailable:
        return "signing key not cached";
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
    : token_verifier(opts, skip_signature_verify, key_prefix, jwks_settings{}) {}

token_verifier::token_verifier(const config::token_options& opts,
                               bool skip_signature_verify,
                               std::string_view key_prefix,
                               jwks_settings jwks)
    : hmac_secret_(opts.hmac_secret_key)
    , hmac_previous_secret_(opts.hmac_previous_secret_key)
    , hmac_previous_valid_until_(opts.hmac_previous_secret_key_valid_until)
    , audience_(opts.audience)
    , issuer_(opts.issuer)
    , user_id_claim_(opts.user_id_claim)
    , skip_signature_verify_(skip_signature_verify) {
    const std::string prefix(key_prefix);
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
        auto compiled = compile_regex(opts.audience_regex, prefix + ".audience_regex");
        audience_regex_ = std::move(compiled.re);
        audience_groups_ = std::move(compiled.groups);
    }
    if (!opts.issuer_regex.empty()) {
        auto compiled = compile_regex(opts.issuer_regex, prefix + ".issuer_regex");
        issuer_regex_ = std::move(compiled.re);
        issuer_groups_ = std::move(compiled.groups);
    }
    if (!opts.jwks_public_endpoint.empty()) {
        check_jwks_endpoint(opts, prefix, jwks.insecure_skip_endpoint_safety_check);
        jwks_endpoint_ = opts.jwks_public_endpoint;
        jwks_cache_ = jwks.cache ? std::move(jwks.cache) : std::make_shared<jwks_cache>();
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

std::optional<verify_error> token_verifier::check_audience_issuer(
    std::string_view iss, const std::vector<std::string_view>& aud, bool with_regexes) const {
    if (!audience_.empty() && std::find(aud.begin(), aud.end(), audience_) == aud.end()) {
        return verify_error::audience_mismatch;
    }
    if (with_regexes && audience_regex_ &&
        std::none_of(aud.begin(), aud.end(), [&](std::string_view a) {
            return regex_found(*audience_regex_, a);
        })) {
        return verify_error::audience_mismatch;
    }
    if (!issuer_.empty() && iss != issuer_) {
        return verify_error::issuer_mismatch;
    }
    if (with_regexes && issuer_regex_ && !regex_found(*issuer_regex_, iss)) {
        return verify_error::issuer_mismatch;
    }
    return std::nullopt;
}

std::optional<verify_error>
token_verifier::template_vars(std::string_view iss,
                              const std::vector<std::string_view>& aud,
                              std::vector<std::pair<std::string, std::string>>& vars) const {
    if (issuer_regex_ && !regex_found(*issuer_regex_, issuer_groups_, iss, vars)) {
        return verify_error::issuer_mismatch;
    }
    if (audience_regex_ && std::none_of(aud.begin(), aud.end(), [&](std::string_view a) {
            return regex_found(*audience_regex_, audience_groups_, a, vars);
        })) {
        return verify_error::audience_mismatch;
    }
    return std::nullopt;
}

boost::system::result<std::string, verify_error>
token_verifier::expand_endpoint(std::string_view iss,
                                const std::vector<std::string_view>& aud) const {
    std::vector<std::pair<std::string, std::string>> vars;
    if (const auto err = template_vars(iss, aud, vars)) {
        return *err;
    }
    std::string url = expand_template(jwks_endpoint_, vars);
    if (!url_is_safe(url)) {
        return verify_error::no_key;
    }
    return url;
}

std::optional<verify_error> token_verifier::check_jwks_signature(std::string_view header_json,
                                                                 std::string_view alg,
                                                                 std::string_view signing_input,
                                                                 std::string_view signature,
                                                                 const std::string& url) const {
    // Only the families a JWKS key can serve; HS* and "none" never cause a fetch.
    const EVP_MD* md = nullptr;
    if (alg != "EdDSA") {
        const auto info = parse_alg(alg);
        if (!info || info->family == alg_family::hs) {
            return verify_error::unsupported_algorithm;
        }
        md = info->md;
    }
    const auto kid = header_kid(header_json);
    if (!kid) {
        return verify_error::malformed;
    }
    if (kid->empty()) {
        return verify_error::no_key; // Centrifugo: "jwks: kid is not provided"
    }
    const auto found = jwks_cache_->lookup(url, *kid);
    if (found.status == jwks_cache::lookup_status::miss) {
        return verify_error::key_unavailable;
    }
    if (found.status == jwks_cache::lookup_status::unknown_kid || !found.key->accepts(alg)) {
        return verify_error::no_key;
    }
    const jwk& key = *found.key;
    switch (key.type) {
    case jwk_type::okp:
        // Ed25519 hashes internally: EVP_DigestVerify with no digest, 64-byte signatures.
        if (signature.size() != 64 ||
            !digest_verify(key.key.get(), nullptr, signature, signing_input)) {
            return verify_error::invalid_signature;
        }
        return std::nullopt;
    case jwk_type::rsa:
        return digest_verify(key.key.get(), md, signature, signing_input)
                   ? std::nullopt
                   : std::optional(verify_error::invalid_signature);
    case jwk_type::ec:
        return check_ecdsa(key.key.get(), key.alg, alg, md, signing_input, signature);
    }
    return verify_error::no_key;
}

boost::system::result<std::string, verify_error>
token_verifier::jwks_url_for(std::string_view token) const {
    if (!jwks_cache_) {
        return verify_error::no_key;
    }
    const auto decoded = decode_jwt(token);
    if (!decoded) {
        return verify_error::malformed;
    }
    const auto parsed = parse_claims(decoded->claims_json);
    if (!parsed) {
        return verify_error::malformed;
    }
    const auto registered = read_registered_claims(parsed->get_object());
    if (!registered) {
        return verify_error::malformed;
    }
    return expand_endpoint(registered->iss, registered->aud);
}

boost::system::result<verified_token, verify_error>
token_verifier::verify(std::string_view token, std::int64_t now_unix) const {
    auto decoded = decode_jwt(token);
    if (!decoded) {
        return verify_error::malformed;
    }
    const bool check_static = !skip_signature_verify_ && !jwks_cache_;
    const bool check_jwks = !skip_signature_verify_ && jwks_cache_;
    if (check_static) {
        if (const auto err = check_signature(
                decoded->alg, decoded->signing_input, decoded->signature, now_unix)) {
            return *err;
        }
    }

    auto parsed = parse_claims(decoded->claims_json);
    if (!parsed) {
        return verify_error::malformed;
    }
    json::object& claims = parsed->get_object();
    const auto registered = read_registered_claims(claims);
    if (!registered) {
        return verify_error::malformed;
    }
    const auto& exp = registered->exp;
    const auto& nbf = registered->nbf;
    const std::string_view iss = registered->iss;
    const std::string_view sub = registered->sub;
    const auto& aud = registered->aud;

    if (check_jwks) {
        // Centrifugo matches the regexes first: their groups may be part of the key's URL.
        const auto url = expand_endpoint(iss, aud);
        if (!url) {
            return url.error();
        }
        if (const auto err = check_jwks_signature(decoded->header_json,
                                                  decoded->alg,
                                                  decoded->signing_input,
                                                  decoded->signature,
                                                  *url)) {
            return *err;
        }
    }

    if (const auto err = check_audience_issuer(iss, aud, !check_jwks)) {
        return *err;
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
