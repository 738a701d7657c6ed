// File: config/error.hpp
// Configuration problems are reported once, at start-up (or reload), as a config_error whose
// message names the key, the value and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace gyre::config {

class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace gyre::config
