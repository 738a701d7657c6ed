// File: config/unsupported.hpp
// The keys Gyre knows (they are in the Centrifugo v6 schema it accepts) but does not act on yet,
// in one table that shrinks as features land. A key set to something other than its default is
// reported: `warn` keys with one start-up warning ("no effect in this build"), `refuse` keys
// (TLS, consumers, connection limits: ignoring them would make a deployment unsafe or lose
// data) stop start-up. `gyre checkconfig` lists both; `gyre differences` prints the table.
#pragma once

#include <boost/json/object.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::config {

enum class unsupported_action { warn, refuse };

/// One table row. `path` is a dotted schema path: `*` stands for any one key, `[]` for any item
/// of a list; a row covers every key under its path. Rows under `channel.without_namespace`
/// cover the same option in namespaces and in `channels` entries too.
struct unsupported_key {
    std::string_view path;
    unsupported_action action;
    std::string_view note; ///< what is missing, for the warning and the README
};

/// The whole table, in the order the README lists it.
std::span<const unsupported_key> unsupported_keys();

/// One key of a merged config tree that is set but has no effect (or must refuse start-up).
struct unsupported_finding {
    std::string path; ///< as the user wrote it: "channel.namespaces[chat].allow_tags_filter"
    const unsupported_key* row = nullptr;
};

/// Every leaf of `tree` (a merged, checked tree) that differs from its default and falls under
/// a table row. A leaf under a `refuse` row and a `warn` row counts as refused.
std::vector<unsupported_finding> find_unsupported(const boost::json::object& tree);

/// The findings with `action` as "path (note), path (note)", empty when there are none.
std::string describe(const std::vector<unsupported_finding>& found, unsupported_action action);

/// The table as Markdown list lines, the README's "Differences from Centrifugo" section body.
std::string differences_markdown();

} // namespace gyre::config
