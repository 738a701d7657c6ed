// File: config/duration.hpp
// Go-style durations as Centrifugo writes them ("25s", "1m30s", "500ms", "720h"); a bare number
// means nanoseconds, as in Centrifugo's JSON. format_duration prints the Go form ("25s").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gyre::config {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::nanoseconds d);

} // namespace gyre::config
