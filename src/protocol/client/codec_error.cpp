#include "protocol/client/codec_error.hpp"

#include <stdexcept>
#include <string>

namespace gyre::protocol::client {

std::string_view to_string(codec_error e) noexcept {
    switch (e) {
    case codec_error::empty_frame:
        return "empty frame or line";
    case codec_error::invalid_json:
        return "invalid JSON";
    case codec_error::not_object:
        return "not a JSON object";
    case codec_error::wrong_type:
        return "field has the wrong type";
    case codec_error::out_of_range:
        return "integer out of range";
    case codec_error::truncated:
        return "truncated input";
    case codec_error::bad_varint:
        return "malformed varint";
    case codec_error::bad_tag:
        return "malformed field tag";
    case codec_error::too_large:
        return "message too large";
    case codec_error::too_deep:
        return "nesting too deep";
    case codec_error::invalid_payload:
        return "payload is not valid JSON";
    }
    return "unknown codec error";
}

void throw_exception_from_error(codec_error e, const boost::source_location& loc) {
    throw std::runtime_error(std::string("protocol codec: ") + std::string(to_string(e)) + " at " +
                             loc.file_name() + ":" + std::to_string(loc.line()));
}

} // namespace gyre::protocol::client
