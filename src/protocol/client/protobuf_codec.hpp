// File: protocol/client/protobuf_codec.hpp
// Protobuf client protocol (spec protocol.md §1.3, §2), hand-rolled on the wire format with the
// field numbers of centrifugal/protocol client.proto; no libprotobuf. Frames are concatenated
// messages, each prefixed by its length as a varint. Unknown fields are skipped (forward
// compatibility); malformed or truncated input is an error value. Sans-I/O and reentrant.
#pragma once

#include "protocol/client/codec_error.hpp"
#include "protocol/client/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::protocol::client::protobuf {

/// How one encoded message is framed: bare (gRPC, an EmulationRequest body, or when the
/// transport adds the prefix itself) or prefixed with its varint length (WebSocket,
/// HTTP-streaming: what every SDK expects, §1.3).
enum class framing : std::uint8_t { bare, delimited };

/// Centrifuge's default message size limit; declared lengths above the limit are refused
/// before anything is allocated.
inline constexpr std::size_t default_max_message_size = 65536;

// ---- Server side: decoding ------------------------------------------------------------------

/// Decodes one client->server frame of varint-delimited Commands (a pong is the byte 0x00).
/// Errors (all mean disconnect 3501): empty_frame (no bytes), bad_varint, truncated,
/// too_large (a declared length above max_message_size), bad_tag, wrong_type (a known field
/// with another wire type), too_deep. Linear in the frame size.
[[nodiscard]] codec_result<std::vector<command>>
decode_commands(std::string_view frame, std::size_t max_message_size = default_max_message_size);

/// Decodes one bare Command message (no length prefix).
[[nodiscard]] codec_result<command> decode_command(std::string_view message);

/// Decodes the bare ConnectRequest a unidirectional gRPC client sends.
[[nodiscard]] codec_result<connect_request> decode_connect_request(std::string_view message);

/// Decodes a Protobuf /emulation body (one bare EmulationRequest); `data` holds
/// varint-delimited commands for decode_commands.
[[nodiscard]] codec_result<emulation_request> decode_emulation_request(std::string_view body);

// ---- Server side: encoding ------------------------------------------------------------------
// Encoders size the message first and append it with one allocation at most; they cannot fail.
// Proto3 rules: zero scalars and empty strings are omitted, but a present message is always
// written, so an empty result is `tag 00` (e.g. Reply{id:2, subscribe:{}} = 08 02 32 00).

/// A command reply, a push wrapped in a Reply, or a ping (an empty Reply: 00 when delimited).
void append_reply(std::string& out, const reply& r, framing f);

/// Reply{push} (bidirectional) or the bare Push (unidirectional; empty = uni ping).
void append_push(std::string& out, const push& p, push_form form, framing f);

/// The publication push of `channel` without building a `push` (no copy of the payload).
void append_publication_push(
    std::string& out, std::string_view channel, const publication& pub, push_form form, framing f);

/// Complete bytes of one publication push, built once and shared by every Protobuf
/// subscriber of the channel.
[[nodiscard]] std::string encode_publication_push(std::string_view channel,
                                                  const publication& pub,
                                                  push_form form,
                                                  framing f);

/// A bare Publication message: what nodes exchange through a broker (Centrifuge's Redis
/// broker publishes `__p1:<offset>:<epoch>__` followed by these bytes).
void append_publication(std::string& out, const publication& pub);

/// Decodes a bare Publication message (from a broker).
[[nodiscard]] codec_result<publication> decode_publication(std::string_view message);

/// A bare ClientInfo message (presence entries a broker keeps).
void append_client_info(std::string& out, const client_info& info);
[[nodiscard]] codec_result<client_info> decode_client_info(std::string_view message);

/// Convenience: one reply as its own string.
[[nodiscard]] std::string encode_reply(const reply& r, framing f);

// ---- Client side (tests, tools, benchmarks) -------------------------------------------------

void append_command(std::string& out, const command& c, framing f);

/// Decodes a server->client frame of varint-delimited Replies.
[[nodiscard]] codec_result<std::vector<reply>>
decode_replies(std::string_view frame, std::size_t max_message_size = default_max_message_size);

/// Decodes one bare Push message (unidirectional gRPC).
[[nodiscard]] codec_result<push> decode_push(std::string_view message);

// ---- Framing helpers ------------------------------------------------------------------------

/// Appends `v` as an unsigned LEB128 varint (1-10 bytes).
void append_varint(std::string& out, std::uint64_t v);

/// One message cut from the front of a byte stream.
struct delimited_message {
    std::string_view message; ///< the message bytes, without the prefix
    std::size_t consumed;     ///< prefix + message bytes to drop from the stream
};

/// For streams that arrive in chunks: the first complete varint-delimited message in
/// `buffer`, std::nullopt when more bytes are needed, or bad_varint / too_large.
[[nodiscard]] codec_result<std::optional<delimited_message>>
next_delimited(std::string_view buffer, std::size_t max_message_size = default_max_message_size);

} // namespace gyre::protocol::client::protobuf
