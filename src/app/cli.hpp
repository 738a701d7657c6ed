// File: app/cli.hpp
// The command line, shaped like Centrifugo's: the root command runs the server; subcommands
// genconfig, checkconfig, defaultconfig, gentoken, checktoken, version, serve.
#pragma once

namespace gyre::app {

/// Parses argv and runs the chosen command; returns the process exit code.
int run_cli(int argc, char** argv);

} // namespace gyre::app
