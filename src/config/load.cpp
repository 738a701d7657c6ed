#include "config/load.hpp"

#include "config/duration.hpp"
#include "config/schema.hpp"
#include "core/strings.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ; // NOLINT: POSIX

namespace gyre::config {
namespace json = boost::json;

namespace {

std::string show(const json::value& v) {
    std::string s = json::serialize(v);
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

[[noreturn]] void type_error(const std::string& path, const json::value& v, std::string_view what) {
    throw config_error("invalid value for " + path + ": " + show(v) + " (expected " +
                       std::string(what) + ")");
}

json::value coerce_bool(const std::string& path, const json::value& v) {
    if (v.is_bool()) {
        return v;
    }
    if (v.is_string()) { // env, flags, quoted YAML: Go's ParseBool spellings
        const std::string s = strings::to_lower(std::string(v.get_string()));
        if (s == "1" || s == "t" || s == "true") {
            return true;
        }
        if (s == "0" || s == "f" || s == "false") {
            return false;
        }
    }
    if (v.is_int64() && (v.get_int64() == 0 || v.get_int64() == 1)) {
        return v.get_int64() == 1;
    }
    type_error(path, v, "a boolean");
}

json::value coerce_int(const std::string& path, const json::value& v) {
    std::int64_t out = 0;
    if (v.is_int64()) {
        out = v.get_int64();
    } else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = static_cast<std::int64_t>(v.get_uint64());
    } else if (v.is_double() && std::floor(v.get_double()) == v.get_double() &&
               std::fabs(v.get_double()) < 9e18) {
        out = static_cast<std::int64_t>(v.get_double());
    } else if (v.is_string()) {
        const auto s = v.get_string();
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) {
            type_error(path, v, "an integer");
        }
    } else {
        type_error(path, v, "an integer");
    }
    if (out < 0) {
        type_error(path, v, "a non-negative integer");
    }
    return out;
}

json::value coerce_duration(const std::string& path, const json::value& v) {
    if (v.is_int64() || v.is_uint64()) { // a bare number is nanoseconds, as in Centrifugo
        return json::value(format_duration(std::chrono::nanoseconds(v.to_number<std::int64_t>())));
    }
    if (v.is_string()) {
        if (auto d = parse_duration(v.get_string())) {
            return json::value(format_duration(*d));
        }
    }
    type_error(path, v, "a duration such as \"500ms\", \"25s\", \"1h\"");
}

json::value coerce_string(const std::string& path, const json::value& v) {
    if (v.is_string()) {
        return v;
    }
    if (v.is_int64() || v.is_uint64()) { // internal_port: 9000 is common in real files
        return json::value(json::serialize(v));
    }
    type_error(path, v, "a string");
}

json::value maybe_json_text(const json::value& v, char open) {
    if (v.is_string() && !v.get_string().empty() && v.get_string()[0] == open) {
        boost::system::error_code ec;
        json::value parsed = json::parse(v.get_string(), ec);
        if (!ec) {
            return parsed;
        }
    }
    return v;
}

json::value coerce_string_list(const std::string& path, const json::value& v) {
    json::array out;
    if (v.is_string()) { // env style: space-separated
        for (auto& part : strings::split_whitespace(v.get_string())) {
            out.emplace_back(part);
        }
        return out;
    }
    if (!v.is_array()) {
        type_error(path, v, "a list of strings");
    }
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        out.push_back(coerce_string(path + "[" + std::to_string(i) + "]", v.get_array()[i]));
    }
    return out;
}

void merge_into(json::object& target,
                const json::object& given,
                const json::object& schema,
                const std::string& schema_prefix,
                const std::string& display_prefix,
                std::vector<std::string>& warnings);

json::value coerce_object_list(const std::string& schema_path,
                               const std::string& display_path,
                               const json::value& raw,
                               const json::object& item,
                               std::vector<std::string>& warnings) {
    const json::value v = maybe_json_text(raw, '[');
    if (!v.is_array()) {
        type_error(display_path, v, "a list of objects");
    }
    json::array out;
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        const auto& element = v.get_array()[i];
        const std::string where = display_path + "[" + std::to_string(i) + "]";
        if (!element.is_object()) {
            type_error(where, element, "an object");
        }
        if (item.empty()) { // free-form items (consumers, transforms)
            out.push_back(element);
            continue;
        }
        json::object merged = item;
        merge_into(merged, element.get_object(), item, schema_path + "[]", where, warnings);
        out.emplace_back(std::move(merged));
    }
    return out;
}

