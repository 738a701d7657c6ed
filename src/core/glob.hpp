// File: core/glob.hpp
// Glob patterns as the server API's `channels` method takes them (the syntax of Go's
// gobwas/glob without separators): `*` any run, `?` one character, `[abc]`, `[a-z]`, `[!x]`,
// `{alt1,alt2}` alternatives, `\` escapes. Matching is byte-wise and case-sensitive.
#pragma once

#include <string_view>

namespace gyre::glob {

/// False for a malformed pattern (an unclosed `[` or `{`, a trailing `\`).
bool valid(std::string_view pattern) noexcept;

/// True when `text` matches all of `pattern`. A malformed pattern matches nothing.
bool match(std::string_view pattern, std::string_view text);

} // namespace gyre::glob
