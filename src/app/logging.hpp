// File: app/logging.hpp
// Installs the spdlog backend behind core/log.hpp: UTC timestamps, level, then the event's
// "msg key=value" text; to stderr or to log.file.
#pragma once

#include <string>

namespace gyre::app {

/// Throws std::runtime_error if `file` cannot be opened. An unknown level is a config error
/// caught earlier by validation.
void setup_logging(const std::string& level, const std::string& file);

} // namespace gyre::app