/// `channels`: each entry is checked as channel options; only the options given are kept, so
/// that binding can lay them over the channel's namespace.
void merge_named_channels(json::value& target,
                          const json::value& raw,
                          const std::string& path,
                          std::vector<std::string>& warnings) {
    const json::value v = maybe_json_text(raw, '{');
    if (!v.is_object()) {
        type_error(path, v, "an object of channel name -> channel options");
    }
    if (!target.is_object()) {
        target = json::object{};
    }
    for (const auto& kv : v.get_object()) {
        const std::string where = path + "." + std::string(kv.key());
        if (!kv.value().is_object()) {
            type_error(where, kv.value(), "an object of channel options");
        }
        json::object given = kv.value().get_object();
        rename_legacy_channel_options(given);
        json::value& entry = target.get_object()[kv.key()];
        if (!entry.is_object()) {
            entry = json::object{};
        }
        merge_into(entry.get_object(),
                   given,
                   channel_options_schema(),
                   "channel.without_namespace",
                   where,
                   warnings);
    }
}

void merge_into(json::object& target,
                const json::object& given,
                const json::object& schema,
                const std::string& schema_prefix,
                const std::string& display_prefix,
                std::vector<std::string>& warnings) {
    for (const auto& kv : given) {
        const std::string key(kv.key());
        const std::string schema_path = schema_prefix.empty() ? key : schema_prefix + "." + key;
        const std::string path = display_prefix.empty() ? key : display_prefix + "." + key;
        const json::value* def = schema.if_contains(key);
        if (def == nullptr) {
            warnings.push_back("unknown configuration key: " + path);
            continue;
        }
        const json::value& v = kv.value();
        if (is_named_channels_path(schema_path)) {
            merge_named_channels(target[key], v, path, warnings);
        } else if (def->is_object()) {
            if (is_free_map_path(schema_path)) {
                const json::value m = maybe_json_text(v, '{');
                if (!m.is_object()) {
                    type_error(path, v, "an object");
                }
                target[key] = m;
                continue;
            }
            if (!v.is_object()) {
                type_error(path, v, "an object of options");
            }
            json::value& sub = target[key];
            if (!sub.is_object()) {
                sub = def->get_object();
            }
            merge_into(
                sub.get_object(), v.get_object(), def->get_object(), schema_path, path, warnings);
        } else if (def->is_array()) {
            if (const json::object* item = item_schema(schema_path); item != nullptr) {
                target[key] = coerce_object_list(schema_path, path, v, *item, warnings);
            } else {
                target[key] = coerce_string_list(path, v);
            }
        } else if (v.is_null()) {
            continue; // explicit null: keep the default, as viper does
        } else if (is_duration_path(schema_path)) {
            target[key] = coerce_duration(path, v);
        } else if (def->is_bool()) {
            target[key] = coerce_bool(path, v);
        } else if (def->is_int64()) {
            target[key] = coerce_int(path, v);
        } else {
            target[key] = coerce_string(path, v);
        }
    }
}

