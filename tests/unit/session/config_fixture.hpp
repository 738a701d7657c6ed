// File: tests/unit/session/config_fixture.hpp
// A validated config built from a JSON fragment over the defaults, for the session unit tests.
#pragma once

#include "config/load.hpp"
#include "config/schema.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace gyre::session::test_support {

/// `json_fragment` is merged over the default tree as a config file would be; a key the schema
/// does not know fails the calling test.
inline config::config make_config(std::string_view json_fragment) {
    boost::json::object tree = config::default_tree();
    std::vector<std::string> warnings;
    config::merge_checked(tree, boost::json::parse(json_fragment).as_object(), warnings);
    EXPECT_TRUE(warnings.empty()) << (warnings.empty() ? "" : warnings.front());
    return config::bind_and_validate(tree);
}

} // namespace gyre::session::test_support
