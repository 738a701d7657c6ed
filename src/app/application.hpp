// File: app/application.hpp
// The composition root: loads the config, builds shards, routes and listeners, serves until
// SIGINT/SIGTERM (graceful, bounded by shutdown.timeout), reloads on SIGHUP.
#pragma once

#include "config/load.hpp"

#include <string>

namespace gyre::app {

/// Runs the server; returns the process exit code (1 on a config or listen error).
int run_server(const config::load_options& options);

/// Runs `gyre serve`: static files from `dir` on `address:port` until SIGINT/SIGTERM.
int run_static_server(const std::string& dir, const std::string& address, std::uint16_t port);

} // namespace gyre::app
