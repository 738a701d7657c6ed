// Reading and writing config files: JSON (Boost.JSON), YAML (yaml-cpp) and TOML (toml++), all
// converted to and from one JSON tree so the rest of config/ sees a single representation.
#include "config/load.hpp"

#include <boost/json.hpp>
#include <toml++/toml.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace gyre::config {
namespace json = boost::json;

namespace {

std::string lower_ext(std::string_view path) {
    const auto dot = path.rfind('.');
    if (dot == std::string_view::npos) {
        return {};
    }
    std::string ext(path.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return ext;
}

json::value yaml_scalar(const YAML::Node& node) {
    const std::string& s = node.Scalar();
    if (node.Tag() == "!") { // quoted: always a string
        return json::value(s);
    }
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
        return nullptr;
    }
    if (s == "true" || s == "True" || s == "TRUE") {
        return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
        return false;
    }
    std::int64_t i = 0;
    if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
        ec == std::errc{} && p == s.data() + s.size()) {
        return i;
    }
    double d = 0;
    if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        ec == std::errc{} && p == s.data() + s.size()) {
        return d;
    }
    return json::value(s);
}

// YAML aliases share nodes; copying them out can expand a few hundred bytes into billions of
// values ("billion laughs"). Config files are small: cap the values converted.
constexpr std::size_t max_yaml_values = 1'000'000;

// An alias may refer to a node that contains it (`&a [*a]`): a cycle, never a config. Real
// configs nest a handful of levels; a cap on depth ends the walk before the stack does.
constexpr std::size_t max_yaml_depth = 64;

json::value from_yaml(const YAML::Node& node, std::size_t& budget, std::size_t depth = 0) {
    if (budget == 0) {
        throw config_error("too many values (nested YAML aliases?)");
    }
    if (depth > max_yaml_depth) {
        throw config_error("nested too deep (a YAML alias that contains itself?)");
    }
    --budget;
    switch (node.Type()) {
    case YAML::NodeType::Map: {
        json::object o;
        for (const auto& kv : node) {
            o[kv.first.as<std::string>()] = from_yaml(kv.second, budget, depth + 1);
        }
        return o;
    }
    case YAML::NodeType::Sequence: {
        json::array a;
        for (const auto& item : node) {
            a.push_back(from_yaml(item, budget, depth + 1));
        }
        return a;
    }
    case YAML::NodeType::Scalar:
        return yaml_scalar(node);
    default:
        return nullptr;
    }
}

json::value from_toml(const toml::node& node) {
    if (const auto* t = node.as_table()) {
        json::object o;
        for (const auto& [k, v] : *t) {
            o[std::string(k.str())] = from_toml(v);
        }
        return o;
    }
    if (const auto* a = node.as_array()) {
        json::array out;
        for (const auto& v : *a) {
            out.push_back(from_toml(v));
        }
        return out;
    }
    if (const auto* s = node.as_string()) {
        return json::value(s->get());
    }
    if (const auto* i = node.as_integer()) {
        return i->get();
    }
    if (const auto* f = node.as_floating_point()) {
        return f->get();
    }
    if (const auto* b = node.as_boolean()) {
        return b->get();
    }
    std::ostringstream os; // dates and times: keep their text
    node.visit([&os](const auto& v) {
        if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> ||
                      toml::is_date_time<decltype(v)>) {
            os << v;
        }
    });
    return json::value(os.str());
}

std::size_t line_of(std::string_view text, std::size_t offset) {
    return 1 + static_cast<std::size_t>(std::count(
                   text.begin(),
                   text.begin() + static_cast<std::ptrdiff_t>(std::min(offset, text.size())),
                   '\n'));
}

