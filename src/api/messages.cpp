#include "api/messages.hpp"

#include <array>

namespace gyre::api {

namespace {

constexpr std::array<std::string_view, 14> method_names{
    "publish",
    "broadcast",
    "unsubscribe",
    "disconnect",
    "presence",
    "presence_stats",
    "history",
    "history_remove",
    "channels",
    "info",
    "rpc",
    "subscribe",
    "refresh",
    "batch",
};

} // namespace

std::optional<method> method_from_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < method_names.size(); ++i) {
        if (name == method_names.at(i)) {
            return static_cast<method>(i);
        }
    }
    return std::nullopt;
}

std::string_view method_name(method m) noexcept {
    return method_names.at(static_cast<std::size_t>(m));
}

} // namespace gyre::api
