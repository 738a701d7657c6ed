// File: auth/jwks.hpp
// JSON Web Key Sets for token verification, sans I/O: jwk_set parses a JWKS document that some
// other layer fetched (HTTP GET), jwks_cache keeps the keys per endpoint URL the way Centrifugo's
// internal/jwks manager does (one entry per URL and kid, kept one hour after its last use), and
// coalesces concurrent fetches of one URL. token_verifier (auth/token_verifier.hpp) reads it.
#pragma once

#include "core/unique_function.hpp"

#include <boost/system/result.hpp>
#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gyre::auth {

enum class jwk_type : std::uint8_t {
    rsa, ///< kty "RSA": RS256/RS384/RS512
    ec,  ///< kty "EC", crv P-256/P-384/P-521: ES256/ES384/ES512 (the one that fits the curve)
    okp, ///< kty "OKP", crv Ed25519: EdDSA
};

/// One usable public signing key from a JWKS. Immutable once built; the EVP_PKEY is only read,
/// so one key may verify on several threads at once.
struct jwk {
    std::string kid;
    jwk_type type = jwk_type::rsa;
    /// The JWS algorithm the key serves: the JWK "alg" for RSA ("" = any of RS256/384/512, as
    /// RFC 7517 makes "alg" optional), the curve's ES algorithm for EC, "EdDSA" for OKP.
    std::string alg;
    std::shared_ptr<EVP_PKEY> key;

    /// Whether a token whose header says `token_alg` may be checked with this key: the same
    /// rules as Centrifugo (a key "alg" must equal the token's; RSA keys serve only RS*, EC keys
    /// only their curve's ES*, Ed25519 keys only EdDSA).
    bool accepts(std::string_view token_alg) const noexcept;
};

/// The keys of one JWKS document ({"keys":[...]}, RFC 7517 section 5).
class jwk_set {
public:
    /// Parses a JWKS document. A key is kept when it is a signing key ("use":"sig"; Centrifugo
    /// ignores keys without it), has a non-empty "kid", carries no private part ("d") and is an
    /// RSA key (n, e; modulus of at least 1024 bits, odd exponent, as Go's crypto/rsa
    /// requires), an EC key on P-256/P-384/P-521 (x, y of the curve's size, on the curve) or an
    /// Ed25519 OKP key (x). Anything else is skipped, so one exotic key does not take the rest
    /// down (Centrifugo would reject the whole document). Of several keys with one kid the last
    /// wins. The error (a short text) is for documents that are not a JSON object with a "keys"
    /// array of objects. Use `*r` / `r->` rather than r.value() (the error is a std::string).
    [[nodiscard]] static boost::system::result<jwk_set, std::string> parse(std::string_view text);

    /// The key with this kid, or nullptr.
    const jwk* find(std::string_view kid) const noexcept;

    const std::vector<std::shared_ptr<const jwk>>& keys() const noexcept { return keys_; }

    std::size_t size() const noexcept { return keys_.size(); }

    bool empty() const noexcept { return keys_.empty(); }

private:
    std::vector<std::shared_ptr<const jwk>> keys_; ///< distinct kids
};

namespace detail {

/// Transparent hashing so the maps below can be searched with a std::string_view.
struct string_hash {
    using is_transparent = void;

    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

} // namespace detail

/// Thread-safe cache of JWKS keys per endpoint URL (the URL after template expansion, so keys of
/// one tenant never answer for another), with Centrifugo's expiry: a key is dropped one hour
/// (`ttl`) after it was last stored or looked up. Centrifugo fetches again for every kid it has
/// not cached; here an unknown kid triggers a new fetch only when the URL was last stored at
/// least `min_refetch_interval` ago, which still picks up rotated keys but bounds the fetches a
/// client can cause with made-up kids. Shared by all shards (one mutex, held briefly).
class jwks_cache {
public:
    using clock = std::chrono::steady_clock;

    /// Centrifugo's internal/jwks `_defaultTTL`.
    static constexpr clock::duration default_ttl = std::chrono::hours(1);
    static constexpr clock::duration default_min_refetch_interval = std::chrono::seconds(1);

    struct options {
        clock::duration ttl = default_ttl;
        clock::duration min_refetch_interval = default_min_refetch_interval;
        std::function<clock::time_point()> now; ///< for tests; empty = clock::now
    };

    enum class lookup_status : std::uint8_t {
        hit,         ///< `key` is set
        miss,        ///< nothing fresh enough for this URL and kid: fetch the URL
        unknown_kid, ///< the URL was fetched moments ago and has no such kid: give up
    };

    struct lookup_result {
        lookup_status status = lookup_status::miss;
        std::shared_ptr<const jwk> key;
    };

    jwks_cache();
    explicit jwks_cache(options opts);

    /// Finds the key; a hit keeps it for another `ttl`.
    lookup_result lookup(std::string_view url, std::string_view kid);

    /// Caches every key of `set` (fetched from `url`) for `ttl`, notes when `url` was fetched,
    /// drops expired keys, and completes a fetch started with begin_fetch(): its callbacks run
    /// with `true` on this thread, after the lock is released.
    void store(std::string_view url, const jwk_set& set);

    /// Coalesces fetches, like Centrifugo's singleflight. Queues `on_done` until the fetch of
    /// `url` ends, and returns true when the caller is the first to ask and must fetch now,
    /// then call store() (or fetch_failed()) in every case, or the waiters hang. `on_done(bool
    /// stored)` runs on the thread that calls store()/fetch_failed(), so it should only hand
    /// the result back to its own shard (and must not throw).
    bool begin_fetch(std::string_view url, unique_function<void(bool)> on_done);

    /// Ends a fetch that produced nothing usable (network error, status other than 200, a
    /// document jwk_set::parse refused): the callbacks run with `false`, and the next lookup
    /// may start another fetch.
    void fetch_failed(std::string_view url);

    /// How many keys are cached, expired ones not yet swept included.
    std::size_t size() const;

private:
    struct key_entry {
        std::shared_ptr<const jwk> key;
        clock::time_point expires_at;
    };

    struct url_entry {
        std::unordered_map<std::string, key_entry, detail::string_hash, std::equal_to<>> keys;
        clock::time_point stored_at{};
        bool has_stored = false;
        bool is_fetching = false;
        std::vector<unique_function<void(bool)>> waiters;
    };

    clock::time_point now() const;
    void finish_fetch(std::string_view url, bool stored, const jwk_set* set);

    options opts_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, url_entry, detail::string_hash, std::equal_to<>> urls_;
};

} // namespace gyre::auth
