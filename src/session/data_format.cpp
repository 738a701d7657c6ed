#include "session/data_format.hpp"

#include "protocol/client/json_codec.hpp"

namespace gyre::session {

bool publication_data_fits(std::string_view data, std::string_view format) noexcept {
    namespace json = protocol::client::json;
    if (format == "json") {
        return json::is_valid_json(data);
    }
    if (format == "json_object") {
        // A valid JSON text that opens with '{' is an object.
        const auto first = data.find_first_not_of(" \t\r\n");
        return first != std::string_view::npos && data[first] == '{' && json::is_valid_json(data);
    }
    if (format == "binary") {
        return true;
    }
    return !data.empty();
}

} // namespace gyre::session
