#include "app/cli.hpp"

#include "app/application.hpp"
#include "app/dev_tools.hpp"
#include "auth/token_verifier.hpp"
#include "config/load.hpp"
#include "config/schema.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/stat.h>

namespace gyre::app {
namespace json = boost::json;

namespace {

// Server flags: the v6 dotted names, the pre-v6 names users still type, and Gyre's own.
struct flag_spec {
    const char* names; ///< CLI11 name list
    const char* path;  ///< config path it sets
    bool is_bool;
};

constexpr flag_spec server_flags[] = {
    {"-p,--port,--http_server.port", "http_server.port", false},
    {"-a,--address,--http_server.address", "http_server.address", false},
    {"--internal_port,--http_server.internal_port", "http_server.internal_port", false},
    {"--internal_address,--http_server.internal_address", "http_server.internal_address", false},
    {"--log_level,--log.level", "log.level", false},
    {"--log_file,--log.file", "log.file", false},
    {"--pid_file", "pid_file", false},
    {"--engine,--engine.type", "engine.type", false},
    {"--redis_address,--engine.redis.address", "engine.redis.address", false},
    {"--broker.enabled", "broker.enabled", true},
    {"--broker.type", "broker.type", false},
    {"--presence_manager.enabled", "presence_manager.enabled", true},
    {"--presence_manager.type", "presence_manager.type", false},
    {"--admin,--admin.enabled", "admin.enabled", true},
    {"--admin_external,--admin.external", "admin.external", true},
    {"--admin_insecure,--admin.insecure", "admin.insecure", true},
    {"--prometheus,--prometheus.enabled", "prometheus.enabled", true},
    {"--health,--health.enabled", "health.enabled", true},
    {"--debug,--debug.enabled", "debug.enabled", true},
    {"--swagger,--swagger.enabled", "swagger.enabled", true},
    {"--uni_websocket,--uni_websocket.enabled", "uni_websocket.enabled", true},
    {"--uni_sse,--uni_sse.enabled", "uni_sse.enabled", true},
    {"--uni_http_stream,--uni_http_stream.enabled", "uni_http_stream.enabled", true},
    {"--sse,--sse.enabled", "sse.enabled", true},
    {"--http_stream,--http_stream.enabled", "http_stream.enabled", true},
    {"--init.enabled", "init.enabled", true},
    {"--client_insecure,--client.insecure", "client.insecure", true},
    {"--api_insecure,--http_api.insecure", "http_api.insecure", true},
    {"--api_external,--http_api.external", "http_api.external", true},
    {"--grpc_api,--grpc_api.enabled", "grpc_api.enabled", true},
    {"--grpc_api_port,--grpc_api.port", "grpc_api.port", false},
    {"--uni_grpc,--uni_grpc.enabled", "uni_grpc.enabled", true},
    {"--uni_grpc_port,--uni_grpc.port", "uni_grpc.port", false},
    {"--shards,--gyre.shards", "gyre.shards", false},
};

// CLI11 options take values; a bare boolean flag ("--health") means "=true", as in Cobra.
std::vector<std::string> normalize_bool_flags(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    for (auto& a : args) {
        for (const auto& f : server_flags) {
            if (!f.is_bool) {
                continue;
            }
            for (const auto& name : CLI::detail::split(f.names, ',')) {
                if (a == name && name.starts_with("--")) {
                    a += "=true";
                }
            }
        }
    }
    return args;
}

bool file_exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

int fail(const std::string& message) {
    std::cout << "error: " << message << std::endl;
    return 1;
}

// Centrifugo loads a .env file from the working directory before reading the environment;
// variables already set in the environment win.
std::vector<std::pair<std::string, std::string>> environment_with_dotenv() {
    auto env = config::process_environment();
    std::ifstream in(".env");
    std::string line;
    while (in && std::getline(in, line)) {
        if (line.starts_with("export ")) {
            line.erase(0, 7);
        }
        const auto eq = line.find('=');
        if (line.empty() || line[0] == '#' || eq == std::string::npos) {
            continue;
        }
        std::string key = line.substr(0, eq);
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        const bool set =
            std::any_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == key; });
        if (!set) {
            env.emplace_back(std::move(key), std::move(value));
        }
    }
    return env;
}

config::load_options config_only(const std::string& path, bool required) {
    config::load_options o;
    o.file = path;
    o.file_required = required;
    o.environment = environment_with_dotenv();
    return o;
}

