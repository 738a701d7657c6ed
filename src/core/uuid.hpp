// File: core/uuid.hpp
// Random (version 4) UUIDs: Centrifugo's format for client ids and node ids.
#pragma once

#include <string>

namespace gyre {

/// A new random UUID in canonical form ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"). Thread-safe.
std::string random_uuid();

} // namespace gyre
