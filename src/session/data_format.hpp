// File: session/data_format.hpp
// `publication_data_format` (a namespace's, or `channel.publication_data_format` for namespaces
// that leave it empty): what publication data a channel accepts, checked on client publishes
// and API publishes/broadcasts alike; data that does not fit is a bad request (107). Pure.
#pragma once

#include <string_view>

namespace gyre::session {

/// Centrifugo's rules: "" rejects empty data, "json" wants a JSON value, "json_object" a JSON
/// object, "binary" takes anything, empty data included.
bool publication_data_fits(std::string_view data, std::string_view format) noexcept;

} // namespace gyre::session
