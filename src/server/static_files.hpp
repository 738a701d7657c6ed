// File: server/static_files.hpp
// A handler serving files from a directory, for `gyre serve` (trying a client page locally)
// and later the embedded admin UI. Refuses paths that escape the root.
#pragma once

#include "server/router.hpp"

#include <string>

namespace gyre::server {

handler static_files(std::string root_dir);

} // namespace gyre::server
