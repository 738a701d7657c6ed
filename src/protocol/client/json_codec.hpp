// File: protocol/client/json_codec.hpp
// JSON client protocol (spec protocol.md §1.3, §2.6): decode client frames into commands, and
// encode replies and pushes as compact JSON byte-compatible with Centrifuge's writer. Raw
// payloads are copied verbatim (only raw '\n' bytes are dropped) and never re-serialised.
// Sans-I/O: no sockets, no Asio; every function is reentrant and shard-agnostic.
#pragma once

#include "protocol/client/codec_error.hpp"
#include "protocol/client/messages.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace gyre::protocol::client::json {

// ---- Server side: decoding ------------------------------------------------------------------

/// Decodes one client->server frame: commands joined by single '\n', at most one trailing '\n'.
/// Errors (all mean disconnect 3501 "bad request"): empty_frame for an empty frame or an
/// empty line, invalid_json, not_object, wrong_type / out_of_range for a known field of the
/// wrong type. Unknown keys are skipped (but must be valid JSON); `null` means absent. Raw
/// payloads (`data`, ...) are copied byte-exactly. Linear in the frame size.
[[nodiscard]] codec_result<std::vector<command>> decode_commands(std::string_view frame);

/// Decodes the bare ConnectRequest of a unidirectional transport (cf_connect, first message or
/// POST body). The literal `null` gives an empty request.
[[nodiscard]] codec_result<connect_request> decode_connect_request(std::string_view text);

/// Decodes a JSON /emulation body; `data` is returned unescaped (a frame for decode_commands).
[[nodiscard]] codec_result<emulation_request> decode_emulation_request(std::string_view body);

// ---- Server side: encoding ------------------------------------------------------------------
// All append_* functions append exactly one compact JSON object (no separator: join several
// with '\n' in one frame) and leave `out` unchanged on error. The only error is
// codec_error::invalid_payload: a raw payload is not valid JSON (e.g. binary data from a
// Protobuf publisher); the session then disconnects with 3506 "inappropriate protocol".

/// A command reply (id plus error or result; the result is emitted even when empty, e.g.
/// {"id":2,"subscribe":{}}), a push inside a Reply ({"push":{...}}), or a ping ({}).
[[nodiscard]] codec_result<void> append_reply(std::string& out, const reply& r);

/// `{"push":{...}}` (bidirectional) or the bare Push object (unidirectional; an empty push is
/// the unidirectional ping `{}`).
[[nodiscard]] codec_result<void> append_push(std::string& out, const push& p, push_form form);

/// The publication push of `channel` without building a `push` (no copy of the payload).
[[nodiscard]] codec_result<void> append_publication_push(std::string& out,
                                                         std::string_view channel,
                                                         const publication& pub,
                                                         push_form form);

/// Complete frame bytes of one publication push, built once and shared by every JSON
/// subscriber of the channel (fan-out: encode once per publication and form).
[[nodiscard]] codec_result<std::string>
encode_publication_push(std::string_view channel, const publication& pub, push_form form);

/// Convenience: one reply as its own string.
[[nodiscard]] codec_result<std::string> encode_reply(const reply& r);

/// The server ping (an empty Reply; on unidirectional transports an empty Push).
inline constexpr std::string_view ping_frame = "{}";

// ---- Client side (tests, tools, benchmarks) -------------------------------------------------

/// Appends one command object (id first, then its request).
[[nodiscard]] codec_result<void> append_command(std::string& out, const command& c);

/// Decodes a server->client frame of '\n'-joined replies.
[[nodiscard]] codec_result<std::vector<reply>> decode_replies(std::string_view frame);

/// Decodes one bare Push object (unidirectional transports).
[[nodiscard]] codec_result<push> decode_push(std::string_view text);

// ---- Helpers --------------------------------------------------------------------------------

/// True when `text` is one valid JSON value (surrounding whitespace allowed).
bool is_valid_json(std::string_view text) noexcept;

/// Appends `text` as a JSON string literal, escaped as Centrifuge escapes (", \, control
/// characters, <, >, &, U+2028/2029). Invalid UTF-8 becomes \ufffd; returns false if that
/// happened (e.g. a fossil delta for a JSON delta subscriber must then be sent as full data).
bool append_string(std::string& out, std::string_view text);

} // namespace gyre::protocol::client::json
