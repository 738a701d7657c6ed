// File: api/json.hpp
// The server API's JSON wire format, as Centrifugo's HTTP API speaks it: request bodies of
// `POST /api/<method>`, the legacy `POST /api` command stream, and the replies of both. Keys
// match case-insensitively and unknown keys are ignored (Go's encoding/json does both); a field
// of the wrong type fails the whole body. Raw payloads are kept byte-exact. Sans-I/O.
#pragma once

#include "api/messages.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::api::json {

/// The body of `POST /api/<method>`: one JSON value (`null` gives an empty request). nullopt
/// for invalid JSON, a non-object or a field of the wrong type (the caller answers HTTP 400).
std::optional<request> decode_request(method m, std::string_view body);

/// One command of the legacy `/api` format, decoded down to its request (or the per-command
/// error: 104 for a method Gyre does not serve, 107 for params that do not decode).
struct legacy_command {
    std::uint32_t id = 0;
    std::variant<request, error> what;
};

/// Every command of a legacy body (JSON objects one after another, normally '\n'-separated).
/// nullopt when any of them is not valid JSON or names an unknown method string (HTTP 400).
std::optional<std::vector<legacy_command>> decode_legacy(std::string_view body);

/// `{"result":{...}}` or `{"error":{...}}`; a batch is `{"replies":[...]}` unwrapped. False
/// when a stored raw payload is not valid JSON (the caller answers HTTP 500).
bool append_reply(std::string& out, const reply& r);

/// A legacy reply line: `{"id":1,"result":{...}}` or `{"id":1,"error":{...}}` (id omitted when 0).
bool append_legacy_reply(std::string& out, std::uint32_t id, const reply& r);

/// `{"code":107,"message":"bad request"}`: the body of a transport-mode error.
void append_error(std::string& out, const error& e);

} // namespace gyre::api::json
