// File: core/log.hpp
// The logging facade every layer uses. Lines are "msg key=value ..." events; the backend
// (spdlog, installed by app/) only receives finished lines, so no other layer sees it.
// Usage: GYRE_LOG_INFO("serving endpoints addr={}", addr);  -- arguments are fmt-formatted,
// and only after the level check, so a disabled level costs one atomic load.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string_view>

namespace gyre::log {

enum class level : int { trace = 0, debug, info, warn, error, none };

/// Receives finished lines; installed once at start-up by app/, before any shard starts.
using sink_fn = void (*)(level, std::string_view);

void set_sink(sink_fn sink) noexcept;
void set_level(level lvl) noexcept;
level current_level() noexcept;

/// Parses Centrifugo's level names (none|trace|debug|info|warn|error, plus fatal as error).
bool parse_level(std::string_view name, level& out) noexcept;

inline bool enabled(level lvl) noexcept {
    return lvl >= current_level() && lvl != level::none;
}

void write(level lvl, std::string_view line) noexcept;

template <typename... Args>
void emit(level lvl, fmt::format_string<Args...> format, Args&&... args) noexcept {
    try {
        fmt::memory_buffer buffer;
        fmt::format_to(std::back_inserter(buffer), format, std::forward<Args>(args)...);
        write(lvl, std::string_view(buffer.data(), buffer.size()));
    } catch (...) { // logging must never take a shard down
    }
}

} // namespace gyre::log

#define GYRE_LOG_AT(lvl, ...)                                                                      \
    do {                                                                                           \
        if (::gyre::log::enabled(lvl)) {                                                           \
            ::gyre::log::emit(lvl, __VA_ARGS__);                                                   \
        }                                                                                          \
    } while (false)
#define GYRE_LOG_TRACE(...) GYRE_LOG_AT(::gyre::log::level::trace, __VA_ARGS__)
#define GYRE_LOG_DEBUG(...) GYRE_LOG_AT(::gyre::log::level::debug, __VA_ARGS__)
#define GYRE_LOG_INFO(...) GYRE_LOG_AT(::gyre::log::level::info, __VA_ARGS__)
#define GYRE_LOG_WARN(...) GYRE_LOG_AT(::gyre::log::level::warn, __VA_ARGS__)
#define GYRE_LOG_ERROR(...) GYRE_LOG_AT(::gyre::log::level::error, __VA_ARGS__)
