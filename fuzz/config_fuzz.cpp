// libFuzzer entry point for configuration files: the input is parsed as JSON, YAML and TOML
// (config::parse_text), then goes through what config::load does with a file (legacy keys,
// merge_checked onto the defaults, bind_and_validate). Link gyre_config. A config_error is the
// only acceptable failure: any other exception escaping is a bug (libFuzzer reports it).
#include "config/error.hpp"
#include "config/load.hpp"
#include "config/schema.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace config = gyre::config;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    for (const auto format :
         {config::file_format::json, config::file_format::yaml, config::file_format::toml}) {
        try {
            boost::json::object file_tree = config::parse_text(text, format, "fuzz");
            std::vector<std::string> warnings;
            config::apply_legacy_keys(file_tree, warnings);
            boost::json::object tree = config::default_tree();
            config::merge_checked(tree, file_tree, warnings);
            const config::config cfg = config::bind_and_validate(tree);
            static_cast<void>(cfg);
        } catch (const config::config_error&) {
            // expected: the message names the key, the value and what was expected
        }
    }
    return 0;
}
