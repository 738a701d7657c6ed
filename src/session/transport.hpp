// File: session/transport.hpp
// What a session needs from its transport (WebSocket, HTTP-streaming, SSE, and their
// unidirectional forms): write a batch of encoded messages as one frame, close with a
// disconnect, and run work later on the same shard. Implemented in transport/; called only on
// the connection's shard.
#pragma once

#include "core/shared_bytes.hpp"
#include "core/unique_function.hpp"
#include "hub/prepared_push.hpp"
#include "model/disconnect.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gyre::session {

class transport {
public:
    /// JSON or Protobuf framing for this connection (fixed at upgrade time).
    virtual hub::wire wire_format() const noexcept = 0;

    /// "websocket", "sse", ... as Centrifugo names transports.
    virtual std::string_view name() const noexcept = 0;

    /// Unidirectional transports: the client sends one bare ConnectRequest and nothing else;
    /// the server sends bare pushes (wire_format() is json_unidirectional), starting with a
    /// connect push, and connect errors become disconnects.
    virtual bool unidirectional() const noexcept { return false; }

    /// Unidirectional HTTP transports with `connect_code_to_http_response` enabled answer a
    /// refused connect (`code` and `message`: the error's or the disconnect's) with an HTTP
    /// status instead of a stream, and return true; false: the session sends a disconnect.
    virtual bool refuse_connect(std::uint32_t /*code*/, std::string_view /*message*/) {
        return false;
    }

    /// Headers of the client's connection request (the WebSocket upgrade, the stream request)
    /// that some proxy forwards (`http_headers`), names lower-case; kept from the start.
    virtual const std::vector<std::pair<std::string, std::string>>&
    request_headers() const noexcept {
        static const std::vector<std::pair<std::string, std::string>> none;
        return none;
    }

    /// client.user_id_http_header: that header's value in the connection request, the user a
    /// gateway in front of Gyre authenticated. Empty when not configured or absent.
    virtual const std::string& header_user() const noexcept {
        static const std::string none;
        return none;
    }

    /// Emulation (HTTP-streaming, SSE): the session id that the client's /emulation requests
    /// name, given to it in the connect reply with the node id. Empty for other transports.
    virtual const std::string& emulation_session() const noexcept {
        static const std::string none;
        return none;
    }

    /// Writes `messages` as one frame: JSON messages joined by '\n'; Protobuf messages already
    /// carry their length prefix. Called only when no write is in flight; the transport calls
    /// session::on_write_done() when the write completes.
    /// The transport takes the messages and leaves `messages` empty (possibly with capacity
    /// to reuse).
    virtual void write(std::vector<shared_bytes>& messages) = 0;

    /// Sends the disconnect (close frame with code and reason) after the write in flight, then
    /// ends the connection. Idempotent. Copies `d.reason` (API disconnects carry their own).
    virtual void close(model::disconnect d) = 0;

    /// Runs `fn` on this shard after the current handler returns (coalescing point for writes).
    virtual void defer(unique_function<void()> fn) = 0;

    /// Asks for session::tick() no later than `when` (a deadline moved earlier: a refresh, a
    /// subscription with an expiry). Ticks are otherwise scheduled by what tick() returns.
    virtual void wake_at(std::chrono::steady_clock::time_point when) = 0;

protected:
    transport() = default;
    transport(const transport&) = default;
    transport& operator=(const transport&) = default;
    ~transport() = default;
};

} // namespace gyre::session
