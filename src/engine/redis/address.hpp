// File: engine/redis/address.hpp
// Centrifugo's Redis address strings (Centrifugo's internal/redisshard optionsFromAddress):
//   host:port
//   tcp://, redis://, rediss://   [user:pass@]host:port[/db]           (rediss = TLS)
//   unix://[user:pass@]/path
//   redis+sentinel://, rediss+sentinel://   [user:pass@]host:port[/db]?sentinel_master_name=M
//   redis+cluster://[user:pass@]host:port
//   redis://host1:port1?addr=host2:port2&addr=...   (any non-unix scheme: Cluster seeds)
// Query parameters: connect_timeout, io_timeout, tls_enabled, force_resp2, replica_client_enabled,
// addr (repeatable: more sentinels or cluster seeds), sentinel_master_name, sentinel_user,
// sentinel_password, sentinel_tls_enabled. As in Centrifugo, sentinel_master_name on a plain
// redis:// address also selects Sentinel mode, and addr= seeds on a plain address without it
// select Cluster mode (Centrifugo's client takes several seeds for a Cluster).
//
// The config layer may fill the rest afterwards: Centrifugo's `tls` / `sentinel_tls` objects
// (when enabled, they replace `tls` / `sentinel_tls` here wholesale: a configured TLS setup wins
// over the default one rediss:// implies), and `sentinel_address` / `cluster_address` lists
// (set `mode` and `seeds`, host/port to seeds.front()).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gyre::engine::redis {

struct endpoint {
    std::string host;
    std::uint16_t port = 6379;

    /// "host:port", "[v6]:port" for IPv6 literals.
    std::string describe() const;

    friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// Centrifugo's TLS object (configtypes.TLSConfig), client side. The *_pem fields take what
/// Centrifugo's PEMData takes: PEM text, base64-encoded PEM, or a path to a PEM file.
struct tls_options {
    bool enabled = false;
    std::string server_ca_pem; ///< CAs that verify the server; empty = the system's CAs
    std::string cert_pem;      ///< client certificate (mutual TLS), with key_pem
    std::string key_pem;
    bool insecure_skip_verify = false; ///< no chain or host name check (testing only)
    std::string server_name;           ///< SNI and the name checked; empty = the host dialled

    friend bool operator==(const tls_options&, const tls_options&) = default;
};

enum class address_mode {
    standalone, ///< one server at host:port (or unix_path)
    sentinel,   ///< ask the Sentinels in `seeds` where master `sentinel_master_name` is
    cluster,    ///< Redis Cluster discovered from the nodes in `seeds` (parsed only, here)
};

struct address {
    address_mode mode = address_mode::standalone;
    /// standalone: the server. sentinel/cluster: seeds.front(), for logs only.
    std::string host; ///< empty for unix sockets
    std::uint16_t port = 6379;
    std::string unix_path; ///< set for unix:// addresses
    /// sentinel: the Sentinels to ask, in order; cluster: the seed nodes. The URL's host:port
    /// comes first, then each `addr=` parameter. Empty for standalone.
    std::vector<endpoint> seeds;
    std::string user; ///< for the data nodes (the master, in Sentinel mode)
    std::string password;
    int db = 0;
    std::chrono::milliseconds connect_timeout{1000}; ///< Centrifugo default "1s"
    std::chrono::milliseconds io_timeout{4000};      ///< Centrifugo default "4s"
    tls_options tls;                                 ///< to the data nodes
    std::string client_name;             ///< CLIENT SETNAME on each connection ("" = none)
    bool force_resp2 = false;            ///< accepted for compatibility; Gyre speaks RESP2
    bool replica_client_enabled = false; ///< parsed; replica reads are not implemented
    /// Cluster mode chosen from addr= seeds on a plain scheme (not redis+cluster://): start-up
    /// checks that the seeds are Cluster nodes, as Centrifugo's client refuses them otherwise.
    bool cluster_from_seeds = false;

    std::string sentinel_master_name;
    std::string sentinel_user;
    std::string sentinel_password;
    std::string sentinel_client_name; ///< CLIENT SETNAME on connections to the Sentinels
    tls_options sentinel_tls;
    /// Gyre-only: how often a Sentinel-mode link asks where the master is, besides listening
    /// for +switch-master (a missed event must not leave a node deaf, Centrifugo issue #1189).
    std::chrono::milliseconds sentinel_check_interval{5000};

    bool is_unix() const noexcept { return !unix_path.empty(); }

    bool is_sentinel() const noexcept { return mode == address_mode::sentinel; }

    bool is_cluster() const noexcept { return mode == address_mode::cluster; }

    /// "host:port", "unix:/path", "sentinel mymaster@h1:p1,h2:p2" or "cluster h1:p1,h2:p2";
    /// never includes a password.
    std::string describe() const;
};

struct address_error {
    std::string message;
};

std::variant<address, address_error> parse_address(std::string_view text);

} // namespace gyre::engine::redis
