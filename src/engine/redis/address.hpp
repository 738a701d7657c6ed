// File: engine/redis/address.hpp
// Centrifugo's Redis address strings: "host:port", "tcp://host:port",
// "redis://[user:pass@]host:port[/db]", "unix://[user:pass@]/path", with the query parameters
// connect_timeout and io_timeout. TLS, Cluster and Sentinel schemes are recognised so the user
// gets "not supported yet" instead of a confusing parse error.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace gyre::engine::redis {

struct address {
    std::string host; ///< empty for unix sockets
    std::uint16_t port = 6379;
    std::string unix_path; ///< set for unix:// addresses
    std::string user;
    std::string password;
    int db = 0;
    std::chrono::milliseconds connect_timeout{1000}; ///< Centrifugo default "1s"
    std::chrono::milliseconds io_timeout{4000};      ///< Centrifugo default "4s"

    bool is_unix() const noexcept { return !unix_path.empty(); }

    /// "host:port" or "unix:/path", for logs; never includes the password.
    std::string describe() const;
};

struct address_error {
    std::string message;
};

std::variant<address, address_error> parse_address(std::string_view text);

} // namespace gyre::engine::redis
