#include "core/log.hpp"

#include <cstdio>

namespace gyre::log {
namespace {

void stderr_sink(level /*lvl*/, std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

std::atomic<sink_fn> current_sink{&stderr_sink};
std::atomic<level> min_level{level::info};

} // namespace

void set_sink(sink_fn sink) noexcept {
    current_sink.store(sink != nullptr ? sink : &stderr_sink);
}

void set_level(level lvl) noexcept {
    min_level.store(lvl, std::memory_order_relaxed);
}

level current_level() noexcept {
    return min_level.load(std::memory_order_relaxed);
}

bool parse_level(std::string_view name, level& out) noexcept {
    if (name == "trace") {
        out = level::trace;
    } else if (name == "debug") {
        out = level::debug;
    } else if (name == "info") {
        out = level::info;
    } else if (name == "warn" || name == "warning") {
        out = level::warn;
    } else if (name == "error" || name == "fatal") {
        out = level::error;
    } else if (name == "none") {
        out = level::none;
    } else {
        return false;
    }
    return true;
}

void write(level lvl, std::string_view line) noexcept {
    try {
        current_sink.load()(lvl, line);
    } catch (...) {
    }
}

} // namespace gyre::log
