#include "server/transport_routes.hpp"

#include "transport/http_stream.hpp"

#include <array>
#include <tuple>

namespace gyre::server {
namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

http_response with_headers(http_response r, headers h) {
    for (auto& kv : h) {
        r.headers.push_back(std::move(kv));
    }
    return r;
}

/// The 204 that http_stream, uni_http_stream and /emulation give a CORS preflight.
http_response preflight(headers cors) {
    http_response r{204, "", "", {}, {}};
    r.headers = std::move(cors);
    r.headers.emplace_back("Access-Control-Max-Age", "300");
    r.headers.emplace_back("Access-Control-Allow-Methods", "POST, OPTIONS");
    return r;
}

http_response status_only(unsigned status, headers cors) {
    http_response r{status, "", "", {}, {}};
    r.headers = std::move(cors);
    return r;
}

void add_stream(router& r,
                const config::http_transport_options& opts,
                transport::stream_kind kind,
                bool answers_preflight,
                std::shared_ptr<const std::vector<std::string>> origins,
                transport::endpoint ep) {
    r.add(
        opts.handler_prefix,
        [kind, answers_preflight, origins, ep](const http_request& req, responder done) {
            auto cors = cors_headers(*origins, req);
            if (req.method == "OPTIONS" && answers_preflight) {
                done(preflight(std::move(cors)));
                return;
            }
            transport::stream_request s;
            s.method = req.method;
            s.query = req.query;
            s.content_type = std::string(req.header("Content-Type"));
            s.body = req.body;
            s.http11 = req.http11;
            s.request_headers = req.headers;
            if (auto refused = transport::check_stream(kind, s)) {
                done(with_headers(http_response::text(refused->status, refused->body),
                                  std::move(cors)));
                return;
            }
            s.headers = std::move(cors);
            http_response takeover;
            takeover.takeover = [ep, shard = req.shard, kind, s = std::move(s)](int fd) mutable {
                transport::start_stream(ep, shard, fd, kind, std::move(s));
            };
            done(std::move(takeover));
        },
        opts.max_request_body_size);
}

} // namespace

headers cors_headers(const std::vector<std::string>& allowed_origins, const http_request& req) {
    headers out;
    const auto origin = req.header("Origin");
    if (!origin.empty() &&
        (allowed_origins.empty() || !transport::origin_allowed(allowed_origins, origin))) {
        return out;
    }
    out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    if (const auto requested = req.header("Access-Control-Request-Headers");
        !requested.empty() && requested != "null") {
        out.emplace_back("Access-Control-Allow-Headers", std::string(requested));
    }
    out.emplace_back("Access-Control-Allow-Credentials", "true");
    return out;
}

std::vector<std::string>
add_transport_routes(router& r, const config::config& cfg, const transport::endpoint& ep) {
    using transport::stream_kind;
    std::vector<std::string> groups;
    // Origins are fixed at start-up (like the listeners; Centrifugo does not reload them).
    auto origins = std::make_shared<const std::vector<std::string>>(cfg.client.allowed_origins);
    // sse and uni_sse have no preflight answer (OPTIONS is 405 there, as in Centrifugo).
    const std::array streams{
        std::tuple{&cfg.http_stream, stream_kind::http_stream, true, "http_stream"},
        std::tuple{&cfg.sse, stream_kind::sse, false, "sse"},
        std::tuple{&cfg.uni_http_stream, stream_kind::uni_http_stream, true, "uni_http_stream"},
        std::tuple{&cfg.uni_sse, stream_kind::uni_sse, false, "uni_sse"},
    };
    for (const auto& [opts, kind, answers_preflight, group] : streams) {
        if (opts->enabled) {
            add_stream(r, *opts, kind, answers_preflight, origins, ep);
            groups.emplace_back(group);
        }
    }
    if (cfg.emulation.enabled) {
        r.add(
            cfg.emulation.handler_prefix,
            [origins, ep](const http_request& req, responder done) {
                auto cors = cors_headers(*origins, req);
                if (req.method == "OPTIONS") {
                    done(preflight(std::move(cors)));
                    return;
                }
                if (req.method != "POST") {
                    done(status_only(405, std::move(cors)));
                    return;
                }
                const auto status = transport::handle_emulation(
                    ep, req.shard, req.header("Content-Type"), req.body);
                done(status_only(status, std::move(cors)));
            },
            cfg.emulation.max_request_body_size);
        groups.emplace_back("emulation");
    }
    if (cfg.init.enabled) {
        r.add_sync(cfg.init.handler_prefix, [origins](const http_request& req) {
            if (req.method != "GET") {
                return status_only(405, {}); // outside the CORS middleware in Centrifugo
            }
            return with_headers(http_response{200, "application/json; charset=utf-8", "{}", {}, {}},
                                cors_headers(*origins, req));
        });
        groups.emplace_back("init");
    }
    return groups;
}

} // namespace gyre::server
