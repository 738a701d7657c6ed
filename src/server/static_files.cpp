#include "server/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gyre::server {
namespace {

std::string content_type_for(const std::filesystem::path& p) {
    const auto ext = p.extension().string();
    if (ext == ".html" || ext == ".htm") {
        return "text/html; charset=utf-8";
    }
    if (ext == ".js" || ext == ".mjs") {
        return "text/javascript; charset=utf-8";
    }
    if (ext == ".css") {
        return "text/css; charset=utf-8";
    }
    if (ext == ".json") {
        return "application/json";
    }
    if (ext == ".png") {
        return "image/png";
    }
    if (ext == ".svg") {
        return "image/svg+xml";
    }
    if (ext == ".txt") {
        return "text/plain; charset=utf-8";
    }
    return "application/octet-stream";
}

} // namespace

handler static_files(std::string root_dir) {
    namespace fs = std::filesystem;
    const fs::path root = fs::weakly_canonical(fs::path(root_dir));
    return [root](const http_request& req, responder done) {
        if (req.method != "GET" && req.method != "HEAD") {
            done(http_response::text(405, "method not allowed\n"));
            return;
        }
        fs::path rel = fs::path(req.path).relative_path();
        fs::path full = fs::weakly_canonical(root / rel);
        std::error_code ec;
        if (fs::is_directory(full, ec)) {
            full /= "index.html";
        }
        const auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
        (void)f;
        if (r != root.end() || !fs::is_regular_file(full, ec)) {
            done(http_response::text(404, "404 page not found\n"));
            return;
        }
        std::ifstream in(full, std::ios::binary);
        std::ostringstream body;
        body << in.rdbuf();
        done(http_response{
            200, content_type_for(full), req.method == "HEAD" ? "" : body.str(), {}, {}});
    };
}

} // namespace gyre::server