int cmd_genconfig(const std::string& path) {
    const auto format = config::format_for_path(path);
    if (!format) {
        return fail("output config file must have one of supported extensions: .json, .yaml, "
                    ".yml, .toml");
    }
    if (file_exists(path)) {
        return fail("output config file already exists: " + path);
    }
    const std::string text = config::render(generated_config(), *format);
    {
        std::ofstream out(path, std::ios::binary);
        if (!out) {
            return fail("cannot write " + path);
        }
        out << text;
    }
    ::chmod(path.c_str(), 0600);
    try {
        config::load_options o;
        o.file = path;
        o.file_required = true;
        (void)config::load(o);
    } catch (const std::exception& e) {
        std::filesystem::remove(path);
        return fail(std::string("generated config is invalid: ") + e.what());
    }
    return 0;
}

int cmd_checkconfig(const std::string& path, bool strict) {
    try {
        auto result = config::load(config_only(path, true));
        std::vector<std::string> unknown;
        for (const auto& w : result.warnings) {
            std::cout << "warning: " << w << "\n";
            if (w.starts_with("unknown configuration key: ")) {
                unknown.push_back(w.substr(27));
            }
        }
        using config::unsupported_action;
        const auto ignored = config::describe(result.unsupported, unsupported_action::warn);
        if (!ignored.empty()) {
            std::cout << "warning: no effect in this build: " << ignored << "\n";
        }
        const auto refused = config::describe(result.unsupported, unsupported_action::refuse);
        if (!refused.empty()) {
            return fail("gyre refuses to start with: " + refused);
        }
        if (strict && (!unknown.empty() || !ignored.empty())) {
            std::string list;
            for (const auto& u : unknown) {
                list += (list.empty() ? "" : ", ") + u;
            }
            return fail(unknown.empty() ? "keys with no effect in this build: " + ignored
                                        : "unknown keys in config: " + list);
        }
    } catch (const config::config_error& e) {
        return fail(std::string("error validating config: ") + e.what());
    }
    return 0;
}

