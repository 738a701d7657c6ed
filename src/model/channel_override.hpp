// File: model/channel_override.hpp
// Channel options that a token (`override` in `subs` entries and subscription tokens), the
// connect proxy or a server API `subscribe` can override for one subscription. Unset options
// keep the namespace's value.
#pragma once

#include <optional>

namespace gyre::model {

struct channel_override {
    std::optional<bool> presence;
    std::optional<bool> join_leave;
    std::optional<bool> force_push_join_leave;
    std::optional<bool> force_recovery;
    std::optional<bool> force_positioning;
};

} // namespace gyre::model
