// File: engine/redis/resp.hpp
// RESP2 wire helpers: encoding commands as arrays of bulk strings, and an incremental reply
// parser over hiredis' redisReader (only its parser; Gyre does its own networking on Asio).
#pragma once

#include "engine/redis/reply.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace gyre::engine::redis {

/// Appends `*N\r\n$len\r\narg\r\n...` to `out`; binary-safe.
void append_command(std::string& out, const std::vector<std::string>& args);

/// Feeds bytes in, takes whole replies out. Not copyable; one per connection.
class reply_parser {
public:
    reply_parser();
    reply_parser(const reply_parser&) = delete;
    reply_parser& operator=(const reply_parser&) = delete;
    ~reply_parser();

    /// False when the stream is malformed; error() says why and the parser is unusable after.
    bool feed(std::string_view bytes);

    /// The next complete reply, if any. Sets error() and returns nothing on a protocol error.
    std::optional<reply> next();

    const std::string& error() const noexcept { return error_; }

    /// Drops buffered bytes, for a fresh connection.
    void reset();

private:
    redisReader* reader_ = nullptr;
    std::string error_;
};

} // namespace gyre::engine::redis
