// The admin endpoints (init, auth, the API's auth checks) and the UI mount. No executor is
// built: every request here is answered before the API would touch it.
#include "auth/admin_token.hpp"
#include "server/admin_routes.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

namespace gyre::server {
namespace {

namespace fs = std::filesystem;

constexpr const char* secret = "admin-secret";
constexpr const char* password = "p@ss word+1";

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

admin_options options(std::string prefix = "") {
    admin_options o;
    o.prefix = std::move(prefix);
    o.password = password;
    o.secret = secret;
    return o;
}

router make_router(admin_options o) {
    router r;
    add_admin_routes(r, nullptr, std::move(o));
    return r;
}

http_request make_request(std::string method,
                          std::string path,
                          std::string body = {},
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    http_request q;
    q.method = std::move(method);
    q.path = std::move(path);
    q.target = q.path;
    q.body = std::move(body);
    q.headers = std::move(headers);
    q.remote_address = "127.0.0.1:5555";
    return q;
}

/// Runs the handler routed for the request's path; status 0 when nothing is routed.
http_response send(const router& r, const http_request& q) {
    const handler* h = r.find(q.path);
    if (h == nullptr) {
        ADD_FAILURE() << "no route for " << q.path;
        return {0, "", "", {}, {}};
    }
    std::optional<http_response> got;
    int calls = 0;
    (*h)(q, responder([&](http_response resp) {
             ++calls;
             got = std::move(resp);
         }));
    EXPECT_EQ(calls, 1) << q.method << " " << q.path;
    return got ? std::move(*got) : http_response{0, "", "", {}, {}};
}

/// The "token" value of a {"token":"..."} body, or nullopt.
std::optional<std::string> token_in(const std::string& body) {
    const std::string key = "{\"token\":\"";
    if (!body.starts_with(key) || !body.ends_with("\"}")) {
        return std::nullopt;
    }
    return body.substr(key.size(), body.size() - key.size() - 2);
}

http_response login(const router& r, std::string form, std::string path = "/admin/auth") {
    return send(r, make_request("POST", std::move(path), std::move(form)));
}

// ---- admin/init -----------------------------------------------------------------------------

TEST(AdminInit, UnauthenticatedWithoutAToken) {
    const auto r = make_router(options());
    const auto resp = send(r, make_request("GET", "/admin/init"));
    EXPECT_EQ(resp.status, 200U);
    EXPECT_EQ(resp.content_type, "application/json");
    EXPECT_EQ(resp.body, R"({"insecure":false,"edition":"oss","authenticated":false})");
}

TEST(AdminInit, AuthenticatedWithAValidToken) {
    const auto r = make_router(options());
    const auto token = auth::issue_admin_token(secret, now_unix());
    for (const char* scheme : {"token", "Token", "TOKEN"}) {
        const auto resp = send(
            r,
            make_request(
                "GET", "/admin/init", {}, {{"Authorization", std::string(scheme) + " " + token}}));
        EXPECT_EQ(resp.status, 200U);
        EXPECT_EQ(resp.body, R"({"insecure":false,"edition":"oss","authenticated":true})")
            << scheme;
    }
    // The header name is case-insensitive, extra spaces are fine.
    EXPECT_EQ(
        send(r, make_request("GET", "/admin/init", {}, {{"authorization", "token   " + token}}))
            .body,
        R"({"insecure":false,"edition":"oss","authenticated":true})");
}

TEST(AdminInit, NotAuthenticatedWithABadToken) {
    const auto r = make_router(options());
    const auto now = now_unix();
    const auto good = auth::issue_admin_token(secret, now);
    for (const std::string& value :
         {"Bearer " + good,
          good,
          "token " + auth::issue_admin_token("another-secret", now),
          "token " + auth::issue_admin_token(secret, now - 31 * 24 * 3600), // expired
          "token " + good + " extra",
          "token " + good.substr(0, good.size() - 2),
          std::string("token insecure"),
          std::string("token"),
          std::string()}) {
        const auto resp =
            send(r, make_request("GET", "/admin/init", {}, {{"Authorization", value}}));
        EXPECT_EQ(resp.status, 200U);
        EXPECT_EQ(resp.body, R"({"insecure":false,"edition":"oss","authenticated":false})")
            << value;
    }
}

TEST(AdminInit, InsecureIsAlwaysAuthenticated) {
    auto o = options();
    o.insecure = true;
    const auto r = make_router(std::move(o));
    const auto resp = send(r, make_request("GET", "/admin/init"));
    EXPECT_EQ(resp.status, 200U);
    EXPECT_EQ(resp.body, R"({"insecure":true,"edition":"oss","authenticated":true})");
}

TEST(AdminInit, OnlyGet) {
    const auto r = make_router(options());
    const auto resp = send(r, make_request("POST", "/admin/init"));
    EXPECT_EQ(resp.status, 405U);
    EXPECT_EQ(resp.body, R"({"error":"method not allowed"})");
}

// ---- admin/auth -----------------------------------------------------------------------------

TEST(AdminAuth, RightPasswordGivesAValidToken) {
    const auto r = make_router(options());
    const auto before = now_unix();
    const auto resp = login(r, "password=p%40ss+word%2B1");
    EXPECT_EQ(resp.status, 200U);
    EXPECT_EQ(resp.content_type, "application/json");
    const auto token = token_in(resp.body);
    ASSERT_TRUE(token) << resp.body;
    EXPECT_TRUE(auth::admin_token_valid(*token, secret, now_unix()));
    EXPECT_FALSE(auth::admin_token_valid(*token, "another-secret", now_unix()));
    // Issued now: valid for the admin token lifetime, not beyond.
    EXPECT_TRUE(
        auth::admin_token_valid(*token, secret, before + auth::admin_token_lifetime.count() - 5));
    EXPECT_FALSE(auth::admin_token_valid(
        *token, secret, now_unix() + auth::admin_token_lifetime.count() + 5));
    // And it authenticates admin/init.
    EXPECT_EQ(
        send(r, make_request("GET", "/admin/init", {}, {{"Authorization", "token " + *token}}))
            .body,
        R"({"insecure":false,"edition":"oss","authenticated":true})");
}

TEST(AdminAuth, FormEncodingIsDecoded) {
    const auto r = make_router(options());
    for (const char* form : {"password=p%40ss%20word%2B1",
                             "password=p@ss+word%2b1",
                             "user=admin&password=p%40ss+word%2B1",
                             "password=p%40ss+word%2B1&remember=1",
                             "pass%77ord=p%40ss+word%2B1"}) {
        const auto resp = login(r, form);
        EXPECT_EQ(resp.status, 200U) << form;
        EXPECT_TRUE(token_in(resp.body)) << form << " -> " << resp.body;
    }
}

TEST(AdminAuth, WrongPasswordIs400WithoutAToken) {
    auto o = options();
    o.throttle.free_failures = 100; // every form below from one address
    const auto r = make_router(std::move(o));
    for (const char* form : {"password=wrong",
                             "password=p@ss+word+1", // '+' decodes to a space, not a plus
                             "password=p%40ss+word%2B",
                             "password=p%40ss+word%2B1%20",
                             "password=",
                             "password",
                             "pass=p%40ss+word%2B1", // another field
                             "Password=p%40ss+word%2B1",
                             "",
                             "{\"password\":\"p@ss word+1\"}"}) {
        const auto resp = login(r, form);
        EXPECT_EQ(resp.status, 400U) << form;
        EXPECT_EQ(resp.content_type, "application/json");
        EXPECT_EQ(resp.body, R"({"error":"wrong password"})") << form;
        EXPECT_EQ(resp.body.find("token"), std::string::npos);
    }
}

TEST(AdminAuth, OnlyPost) {
    const auto r = make_router(options());
    for (const char* method : {"GET", "PUT", "HEAD"}) {
        auto q = make_request(method, "/admin/auth", "password=p%40ss+word%2B1");
        const auto resp = send(r, q);
        EXPECT_EQ(resp.status, 405U) << method;
        EXPECT_EQ(resp.body, R"({"error":"method not allowed"})");
    }
}

TEST(AdminAuth, NoConfiguredPasswordRefusesEveryLogin) {
    auto o = options();
    o.password.clear();
    const auto r = make_router(std::move(o));
    EXPECT_EQ(login(r, "password=").status, 400U);
    EXPECT_EQ(login(r, "password").status, 400U);
    EXPECT_EQ(login(r, "password=x").status, 400U);
}

TEST(AdminAuth, RepeatedFailuresAreThrottledEvenForTheRightPassword) {
    auto o = options();
    o.throttle.free_failures = 2;
    o.throttle.base_delay = std::chrono::seconds(30);
    const auto r = make_router(std::move(o));
    EXPECT_EQ(login(r, "password=a").status, 400U);
    EXPECT_EQ(login(r, "password=b").status, 400U); // the second failure bars the address
    const auto resp = login(r, "password=p%40ss+word%2B1");
    EXPECT_EQ(resp.status, 429U);
    EXPECT_FALSE(token_in(resp.body)) << resp.body;
    ASSERT_EQ(resp.headers.size(), 1U);
    EXPECT_EQ(resp.headers[0].first, "Retry-After");
    EXPECT_EQ(resp.headers[0].second, "30");
}

TEST(AdminAuth, InsecureGivesThePlaceholderToken) {
    auto o = options();
    o.insecure = true;
    const auto r = make_router(std::move(o));
    const auto resp = login(r, "");
    EXPECT_EQ(resp.status, 200U);
    EXPECT_EQ(resp.body, R"({"token":"insecure"})");
}

// ---- admin/api (auth checks only) -------------------------------------------------------------

TEST(AdminApi, OnlyPost) {
    const auto r = make_router(options());
    const auto token = auth::issue_admin_token(secret, now_unix());
    const auto resp =
        send(r, make_request("GET", "/admin/api", {}, {{"Authorization", "token " + token}}));
    EXPECT_EQ(resp.status, 405U);
    EXPECT_EQ(resp.body, R"({"error":"method not allowed"})");
}

TEST(AdminApi, UnauthorizedWithoutAValidToken) {
    const auto r = make_router(options());
    const auto now = now_unix();
    const std::string body = R"({"method":"info","params":{}})";
    std::vector<std::vector<std::pair<std::string, std::string>>> header_sets = {
        {},
        {{"Authorization", "token bad"}},
        {{"Authorization", "token " + auth::issue_admin_token("another-secret", now)}},
        {{"Authorization", "token " + auth::issue_admin_token(secret, now - 31 * 24 * 3600)}},
        {{"Authorization", "Bearer " + auth::issue_admin_token(secret, now)}},
        {{"Authorization", "apikey " + std::string(secret)}},
        {{"X-API-Key", secret}},
    };
    for (const auto& headers : header_sets) {
        const auto resp = send(r, make_request("POST", "/admin/api", body, headers));
        EXPECT_EQ(resp.status, 401U) << (headers.empty() ? "" : headers[0].second);
        EXPECT_EQ(resp.body, R"({"error":"unauthorized"})");
    }
}

// ---- prefix and the UI -------------------------------------------------------------------------

TEST(AdminRoutes, PrefixIsPrependedAndTrailingSlashesDropped) {
    for (const char* prefix : {"/gyre", "/gyre/", "/gyre//"}) {
        const auto r = make_router(options(prefix));
        EXPECT_EQ(send(r, make_request("GET", "/gyre/admin/init")).status, 200U) << prefix;
        EXPECT_EQ(login(r, "password=p%40ss+word%2B1", "/gyre/admin/auth").status, 200U);
        EXPECT_EQ(send(r, make_request("POST", "/gyre/admin/api")).status, 401U);
        const auto ui = send(r, make_request("GET", "/gyre/"));
        EXPECT_EQ(ui.status, 200U) << prefix;
        EXPECT_EQ(ui.content_type, "text/html; charset=utf-8");
        EXPECT_EQ(r.find("/admin/init"), nullptr) << prefix;
    }
}

TEST(AdminRoutes, EmbeddedUiAtTheRootWithSecurityHeaders) {
    const auto r = make_router(options());
    const auto index = send(r, make_request("GET", "/"));
    EXPECT_EQ(index.status, 200U);
    EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
    bool csp = false;
    for (const auto& [k, v] : index.headers) {
        csp = csp || (k == "Content-Security-Policy" && v.find("script-src 'self'") != v.npos);
    }
    EXPECT_TRUE(csp);
    EXPECT_EQ(send(r, make_request("GET", "/app.js")).content_type,
              "text/javascript; charset=utf-8");
    EXPECT_EQ(send(r, make_request("GET", "/nope.js")).status, 404U);
    EXPECT_EQ(send(r, make_request("POST", "/app.js")).status, 405U);
    // The exact endpoints win over the UI's prefix.
    EXPECT_EQ(send(r, make_request("GET", "/admin/init")).content_type, "application/json");
}

TEST(AdminRoutes, WebPathServesTheDirectoryLockedDown) {
    std::random_device rd;
    const auto dir = fs::temp_directory_path() /
                     ("gyre_admin_routes_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir);
    std::ofstream(dir / "index.html") << "<p>custom</p>";
    auto o = options("/ui");
    o.web_path = dir.string();
    const auto r = make_router(std::move(o));
    const auto resp = send(r, make_request("GET", "/ui/"));
    EXPECT_EQ(resp.status, 200U);
    EXPECT_EQ(resp.body, "<p>custom</p>");
    bool nosniff = false;
    for (const auto& [k, v] : resp.headers) {
        nosniff = nosniff || (k == "X-Content-Type-Options" && v == "nosniff");
    }
    EXPECT_TRUE(nosniff);
    EXPECT_EQ(send(r, make_request("GET", "/ui/../etc/passwd")).status, 404U);
    std::error_code ec;
    fs::remove_all(dir, ec);
}

} // namespace
} // namespace gyre::server