void pretty_json(std::string& out, const json::value& v, int indent) {
    const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
    if (v.is_object()) {
        const auto& o = v.get_object();
        if (o.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        std::size_t i = 0;
        for (const auto& kv : o) {
            out += pad + "  " + json::serialize(json::string(kv.key())) + ": ";
            pretty_json(out, kv.value(), indent + 1);
            out += ++i < o.size() ? ",\n" : "\n";
        }
        out += pad + "}";
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        if (a.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < a.size(); ++i) {
            out += pad + "  ";
            pretty_json(out, a[i], indent + 1);
            out += i + 1 < a.size() ? ",\n" : "\n";
        }
        out += pad + "]";
    } else {
        out += json::serialize(v);
    }
}

void emit_yaml(YAML::Emitter& e, const json::value& v) {
    if (v.is_object()) {
        e << YAML::BeginMap;
        for (const auto& kv : v.get_object()) {
            e << YAML::Key << std::string(kv.key()) << YAML::Value;
            emit_yaml(e, kv.value());
        }
        e << YAML::EndMap;
    } else if (v.is_array()) {
        e << YAML::Flow << YAML::BeginSeq;
        for (const auto& item : v.get_array()) {
            emit_yaml(e, item);
        }
        e << YAML::EndSeq;
    } else if (v.is_string()) {
        e << YAML::DoubleQuoted << std::string(v.get_string());
    } else if (v.is_bool()) {
        e << v.get_bool();
    } else if (v.is_int64()) {
        e << v.get_int64();
    } else if (v.is_uint64()) {
        e << v.get_uint64();
    } else if (v.is_double()) {
        e << v.get_double();
    } else {
        e << YAML::Null;
    }
}

toml::table to_toml_table(const json::object& o);

void push_toml(toml::array& arr, const json::value& v) {
    if (v.is_object()) {
        arr.push_back(to_toml_table(v.get_object()));
    } else if (v.is_string()) {
        arr.push_back(std::string(v.get_string()));
    } else if (v.is_bool()) {
        arr.push_back(v.get_bool());
    } else if (v.is_int64()) {
        arr.push_back(v.get_int64());
    } else if (v.is_double()) {
        arr.push_back(v.get_double());
    }
}

toml::table to_toml_table(const json::object& o) {
    toml::table t;
    for (const auto& kv : o) {
        const std::string key(kv.key());
        const auto& v = kv.value();
        if (v.is_object()) {
            t.insert(key, to_toml_table(v.get_object()));
        } else if (v.is_array()) {
            toml::array arr;
            for (const auto& item : v.get_array()) {
                push_toml(arr, item);
            }
            t.insert(key, std::move(arr));
        } else if (v.is_string()) {
            t.insert(key, std::string(v.get_string()));
        } else if (v.is_bool()) {
            t.insert(key, v.get_bool());
        } else if (v.is_int64()) {
            t.insert(key, v.get_int64());
        } else if (v.is_uint64()) {
            t.insert(key, static_cast<std::int64_t>(v.get_uint64()));
        } else if (v.is_double()) {
            t.insert(key, v.get_double());
        }
    }
    return t;
}

} // namespace

std::optional<file_format> format_for_path(std::string_view path) {
    const auto ext = lower_ext(path);
    if (ext == "json") {
        return file_format::json;
    }
    if (ext == "yaml" || ext == "yml") {
        return file_format::yaml;
    }
    if (ext == "toml") {
        return file_format::toml;
    }
    return std::nullopt;
}

json::object parse_text(std::string_view text, file_format format, std::string_view origin) {
    const std::string where(origin);
    json::value root;
    switch (format) {
    case file_format::json: {
        json::stream_parser parser;
        boost::system::error_code ec;
        const std::size_t used = parser.write_some(text.data(), text.size(), ec);
        if (!ec) {
            parser.finish(ec);
        }
        if (ec) {
            throw config_error(where + ": invalid JSON at line " +
                               std::to_string(line_of(text, used)) + ": " + ec.message());
        }
        root = parser.release();
        break;
    }
    case file_format::yaml:
        try {
            const YAML::Node node = YAML::Load(std::string(text));
            std::size_t budget = max_yaml_values;
            root = node.IsNull() ? json::value(json::object{}) : from_yaml(node, budget);
        } catch (const config_error& e) {
            throw config_error(where + ": invalid YAML: " + e.what());
        } catch (const YAML::Exception& e) {
            throw config_error(where + ": invalid YAML at line " + std::to_string(e.mark.line + 1) +
                               ": " + e.msg);
        }
        break;
    case file_format::toml:
        try {
            const toml::table table = toml::parse(text, where);
            root = from_toml(table);
        } catch (const toml::parse_error& e) {
            throw config_error(where + ": invalid TOML at line " +
                               std::to_string(e.source().begin.line) + ": " +
                               std::string(e.description()));
        }
        break;
    }
    if (!root.is_object()) {
        throw config_error(where + ": the top level must be an object of configuration keys");
    }
    return std::move(root.get_object());
}

std::string render(const json::object& tree, file_format format) {
    switch (format) {
    case file_format::json: {
        std::string out;
        pretty_json(out, tree, 0);
        return out + "\n";
    }
    case file_format::yaml: {
        YAML::Emitter e;
        emit_yaml(e, tree);
        return std::string(e.c_str()) + "\n";
    }
    case file_format::toml: {
        std::ostringstream os;
        os << to_toml_table(tree) << "\n";
        return os.str();
    }
    }
    return {};
}

} // namespace gyre::config
