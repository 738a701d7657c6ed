// File: protocol/client/codec_error.hpp
// Why client-protocol bytes could not be decoded (or a payload could not be embedded). Values,
// not exceptions: decoders return codec_result<T>. The session answers any decode error with
// disconnect 3501 "bad request", and codec_error::invalid_payload on encode with 3506.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string_view>

namespace gyre::protocol::client {

enum class codec_error : std::uint8_t {
    // Decoding (all map to disconnect 3501 "bad request").
    empty_frame = 1, ///< empty frame, or an empty line between JSON commands
    invalid_json,    ///< not well-formed JSON: syntax, bad escape, invalid UTF-8, trailing bytes
    not_object,      ///< a command or message is not a JSON object (and not an allowed null)
    wrong_type,      ///< a known field holds the wrong JSON type or the wrong protobuf wire type
    out_of_range,    ///< an integer does not fit its field, or is not an integer
    truncated,       ///< protobuf: a length, field or message runs past the end of the input
    bad_varint,      ///< protobuf: varint longer than 10 bytes or above 64 bits
    bad_tag,         ///< protobuf: field number 0, wire type 6/7, or an unmatched group end
    too_large,       ///< a declared length is above the caller's limit
    too_deep,        ///< nesting deeper than the decoder allows
    // Encoding.
    invalid_payload, ///< JSON: a raw payload is not valid JSON (session: disconnect 3506)
};

/// Short text for logs, e.g. "truncated input".
std::string_view to_string(codec_error e) noexcept;

/// Lets codec_result<T>::value() throw (a std::runtime_error). Only for tests and start-up code.
[[noreturn]] void throw_exception_from_error(codec_error e, const boost::source_location& loc);

template <class T>
using codec_result = boost::system::result<T, codec_error>;

} // namespace gyre::protocol::client
