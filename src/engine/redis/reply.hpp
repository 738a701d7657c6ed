// File: engine/redis/reply.hpp
// One RESP2 reply as a plain value, so callers never touch hiredis types. Replies are small
// (the engine reads counters, stream entries, presence maps), so copying into owned strings and
// vectors is fine.
#pragma once

#include "core/unique_function.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gyre::engine::redis {

struct reply {
    enum class kind { status, error, integer, bulk, nil, array };

    kind type = kind::nil;
    std::string text; ///< status, error and bulk payloads
    std::int64_t integer = 0;
    std::vector<reply> elements; ///< array items

    static reply make_status(std::string s) { return {kind::status, std::move(s), 0, {}}; }

    static reply make_error(std::string s) { return {kind::error, std::move(s), 0, {}}; }

    static reply make_integer(std::int64_t v) { return {kind::integer, {}, v, {}}; }

    static reply make_bulk(std::string s) { return {kind::bulk, std::move(s), 0, {}}; }

    static reply make_nil() { return {}; }

    static reply make_array(std::vector<reply> items) {
        return {kind::array, {}, 0, std::move(items)};
    }

    bool is_error() const noexcept { return type == kind::error; }

    bool is_nil() const noexcept { return type == kind::nil; }

    bool is_string() const noexcept { return type == kind::bulk || type == kind::status; }
};

/// What a command callback receives. `failure` is set when no reply came back (not connected,
/// connection lost, timeout, AUTH refused): the engine maps it to Centrifugo error 100. A Redis
/// error reply is not a failure here; it arrives as `value` of kind error.
struct command_result {
    reply value;
    std::string failure;

    bool ok() const noexcept { return failure.empty(); }
};

using reply_callback = unique_function<void(command_result)>;

} // namespace gyre::engine::redis
