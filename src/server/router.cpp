#include "server/router.hpp"

#include "core/strings.hpp"

#include <cctype>

namespace gyre::server {

std::string_view http_request::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size()) {
            bool same = true;
            for (std::size_t i = 0; i < k.size() && same; ++i) {
                same = std::tolower(static_cast<unsigned char>(k[i])) ==
                       std::tolower(static_cast<unsigned char>(name[i]));
            }
            if (same) {
                return v;
            }
        }
    }
    return {};
}

std::string http_request::query_param(std::string_view name) const {
    return strings::query_param(query, name).value_or(std::string{});
}

void router::add(std::string path, handler h, std::size_t max_body_bytes) {
    routes_.push_back({std::move(path), false, std::move(h), max_body_bytes});
}

void router::add_prefix(std::string prefix, handler h) {
    routes_.push_back({std::move(prefix), true, std::move(h), 0});
}

void router::add_sync(std::string path, std::function<http_response(const http_request&)> h) {
    add(std::move(path),
        [h = std::move(h)](const http_request& req, responder done) { done(h(req)); });
}

const handler* router::find(std::string_view path) const noexcept {
    const auto* r = find_route(path);
    return r != nullptr ? &r->fn : nullptr;
}

const router::route* router::find_route(std::string_view path) const noexcept {
    const route* best = nullptr;
    for (const auto& r : routes_) {
        if (!r.is_prefix && r.path == path) {
            return &r;
        }
        if (r.is_prefix && path.starts_with(r.path) &&
            (best == nullptr || r.path.size() > best->path.size())) {
            best = &r;
        }
    }
    return best;
}

} // namespace gyre::server
