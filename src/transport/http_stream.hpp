// File: transport/http_stream.hpp
// The HTTP transports that stream server->client over one long response: bidirectional
// emulation (http_stream: a POST whose body is the connect command, replies as '\n'-ended JSON
// or length-prefixed Protobuf; sse: GET ?cf_connect= or POST, replies as `data:` events, JSON
// only; later commands arrive through /emulation) and the unidirectional uni_http_stream and
// uni_sse (a bare ConnectRequest in, bare pushes out). They share the session, the outbox and
// socket_connection's gathered writes; each batch leaves as one HTTP chunk.
#pragma once

#include "runtime/shard_set.hpp"
#include "transport/socket_connection.hpp"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gyre::transport {

enum class stream_kind : std::uint8_t { http_stream, sse, uni_http_stream, uni_sse };

/// What the stream needs of the HTTP request that opens it.
struct stream_request {
    std::string method;
    std::string query; ///< after '?', not decoded
    std::string content_type;
    std::string body;
    bool http11 = true; ///< HTTP/1.1: chunked body; HTTP/1.0: the body ends with the connection
    /// Extra response headers (CORS), sent with the stream's head.
    std::vector<std::pair<std::string, std::string>> headers;
    /// The request's own headers (proxies may forward some).
    std::vector<std::pair<std::string, std::string>> request_headers;
};

/// An answer given instead of a stream (bad request, wrong method).
struct stream_refusal {
    unsigned status = 400;
    std::string body;
};

/// Checks a request for a stream endpoint before the connection is taken over: nullopt means
/// open the stream with start_stream(). Method and connect-request errors get Centrifugo's
/// statuses (405, 400); body size limits are applied while reading (413).
std::optional<stream_refusal> check_stream(stream_kind kind, const stream_request& request);

/// Takes over the connection `fd` on `shard` (its own shard) and starts the stream's session.
void start_stream(
    const endpoint& ep, std::size_t shard, int fd, stream_kind kind, stream_request request);

/// The /emulation POST (method and size already checked): decodes the EmulationRequest (JSON,
/// or Protobuf when Content-Type is exactly application/octet-stream) and hands its commands to
/// the session, on this node or, over the control channel, on the node it names. Returns the
/// HTTP status: 204 (an unknown session is ignored, as in Centrifuge), 400 for a body that does
/// not decode, 404 for a node that is neither this one nor one heard from.
unsigned handle_emulation(const endpoint& ep,
                          std::size_t shard,
                          std::string_view content_type,
                          std::string_view body);

/// Centrifugo's origin rule (client.allowed_origins): no Origin header passes (non-browser
/// clients); otherwise a glob pattern must match; an empty list authorizes no browser origin.
bool origin_allowed(const std::vector<std::string>& patterns, std::string_view origin);

/// The emulated sessions of this node, per shard, so that /emulation requests reach their
/// stream. A session id names its shard, so delivery needs no lock shared by all threads.
class emulation_sessions {
public:
    explicit emulation_sessions(runtime::shard_set& shards);

    /// Any thread: hands `data` (commands, JSON text or varint-delimited Protobuf) to the
    /// session `id` on its shard; an unknown or ended session is ignored, as Centrifuge does.
    void deliver(const std::string& id, std::string data, bool binary);

    /// The stream behind a session id.
    class entry {
    public:
        virtual void receive(std::string_view data, bool binary) = 0;

    protected:
        entry() = default;
        entry(const entry&) = default;
        entry& operator=(const entry&) = default;
        ~entry() = default;
    };

    /// Shard-local bookkeeping, used by the streams.
    std::string add(std::size_t shard, std::weak_ptr<entry> stream);
    void remove(std::size_t shard, const std::string& id);

    /// Shard-local: how many sessions are registered on `shard` (tests count leaks).
    std::size_t size(std::size_t shard) const { return per_shard_[shard].size(); }

private:
    runtime::shard_set& shards_;
    std::vector<std::unordered_map<std::string, std::weak_ptr<entry>>> per_shard_;
};

} // namespace gyre::transport