std::string read_file(const std::string& path, bool& found) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        found = false;
        if (errno == ENOENT) {
            return {};
        }
        throw config_error("cannot read config file " + path + ": " + std::strerror(errno));
    }
    found = true;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Environment: every schema leaf P is settable as CENTRIFUGO_<P> and GYRE_<P> (upper-cased,
// dots as underscores); legacy flat keys as CENTRIFUGO_<KEY>, mapped like file keys.
void collect_env_names(const json::object& schema,
                       const std::string& prefix,
                       std::vector<std::pair<std::string, std::string>>& out) {
    for (const auto& kv : schema) {
        const std::string path =
            prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
        if (kv.value().is_object() && !is_free_map_path(path) && !is_named_channels_path(path)) {
            collect_env_names(kv.value().get_object(), path, out);
        } else {
            std::string name = strings::to_upper(path);
            std::replace(name.begin(), name.end(), '.', '_');
            out.emplace_back(name, path);
        }
    }
}

const std::vector<std::pair<std::string, std::string>>& env_names() {
    static const auto names = [] {
        std::vector<std::pair<std::string, std::string>> n;
        collect_env_names(default_tree(), "", n);
        return n;
    }();
    return names;
}

void set_dotted(json::object& root, std::string_view path, json::value value) {
    json::object* cur = &root;
    for (;;) {
        const auto dot = path.find('.');
        if (dot == std::string_view::npos) {
            (*cur)[path] = std::move(value);
            return;
        }
        auto& next = (*cur)[path.substr(0, dot)];
        if (!next.is_object()) {
            next = json::object{};
        }
        cur = &next.get_object();
        path.remove_prefix(dot + 1);
    }
}

bool ignored_env(std::string_view name) {
    // Kubernetes service injection and ${CENTRIFUGO_VAR_*} substitution sources.
    return name.find("_PORT") != std::string_view::npos ||
           name.find("_SERVICE_") != std::string_view::npos ||
           name.starts_with("CENTRIFUGO_VAR_") || name.starts_with("GYRE_TEST_");
}

void apply_environment(json::object& tree,
                       const std::vector<std::pair<std::string, std::string>>& environment,
                       std::vector<std::string>& warnings) {
    json::object legacy_tree;
    json::object v6_tree;
    json::object gyre_tree;
    for (const auto& [name, value] : environment) {
        if (value.empty()) {
            continue; // empty = unset, as Centrifugo treats it
        }
        std::string_view rest;
        bool is_gyre = false;
        if (name.starts_with("CENTRIFUGO_")) {
            rest = std::string_view(name).substr(11);
        } else if (name.starts_with("GYRE_")) {
            rest = std::string_view(name).substr(5);
            is_gyre = true;
        } else {
            continue;
        }
        bool known = false;
        for (const auto& [env, path] : env_names()) {
            if (env == rest) {
                set_dotted(is_gyre ? gyre_tree : v6_tree, path, json::value(value));
                known = true;
                break;
            }
        }
        if (!known) {
            // Maybe a legacy flat key (CENTRIFUGO_API_KEY, CENTRIFUGO_TOKEN_HMAC_SECRET_KEY).
            const json::object before{{strings::to_lower(rest), json::value(value)}};
            json::object probe = before;
            std::vector<std::string> ignored;
            apply_legacy_keys(probe, ignored);
            if (probe == before) { // not a legacy name either
                if (!ignored_env(name)) {
                    warnings.push_back("unknown environment variable: " + name);
                }
                continue;
            }
            legacy_tree[strings::to_lower(rest)] = json::value(value);
        }
    }
    std::vector<std::string> legacy_notes;
    apply_legacy_keys(legacy_tree, legacy_notes);
    merge_checked(tree, legacy_tree, warnings);
    merge_checked(tree, v6_tree, warnings);
    merge_checked(tree, gyre_tree, warnings);
}

} // namespace

void merge_checked(json::object& target,
                   const json::object& given,
                   std::vector<std::string>& warnings) {
    merge_into(target, given, default_tree(), "", "", warnings);
}

std::vector<std::pair<std::string, std::string>> process_environment() {
    std::vector<std::pair<std::string, std::string>> out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq != std::string_view::npos) {
            out.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
        }
    }
    return out;
}

load_result load(const load_options& options) {
    load_result result;
    json::object tree = default_tree();
    if (!options.file.empty()) {
        const std::string text = read_file(options.file, result.file_found);
        if (!result.file_found) {
            if (options.file_required) {
                throw config_error("config file not found: " + options.file);
            }
            result.warnings.push_back("config file " + options.file +
                                      " not found, continue using environment and flag options");
        } else {
            const auto format = format_for_path(options.file).value_or(file_format::json);
            json::object file_tree = parse_text(text, format, options.file);
            apply_legacy_keys(file_tree, result.warnings);
            merge_checked(tree, file_tree, result.warnings);
        }
    }
    apply_environment(tree, options.environment, result.warnings);
    json::object flags;
    for (const auto& [path, value] : options.overrides) {
        set_dotted(flags, path, json::value(value));
    }
    merge_checked(tree, flags, result.warnings);
    result.cfg = bind_and_validate(tree);
    result.unsupported = find_unsupported(result.cfg.tree);
    return result;
}

} // namespace gyre::config
