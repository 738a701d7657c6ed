#include "server/admin_routes.hpp"

#include "auth/admin_token.hpp"
#include "core/strings.hpp"
#include "server/api_routes.hpp"
#include "server/static_files.hpp"

#include <algorithm>
#include <chrono>

namespace gyre::server {

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

http_response json_error(unsigned status, std::string_view message) {
    return http_response::json(status, "{\"error\":\"" + std::string(message) + "\"}");
}

bool authorized(const admin_options& o, const http_request& req) {
    if (o.insecure) {
        return true;
    }
    const auto parts = strings::split_whitespace(req.header("Authorization"));
    return parts.size() == 2 && strings::to_lower(parts[0]) == "token" &&
           auth::admin_token_valid(parts[1], o.secret, unix_now());
}

http_response init(const admin_options& o, const http_request& req) {
    if (req.method != "GET") {
        return json_error(405, "method not allowed");
    }
    return http_response::json(200,
                               std::string("{\"insecure\":") + (o.insecure ? "true" : "false") +
                                   ",\"edition\":\"oss\",\"authenticated\":" +
                                   (authorized(o, req) ? "true" : "false") + "}");
}

http_response throttled(std::chrono::milliseconds wait) {
    auto resp = json_error(429, "too many failed attempts");
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
    resp.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(seconds, 1)));
    return resp;
}

http_response login(const admin_options& o, login_throttle& throttle, const http_request& req) {
    if (req.method != "POST") {
        return json_error(405, "method not allowed");
    }
    if (o.insecure) {
        return http_response::json(200, R"({"token":"insecure"})");
    }
    // A throttled address is refused before its password is looked at.
    const auto now = login_throttle::clock::now();
    if (const auto wait = throttle.wait(req.remote_address, now); wait.count() > 0) {
        return throttled(wait);
    }
    // The UI posts a form; the password is compared in constant time.
    const auto password = strings::query_param(req.body, "password");
    if (!password || o.password.empty() || !strings::constant_time_equal(*password, o.password)) {
        (void)throttle.failed(req.remote_address, now); // logs at a bounded rate
        return json_error(400, "wrong password");       // Centrifugo's status
    }
    throttle.succeeded(req.remote_address);
    return http_response::json(
        200, "{\"token\":\"" + auth::issue_admin_token(o.secret, unix_now()) + "\"}");
}

} // namespace

void add_admin_routes(router& r, std::shared_ptr<api::executor> exec, admin_options opts) {
    auto o = std::make_shared<const admin_options>(std::move(opts));
    auto throttle = std::make_shared<login_throttle>(o->throttle);
    std::string base = o->prefix;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    r.add_sync(base + "/admin/init", [o](const http_request& req) { return init(*o, req); });
    r.add_sync(base + "/admin/auth",
               [o, throttle](const http_request& req) { return login(*o, *throttle, req); });
    r.add(base + "/admin/api", [o, exec](const http_request& req, responder done) {
        if (req.method != "POST") {
            done(json_error(405, "method not allowed"));
            return;
        }
        if (!authorized(*o, req)) {
            done(json_error(401, "unauthorized"));
            return;
        }
        run_legacy_commands(*exec, req, std::move(done));
    });
    if (!base.empty()) {
        r.add_sync(base, [base](const http_request&) { // the UI's relative URLs need the slash
            http_response moved{301, "text/plain; charset=utf-8", {}, {}, {}};
            moved.headers.emplace_back("Location", base + "/");
            return moved;
        });
    }
    r.add_prefix(base + "/",
                 o->web_path.empty() ? embedded_files(admin_web_files(), base)
                                     : static_files(o->web_path, base, true));
}

} // namespace gyre::server
