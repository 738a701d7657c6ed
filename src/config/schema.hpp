// File: config/schema.hpp
// The configuration schema is the tree of defaults: every known key with its default value,
// exactly what `gyre defaultconfig` prints. A key's kind is read off its default (bool, integer,
// string, list, free-form map); strings whose default looks like "25s" are durations.
// Arrays of objects (namespaces, proxies, ...) name their item schema in item_schema().
#pragma once

#include <boost/json/value.hpp>

#include <string_view>

namespace gyre::config {

/// The full default configuration tree (Centrifugo v6 layout). Built once, immutable.
const boost::json::object& default_tree();

/// Item schema for arrays of objects at `path` (e.g. "channel.namespaces"), or nullptr when the
/// array holds plain strings.
const boost::json::object* item_schema(std::string_view path);

/// Channel options with their defaults: the shape of channel.without_namespace and each namespace.
const boost::json::object& channel_options_schema();

/// True for paths whose value is a duration ("25s", "1000ms", or a JSON number of nanoseconds).
bool is_duration_path(std::string_view path);

/// True for `channels`: a map of channel name -> channel options (only those given are kept).
bool is_named_channels_path(std::string_view path);

/// True for objects whose keys are free-form (static headers, transforms, metadata maps).
bool is_free_map_path(std::string_view path);

} // namespace gyre::config
