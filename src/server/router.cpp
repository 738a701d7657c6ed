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

namespace {

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && strings::hex_digit(s[i + 1]) >= 0 &&
                   strings::hex_digit(s[i + 2]) >= 0) {
            out +=
                static_cast<char>(strings::hex_digit(s[i + 1]) * 16 + strings::hex_digit(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

} // namespace

std::string http_request::query_param(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        const auto amp = q.find('&');
        const auto pair = q.substr(0, amp);
        const auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq)) == name) {
            return eq == std::string_view::npos ? std::string{}
                                                : percent_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) {
            break;
        }
        q.remove_prefix(amp + 1);
    }
    return {};
}

void router::add(std::string path, handler h) {
    routes_.push_back({std::move(path), false, std::move(h)});
}

void router::add_prefix(std::string prefix, handler h) {
    routes_.push_back({std::move(prefix), true, std::move(h)});
}

void router::add_sync(std::string path, std::function<http_response(const http_request&)> h) {
    add(std::move(path),
        [h = std::move(h)](const http_request& req, responder done) { done(h(req)); });
}

const handler* router::find(std::string_view path) const noexcept {
    const route* best = nullptr;
    for (const auto& r : routes_) {
        if (!r.is_prefix && r.path == path) {
            return &r.fn;
        }
        if (r.is_prefix && path.starts_with(r.path) &&
            (best == nullptr || r.path.size() > best->path.size())) {
            best = &r;
        }
    }
    return best != nullptr ? &best->fn : nullptr;
}

} // namespace gyre::server