int cmd_defaultconfig(const std::string& path, const std::string& base, bool dry_run) {
    json::object tree = config::default_tree();
    if (!base.empty()) {
        try {
            auto loaded = config::load(config_only(base, true));
            tree = loaded.cfg.tree;
        } catch (const std::exception& e) {
            return fail(e.what());
        }
    }
    const auto format = path.empty()
                            ? config::file_format::json
                            : config::format_for_path(path).value_or(config::file_format::json);
    const std::string text = config::render(tree, format);
    if (path.empty() || dry_run) {
        std::cout << text;
        return 0;
    }
    if (file_exists(path)) {
        return fail("target file already exists");
    }
    std::ofstream(path, std::ios::binary) << text;
    return 0;
}

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int cmd_gentoken(const std::string& path, const std::string& user, std::int64_t ttl, bool quiet) {
    try {
        const auto loaded = config::load(config_only(path, false));
        const std::string token = make_connection_token(loaded.cfg, user, ttl, now_unix());
        if (quiet) {
            std::cout << token << std::flush;
        } else {
            std::cout << token_banner(user, ttl) << "\n" << token << std::endl;
        }
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return 0;
}

int cmd_checktoken(const std::string& path, const std::string& token) {
    if (token.empty()) {
        return fail("provide token to check [gyre checktoken <TOKEN>]");
    }
    try {
        const auto loaded = config::load(config_only(path, false));
        const auth::token_verifier verifier(loaded.cfg.client.token,
                                            loaded.cfg.client.insecure_skip_token_signature_verify);
        auto result = verifier.verify(token, now_unix());
        if (!result) {
            return fail(std::string(auth::to_string(result.error())));
        }
        const auto& t = *result;
        std::cout << "valid token for "
                  << (t.user.empty() ? std::string("anonymous user") : "user " + t.user) << "\n"
                  << "payload: " << t.claims_json << std::endl;
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return 0;
}

} // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"Gyre: a real-time messaging server compatible with Centrifugo (client protocol "
                 "v2, server HTTP API, config files).",
                 "gyre"};
    app.set_version_flag("--version", std::string("gyre ") + GYRE_VERSION);
    std::string config_path = "config.json";
    app.add_option("-c,--config", config_path, "path to the config file (JSON, YAML or TOML)")
        ->capture_default_str();
    std::vector<std::pair<std::string, std::string>> overrides;
    std::vector<std::unique_ptr<std::string>> flag_values;
    std::vector<std::pair<CLI::Option*, const char*>> flag_options;
    for (const auto& f : server_flags) {
        flag_values.push_back(std::make_unique<std::string>());
        auto* opt =
            app.add_option(f.names,
                           *flag_values.back(),
                           std::string("sets ") + f.path + (f.is_bool ? " (true/false)" : ""));
        flag_options.emplace_back(opt, f.path);
    }

    auto* version = app.add_subcommand("version", "print the version");
    auto* genconfig =
        app.add_subcommand("genconfig", "generate a minimal config file with fresh secrets");
    std::string gen_path = "config.json";
    genconfig->add_option("-c,--config", gen_path, "output file (.json, .yaml, .yml, .toml)")
        ->capture_default_str();

    auto* checkconfig = app.add_subcommand("checkconfig", "validate a config file");
    std::string check_path = "config.json";
    bool strict = false;
    checkconfig->add_option("-c,--config", check_path, "config file")->capture_default_str();
    checkconfig->add_flag("-s,--strict",
                          strict,
                          "treat unknown keys and keys with no effect in this build as errors");

    auto* differences = app.add_subcommand(
        "differences", "list the Centrifugo keys this build does not act on (Markdown)");

    auto* defaultconfig = app.add_subcommand("defaultconfig", "print the full default config");
    std::string default_path;
    std::string default_base;
    bool dry_run = false;
    defaultconfig->add_option("-c,--config",
                              default_path,
                              "write to this file instead of printing (format by extension)");
    defaultconfig->add_option("-b,--base", default_base, "overlay this existing config file");
    defaultconfig->add_flag("-d,--dry-run", dry_run, "print even when -c is given");

    auto* gentoken = app.add_subcommand("gentoken", "generate a connection JWT (HS256) for a user");
    std::string token_path = "config.json";
    std::string user;
    std::int64_t ttl = 604800;
    bool quiet = false;
    gentoken->add_option("-c,--config", token_path, "config file")->capture_default_str();
    gentoken->add_option("-u,--user", user, "user ID (empty: anonymous)");
    gentoken->add_option("-t,--ttl", ttl, "token lifetime in seconds (-1: no expiration)")
        ->capture_default_str();
    gentoken->add_flag("-q,--quiet", quiet, "print only the token");

    auto* checktoken = app.add_subcommand("checktoken", "verify a connection JWT");
    std::string check_token_path = "config.json";
    std::string token;
    checktoken->add_option("-c,--config", check_token_path, "config file")->capture_default_str();
    checktoken->add_option("token", token, "the token to check");

    auto* serve = app.add_subcommand("serve", "serve static files from a directory (development)");
    std::string serve_dir = "./";
    std::string serve_address;
    std::uint16_t serve_port = 3000;
    serve->add_option("-d,--dir", serve_dir, "directory to serve")->capture_default_str();
    serve->add_option("-p,--port", serve_port, "port")->capture_default_str();
    serve->add_option("-a,--address", serve_address, "address (empty: all interfaces)");

    app.require_subcommand(0, 1);
    const auto args = normalize_bool_flags(argc, argv);
    std::vector<const char*> cargs;
    for (const auto& a : args) {
        cargs.push_back(a.c_str());
    }
    try {
        app.parse(static_cast<int>(cargs.size()), cargs.data());
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (version->parsed()) {
        std::cout << "Gyre v" << GYRE_VERSION << " (Centrifugo-compatible, client protocol v2)"
                  << std::endl;
        return 0;
    }
    if (genconfig->parsed()) {
        return cmd_genconfig(gen_path);
    }
    if (checkconfig->parsed()) {
        return cmd_checkconfig(check_path, strict);
    }
    if (differences->parsed()) {
        std::cout << config::differences_markdown() << std::flush;
        return 0;
    }
    if (defaultconfig->parsed()) {
        return cmd_defaultconfig(default_path, default_base, dry_run);
    }
    if (gentoken->parsed()) {
        return cmd_gentoken(token_path, user, ttl, quiet);
    }
    if (checktoken->parsed()) {
        return cmd_checktoken(check_token_path, token);
    }
    if (serve->parsed()) {
        return run_static_server(serve_dir, serve_address, serve_port);
    }

    // A missing file is not fatal, as in Centrifugo: environment and flags may be enough.
    config::load_options options = config_only(config_path, false);
    for (const auto& [opt, path] : flag_options) {
        if (opt->count() > 0) {
            options.overrides.emplace_back(path, opt->as<std::string>());
        }
    }
    return run_server(options);
}

} // namespace gyre::app
