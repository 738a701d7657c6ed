#include "server/api_routes.hpp"

#include "api/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace gyre::server {

namespace {

http_response empty_status(unsigned status) {
    return http_response{status, "text/plain; charset=utf-8", {}, {}, {}};
}

/// Go's http.Error: the status text and a newline, as plain text.
http_response plain_error(unsigned status, std::string_view text) {
    return http_response::text(status, std::string(text) + "\n");
}

/// POST-only, then the key: the order of Centrifugo's middleware chain.
std::optional<http_response> refuse(const http_request& req, const api_options& o) {
    if (req.method != "POST") {
        return empty_status(405);
    }
    if (!o.insecure && !api_key_valid(req, o.key)) {
        return empty_status(401);
    }
    return std::nullopt;
}

void handle_method(const api_options& o,
                   api::executor& exec,
                   api::method m,
                   const http_request& req,
                   responder done) {
    if (auto r = refuse(req, o)) {
        done(std::move(*r));
        return;
    }
    auto q = api::json::decode_request(m, req.body);
    if (!q) {
        GYRE_LOG_DEBUG("bad API request path={}", req.path);
        done(plain_error(400, "Bad Request"));
        return;
    }
    const bool transport_errors =
        o.transport_errors || req.header("X-Centrifugo-Error-Mode") == "transport";
    exec.execute(
        req.shard, std::move(*q), [transport_errors, done = std::move(done)](api::reply r) mutable {
            std::string body;
            if (r.err && transport_errors && r.kind != api::method::batch) {
                api::json::append_error(body, *r.err);
                done(http_response::json(api::http_status(*r.err), std::move(body)));
                return;
            }
            if (!api::json::append_reply(body, r)) {
                done(plain_error(500, "Internal Server Error"));
                return;
            }
            done(http_response::json(200, std::move(body)));
        });
}

/// The legacy stream: every command runs in order, one reply line each, in one response.
void handle_legacy(const api_options& o,
                   api::executor& exec,
                   const http_request& req,
                   responder done) {
    if (auto r = refuse(req, o)) {
        done(std::move(*r));
        return;
    }
    run_legacy_commands(exec, req, std::move(done));
}

} // namespace

void run_legacy_commands(api::executor& exec, const http_request& req, responder done) {
    if (req.body.empty()) {
        done(plain_error(400, "Bad Request"));
        return;
    }
    auto commands = api::json::decode_legacy(req.body);
    if (!commands) {
        done(plain_error(400, "Bad Request"));
        return;
    }

    struct run : std::enable_shared_from_this<run> {
        api::executor* exec = nullptr;
        std::size_t shard = 0;
        std::vector<api::json::legacy_command> commands;
        std::size_t next = 0;
        std::string body;
        responder done;
        bool waiting = false;
        bool looping = false;
        bool failed = false;

        void answer(std::uint32_t id, const api::reply& r) {
            if (!body.empty()) {
                body.push_back('\n'); // one reply per line
            }
            failed = failed || !api::json::append_legacy_reply(body, id, r);
        }

        void pump() {
            looping = true;
            while (!waiting && next < commands.size()) {
                auto& cmd = commands[next++];
                if (const auto* e = std::get_if<api::error>(&cmd.what)) {
                    api::reply r;
                    r.err = *e;
                    answer(cmd.id, r);
                    continue;
                }
                waiting = true;
                exec->execute(shard,
                              std::move(std::get<api::request>(cmd.what)),
                              [self = shared_from_this(), id = cmd.id](api::reply r) {
                                  self->waiting = false;
                                  self->answer(id, r);
                                  if (!self->looping) {
                                      self->pump();
                                  }
                              });
            }
            looping = false;
            if (!waiting && next == commands.size() && done) {
                auto d = std::move(done);
                done = {};
                d(failed ? plain_error(500, "Internal Server Error")
                         : http_response::json(200, std::move(body)));
            }
        }
    };

    auto r = std::make_shared<run>();
    r->exec = &exec;
    r->shard = req.shard;
    r->commands = std::move(*commands);
    r->done = std::move(done);
    r->pump();
}

bool api_key_valid(const http_request& req, std::string_view key) {
    if (key.empty()) {
        return false;
    }
    bool valid = false;
    if (const auto header = req.header("X-API-Key"); !header.empty()) {
        valid = strings::constant_time_equal(header, key);
    } else if (const auto auth = req.header("Authorization"); !auth.empty()) {
        const auto parts = strings::split_whitespace(auth);
        valid = parts.size() == 2 && strings::to_lower(parts[0]) == "apikey" &&
                strings::constant_time_equal(parts[1], key);
    }
    if (!valid && !req.query.empty()) {
        valid = strings::constant_time_equal(req.query_param("api_key"), key);
    }
    return valid;
}

void add_api_routes(router& r, std::shared_ptr<api::executor> exec, api_options opts) {
    auto o = std::make_shared<const api_options>(std::move(opts));
    std::string prefix = o->prefix;
    while (prefix.size() > 1 && prefix.back() == '/') {
        prefix.pop_back();
    }
    r.add(prefix, [o, exec](const http_request& req, responder done) {
        handle_legacy(*o, *exec, req, std::move(done));
    });
    const std::string base = prefix == "/" ? "" : prefix;
    for (auto m : {api::method::publish,
                   api::method::broadcast,
                   api::method::subscribe,
                   api::method::unsubscribe,
                   api::method::disconnect,
                   api::method::presence,
                   api::method::presence_stats,
                   api::method::history,
                   api::method::history_remove,
                   api::method::info,
                   api::method::rpc,
                   api::method::refresh,
                   api::method::channels,
                   api::method::batch}) {
        r.add(base + "/" + std::string(api::method_name(m)),
              [o, exec, m](const http_request& req, responder done) {
                  handle_method(*o, *exec, m, req, std::move(done));
              });
    }
}

} // namespace gyre::server
