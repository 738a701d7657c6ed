// File: config/load.hpp
// Builds a validated config from (lowest to highest precedence) defaults, a config file,
// environment variables (CENTRIFUGO_<PATH>, then GYRE_<PATH>) and command-line overrides.
// Legacy flat keys (token_hmac_secret_key, api_key, ...) are mapped onto the v6 tree; a nested
// key given too wins, with a warning. Errors throw config_error naming key, value and expectation.
#pragma once

#include "config/config.hpp"
#include "config/error.hpp"
#include "config/unsupported.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <utility>
#include <vector>

namespace gyre::config {

enum class file_format { json, yaml, toml };

/// The format a file name implies (.json, .yaml/.yml, .toml); nullopt for anything else.
std::optional<file_format> format_for_path(std::string_view path);

struct load_options {
    std::string file;           ///< empty: no file
    bool file_required = false; ///< a missing file is a warning unless required
    std::vector<std::pair<std::string, std::string>> environment; ///< NAME=value pairs
    std::vector<std::pair<std::string, std::string>> overrides;   ///< dotted path -> raw value
};

struct load_result {
    config cfg;
    std::vector<std::string> warnings;
    /// Keys set to a non-default value that this build does not act on (or must refuse).
    std::vector<unsupported_finding> unsupported;
    bool file_found = false;
};

/// Full pipeline: merge, check, bind, validate. Throws config_error.
load_result load(const load_options& options);

/// Parses text in the given format into a JSON tree (YAML and TOML are converted).
boost::json::object parse_text(std::string_view text, file_format format, std::string_view origin);

/// Rewrites legacy flat keys of a file tree into the v6 layout, adding warnings.
void apply_legacy_keys(boost::json::object& file_tree, std::vector<std::string>& warnings);

/// Renames legacy channel-option names (history_lifetime in seconds, anonymous, ...) in place.
void rename_legacy_channel_options(boost::json::object& options);

/// The one-to-one legacy renames (flat key -> v6 path), for documentation and tests.
std::vector<std::pair<std::string, std::string>> legacy_renames();

/// Checks `given` against the schema, coercing scalars to the schema's kinds and merging into
/// `target`. Unknown keys become warnings. Throws config_error on a wrong type.
void merge_checked(boost::json::object& target,
                   const boost::json::object& given,
                   std::vector<std::string>& warnings);

/// Binds a merged tree to the typed config and validates it (Centrifugo's start-up rules).
config bind_and_validate(const boost::json::object& tree);

/// Renders a tree as a config file (pretty JSON, YAML or TOML).
std::string render(const boost::json::object& tree, file_format format);

/// The process environment as NAME=value pairs.
std::vector<std::pair<std::string, std::string>> process_environment();

} // namespace gyre::config
