// File handlers: embedded (the admin UI) and from a directory.
#include "server/static_files.hpp"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

namespace gyre::server {
namespace {

namespace fs = std::filesystem;

http_request make_request(std::string method, std::string path) {
    http_request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.target = r.path;
    return r;
}

http_response call(const handler& h, const http_request& req) {
    std::optional<http_response> got;
    int calls = 0;
    h(req, responder([&](http_response r) {
          ++calls;
          got = std::move(r);
      }));
    EXPECT_EQ(calls, 1) << req.method << " " << req.path;
    return got ? std::move(*got) : http_response{0, "", "", {}, {}};
}

http_response get(const handler& h, std::string path) {
    return call(h, make_request("GET", std::move(path)));
}

std::optional<std::string> header(const http_response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) {
            return v;
        }
    }
    return std::nullopt;
}

constexpr std::array<embedded_file, 6> files{{
    {"index.html", "<!doctype html><title>admin</title>"},
    {"app.js", "console.log(1);"},
    {"app.css", "body{}"},
    {"data/info.json", "{\"a\":1}"},
    {"logo.svg", "<svg/>"},
    {"blob.bin", std::string_view("\0\1\2", 3)},
}};

// ---- content types --------------------------------------------------------------------------

TEST(ContentType, ByExtension) {
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("a.htm"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("mod.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("app.css"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("x.json"), "application/json");
    EXPECT_EQ(content_type_for("x.png"), "image/png");
    EXPECT_EQ(content_type_for("x.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("x.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(content_type_for("x.bin"), "application/octet-stream");
    EXPECT_EQ(content_type_for("html"), "application/octet-stream");
    EXPECT_EQ(content_type_for(""), "application/octet-stream");
}

// ---- embedded -------------------------------------------------------------------------------

TEST(EmbeddedFiles, IndexAtThePrefixRoot) {
    const auto h = embedded_files(files, "/admin");
    for (const char* path : {"/admin/", "/admin", "/admin//"}) {
        const auto r = get(h, path);
        EXPECT_EQ(r.status, 200U) << path;
        EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
        EXPECT_EQ(r.body, "<!doctype html><title>admin</title>") << path;
    }
    EXPECT_EQ(get(h, "/admin/index.html").body, "<!doctype html><title>admin</title>");
}

TEST(EmbeddedFiles, FilesAndContentTypes) {
    const auto h = embedded_files(files, "/admin");
    auto r = get(h, "/admin/app.js");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(r.body, "console.log(1);");
    r = get(h, "/admin/app.css");
    EXPECT_EQ(r.content_type, "text/css; charset=utf-8");
    EXPECT_EQ(r.body, "body{}");
    r = get(h, "/admin/data/info.json");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, "{\"a\":1}");
    r = get(h, "/admin/logo.svg");
    EXPECT_EQ(r.content_type, "image/svg+xml");
    r = get(h, "/admin/blob.bin");
    EXPECT_EQ(r.content_type, "application/octet-stream");
    EXPECT_EQ(r.body, std::string("\0\1\2", 3)); // binary-safe
}

TEST(EmbeddedFiles, HeadHasNoBody) {
    const auto h = embedded_files(files, "/admin");
    const auto r = call(h, make_request("HEAD", "/admin/app.js"));
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(r.body, "");
}

TEST(EmbeddedFiles, UnknownAndEscapingPathsAre404) {
    const auto h = embedded_files(files, "/admin");
    for (const char* path : {"/admin/missing.js",
                             "/admin/app.js/",
                             "/admin/APP.JS",
                             "/admin/data",
                             "/admin/data/",
                             "/admin/../etc/passwd",
                             "/admin/%2e%2e/etc/passwd",
                             "/admin/%2e%2e%2fetc%2fpasswd",
                             "/admin/data/../app.js",
                             "/admin/./app.js",
                             "/other/app.js",
                             "/app.js",
                             ""}) {
        const auto r = get(h, path);
        EXPECT_EQ(r.status, 404U) << path;
        EXPECT_EQ(r.body, "404 page not found\n") << path;
    }
}

TEST(EmbeddedFiles, OnlyGetAndHead) {
    const auto h = embedded_files(files, "/admin");
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"}) {
        const auto r = call(h, make_request(method, "/admin/app.js"));
        EXPECT_EQ(r.status, 405U) << method;
        EXPECT_EQ(r.body, "method not allowed\n") << method;
    }
}

TEST(EmbeddedFiles, SecurityHeaders) {
    const auto h = embedded_files(files, "/admin");
    for (const char* path : {"/admin/", "/admin/app.js", "/admin/app.css"}) {
        const auto r = get(h, path);
        ASSERT_EQ(r.status, 200U);
        const auto csp = header(r, "Content-Security-Policy");
        ASSERT_TRUE(csp) << path;
        EXPECT_NE(csp->find("script-src 'self'"), std::string::npos) << *csp;
        EXPECT_NE(csp->find("default-src 'self'"), std::string::npos) << *csp;
        EXPECT_NE(csp->find("frame-ancestors 'none'"), std::string::npos) << *csp;
        EXPECT_EQ(csp->find("unsafe-inline"), std::string::npos) << *csp;
        EXPECT_EQ(csp->find("unsafe-eval"), std::string::npos) << *csp;
        EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
        EXPECT_EQ(header(r, "X-Frame-Options"), "DENY");
        EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer");
    }
}

TEST(EmbeddedFiles, EmptyPrefixServesFromTheRoot) {
    const auto h = embedded_files(files);
    EXPECT_EQ(get(h, "/").body, "<!doctype html><title>admin</title>");
    EXPECT_EQ(get(h, "").body, "<!doctype html><title>admin</title>");
    EXPECT_EQ(get(h, "/app.js").body, "console.log(1);");
    EXPECT_EQ(get(h, "/admin/app.js").status, 404U);
}

TEST(EmbeddedFiles, NoFilesMeansEverything404) {
    const auto h = embedded_files({}, "/admin");
    EXPECT_EQ(get(h, "/admin/").status, 404U);
    EXPECT_EQ(get(h, "/admin/index.html").status, 404U);
}

TEST(EmbeddedFiles, TheBuiltInAdminUi) {
    const auto web = admin_web_files();
    ASSERT_FALSE(web.empty());
    const auto h = embedded_files(web, "/ui");
    const auto index = get(h, "/ui/");
    EXPECT_EQ(index.status, 200U);
    EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
    EXPECT_NE(index.body.find("<html"), std::string::npos);
    EXPECT_TRUE(header(index, "Content-Security-Policy"));
    // The CSP forbids inline scripts: the page must load its script from a file.
    EXPECT_EQ(index.body.find("<script>"), std::string::npos);
    EXPECT_EQ(get(h, "/ui/app.js").content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(get(h, "/ui/app.css").content_type, "text/css; charset=utf-8");
}

// ---- from a directory -----------------------------------------------------------------------

class StaticFiles : public ::testing::Test {
protected:
    void SetUp() override {
        std::random_device rd;
        base_ = fs::temp_directory_path() /
                ("gyre_static_files_test_" + std::to_string(rd()) + std::to_string(rd()));
        root_ = base_ / "www";
        fs::create_directories(root_ / "sub");
        fs::create_directories(root_ / "empty");
        fs::create_directories(base_ / "www2");
        write(root_ / "index.html", "<h1>home</h1>");
        write(root_ / "app.js", "let x;");
        write(root_ / "style.css", "p{}");
        write(root_ / "sub" / "index.html", "<h1>sub</h1>");
        write(root_ / "sub" / "data.json", "[1]");
        write(base_ / "secret.txt", "outside");
        write(base_ / "www2" / "secret.txt", "sibling");
        std::error_code ec;
        fs::create_symlink(base_ / "secret.txt", root_ / "link.txt", ec);
        have_symlink_ = !ec;
    }

    void TearDown() override {
        std::error_code ec;
        fs::remove_all(base_, ec);
    }

    static void write(const fs::path& p, std::string_view body) {
        std::ofstream out(p, std::ios::binary);
        out << body;
    }

    fs::path base_;
    fs::path root_;
    bool have_symlink_ = false;
};

TEST_F(StaticFiles, ServesFilesAndDirectoryIndexes) {
    const auto h = static_files(root_.string());
    auto r = get(h, "/");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(r.body, "<h1>home</h1>");
    r = get(h, "/app.js");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(r.body, "let x;");
    EXPECT_EQ(get(h, "/style.css").content_type, "text/css; charset=utf-8");
    EXPECT_EQ(get(h, "/sub").body, "<h1>sub</h1>");
    EXPECT_EQ(get(h, "/sub/").body, "<h1>sub</h1>");
    r = get(h, "/sub/data.json");
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, "[1]");
    EXPECT_EQ(get(h, "/sub/../app.js").body, "let x;"); // inside the root after normalising
}

TEST_F(StaticFiles, StripsThePrefix) {
    const auto h = static_files(root_.string(), "/admin");
    EXPECT_EQ(get(h, "/admin/").body, "<h1>home</h1>");
    EXPECT_EQ(get(h, "/admin").body, "<h1>home</h1>");
    EXPECT_EQ(get(h, "/admin/app.js").body, "let x;");
    EXPECT_EQ(get(h, "/app.js").status, 404U);
    EXPECT_EQ(get(h, "/other/app.js").status, 404U);
}

TEST_F(StaticFiles, RootWithTrailingSlash) {
    const auto h = static_files(root_.string() + "/");
    EXPECT_EQ(get(h, "/").body, "<h1>home</h1>");
    EXPECT_EQ(get(h, "/app.js").body, "let x;");
    EXPECT_EQ(get(h, "/../secret.txt").status, 404U);
}

TEST_F(StaticFiles, NothingOutsideTheRoot) {
    const auto h = static_files(root_.string(), "/admin");
    for (const char* path : {"/admin/../secret.txt",
                             "/admin/../../etc/passwd",
                             "/admin/../etc/passwd",
                             "/admin/%2e%2e/secret.txt",
                             "/admin/..%2fsecret.txt",
                             "/admin/sub/../../secret.txt",
                             "/admin/../www2/secret.txt", // a sibling sharing the name's prefix
                             "/admin//etc/passwd",
                             "/admin/missing.html",
                             "/admin/empty",
                             "/admin/empty/"}) {
        const auto r = get(h, path);
        EXPECT_EQ(r.status, 404U) << path << " -> " << r.body;
        EXPECT_EQ(r.body, "404 page not found\n") << path;
    }
}

TEST_F(StaticFiles, SymlinkLeavingTheRootIs404) {
    if (!have_symlink_) {
        GTEST_SKIP() << "cannot create symlinks here";
    }
    const auto h = static_files(root_.string());
    EXPECT_EQ(get(h, "/link.txt").status, 404U);
}

TEST_F(StaticFiles, OnlyGetAndHead) {
    const auto h = static_files(root_.string());
    EXPECT_EQ(call(h, make_request("POST", "/app.js")).status, 405U);
    EXPECT_EQ(call(h, make_request("PUT", "/app.js")).status, 405U);
    EXPECT_EQ(call(h, make_request("DELETE", "/app.js")).status, 405U);
    const auto head = call(h, make_request("HEAD", "/app.js"));
    EXPECT_EQ(head.status, 200U);
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(head.content_type, "text/javascript; charset=utf-8");
}

TEST_F(StaticFiles, SecurityHeadersOnlyWhenLockedDown) {
    const auto plain = get(static_files(root_.string()), "/app.js");
    EXPECT_EQ(plain.status, 200U);
    EXPECT_TRUE(plain.headers.empty());
    EXPECT_FALSE(header(plain, "Content-Security-Policy"));
    EXPECT_FALSE(header(plain, "X-Content-Type-Options"));

    const auto locked = get(static_files(root_.string(), "", true), "/app.js");
    EXPECT_EQ(locked.status, 200U);
    EXPECT_EQ(locked.body, "let x;");
    const auto csp = header(locked, "Content-Security-Policy");
    ASSERT_TRUE(csp);
    EXPECT_NE(csp->find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(header(locked, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(header(locked, "X-Frame-Options"), "DENY");
}

} // namespace
} // namespace gyre::server
