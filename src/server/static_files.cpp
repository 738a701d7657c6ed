#include "server/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace gyre::server {
namespace {

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

/// What browsers are told about every served file: no sniffing, no framing, and scripts,
/// styles and images from this origin only, so a string that slipped into the page as markup
/// still could not run.
void add_security_headers(http_response& r) {
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
    r.headers.emplace_back("Cache-Control", "no-cache");
}

/// The request path below `strip_prefix`, or nullopt when it is not below it.
std::optional<std::string_view> relative_path(std::string_view path, std::string_view strip) {
    if (!strip.empty()) {
        if (path.substr(0, strip.size()) != strip) {
            return std::nullopt;
        }
        path.remove_prefix(strip.size());
        if (!path.empty() && path.front() != '/') {
            return std::nullopt; // "/adminx" is not below "/admin"
        }
    }
    while (!path.empty() && path.front() == '/') {
        path.remove_prefix(1);
    }
    return path;
}

http_response not_found() {
    return http_response::text(404, "404 page not found\n");
}

http_response method_not_allowed() {
    return http_response::text(405, "method not allowed\n");
}

http_response
file_response(const http_request& req, std::string_view name, std::string body, bool locked_down) {
    http_response r{200,
                    std::string(content_type_for(name)),
                    req.method == "HEAD" ? std::string() : std::move(body),
                    {},
                    {}};
    if (locked_down) {
        add_security_headers(r);
    }
    return r;
}

} // namespace

std::string_view content_type_for(std::string_view name) noexcept {
    if (ends_with(name, ".html") || ends_with(name, ".htm")) {
        return "text/html; charset=utf-8";
    }
    if (ends_with(name, ".js") || ends_with(name, ".mjs")) {
        return "text/javascript; charset=utf-8";
    }
    if (ends_with(name, ".css")) {
        return "text/css; charset=utf-8";
    }
    if (ends_with(name, ".json")) {
        return "application/json";
    }
    if (ends_with(name, ".png")) {
        return "image/png";
    }
    if (ends_with(name, ".svg")) {
        return "image/svg+xml";
    }
    if (ends_with(name, ".txt")) {
        return "text/plain; charset=utf-8";
    }
    return "application/octet-stream";
}

handler static_files(std::string root_dir, std::string strip_prefix, bool locked_down) {
    namespace fs = std::filesystem;
    const fs::path root = fs::weakly_canonical(fs::path(root_dir));
    return [root, strip = std::move(strip_prefix), locked_down](const http_request& req,
                                                                responder done) {
        if (req.method != "GET" && req.method != "HEAD") {
            done(method_not_allowed());
            return;
        }
        const auto rel = relative_path(req.path, strip);
        if (!rel) {
            done(not_found());
            return;
        }
        fs::path full = fs::weakly_canonical(root / fs::path(std::string(*rel)));
        std::error_code ec;
        if (fs::is_directory(full, ec)) {
            full /= "index.html";
        }
        const auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
        (void)f;
        if (r != root.end() || !fs::is_regular_file(full, ec)) {
            done(not_found());
            return;
        }
        std::ifstream in(full, std::ios::binary);
        std::ostringstream body;
        body << in.rdbuf();
        done(file_response(req, full.filename().string(), body.str(), locked_down));
    };
}

handler embedded_files(std::span<const embedded_file> files, std::string strip_prefix) {
    return [files, strip = std::move(strip_prefix)](const http_request& req, responder done) {
        if (req.method != "GET" && req.method != "HEAD") {
            done(method_not_allowed());
            return;
        }
        auto rel = relative_path(req.path, strip);
        if (!rel) {
            done(not_found());
            return;
        }
        const std::string_view name = rel->empty() ? std::string_view("index.html") : *rel;
        for (const auto& f : files) {
            if (f.name == name) {
                done(file_response(req, f.name, std::string(f.bytes), true));
                return;
            }
        }
        done(not_found());
    };
}

} // namespace gyre::server
