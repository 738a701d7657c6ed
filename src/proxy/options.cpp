#include "proxy/options.hpp"

#include "config/duration.hpp"
#include "config/error.hpp"
#include "core/strings.hpp"

namespace gyre::proxy {
namespace json = boost::json;

namespace {

std::vector<std::pair<std::string, std::string>> string_map(const json::object& o,
                                                            const std::string& path) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : o) {
        if (!v.is_string()) {
            throw config::config_error(path + "." + std::string(k) + ": must be a string");
        }
        out.emplace_back(std::string(k), std::string(v.as_string()));
    }
    return out;
}

std::vector<options::status_transform> status_transforms(const json::array& items,
                                                         const std::string& path) {
    std::vector<options::status_transform> out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string where = path + "[" + std::to_string(i) + "]";
        const auto* item = items[i].if_object();
        const auto* status = item != nullptr ? item->if_contains("status_code") : nullptr;
        if (status == nullptr || !status->is_int64() || status->as_int64() <= 0) {
            throw config::config_error(where + ".status_code: must be a positive number");
        }
        options::status_transform t;
        t.status = static_cast<unsigned>(status->as_int64());
        auto code_of = [](const json::object& o) {
            const auto* c = o.if_contains("code");
            return c != nullptr && c->is_int64() ? static_cast<std::uint32_t>(c->as_int64()) : 0U;
        };
        auto text_of = [](const json::object& o, const char* key) {
            const auto* s = o.if_contains(key);
            return s != nullptr && s->is_string() ? std::string(s->as_string()) : std::string{};
        };
        if (const auto* e = item->if_contains("to_error");
            e != nullptr && e->is_object() && code_of(e->as_object()) > 0) {
            const auto& eo = e->as_object();
            const auto* temp = eo.if_contains("temporary");
            t.to_error = error{code_of(eo),
                               text_of(eo, "message"),
                               temp != nullptr && temp->is_bool() && temp->as_bool()};
        } else if (const auto* d = item->if_contains("to_disconnect");
                   d != nullptr && d->is_object() && code_of(d->as_object()) > 0) {
            t.to_disconnect =
                disconnect{code_of(d->as_object()), text_of(d->as_object(), "reason")};
        } else {
            throw config::config_error(where + ": needs to_error.code or to_disconnect.code");
        }
        out.push_back(std::move(t));
    }
    return out;
}

} // namespace

options parse_options(const json::object& o, const std::string& path, std::string name) {
    options out;
    out.name = std::move(name);
    out.endpoint = std::string(o.at("endpoint").as_string());
    if (out.endpoint.empty()) {
        throw config::config_error(path + ".endpoint: must be set for an enabled proxy");
    }
    const auto timeout = config::parse_duration(o.at("timeout").as_string());
    if (!timeout || timeout->count() <= 0) {
        throw config::config_error(path + ".timeout: must be a positive duration");
    }
    out.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
    for (const auto& h : o.at("http_headers").as_array()) {
        out.http_headers.push_back(strings::to_lower(std::string(h.as_string())));
    }
    out.binary_encoding = o.at("binary_encoding").as_bool();
    out.include_connection_meta = o.at("include_connection_meta").as_bool();
    const auto& http = o.at("http").as_object();
    out.static_headers =
        string_map(http.at("static_headers").as_object(), path + ".http.static_headers");
    out.status_transforms = status_transforms(http.at("status_to_code_transforms").as_array(),
                                              path + ".http.status_to_code_transforms");
    const auto& grpc = o.at("grpc").as_object();
    out.grpc_credentials_key = std::string(grpc.at("credentials_key").as_string());
    out.grpc_credentials_value = std::string(grpc.at("credentials_value").as_string());
    out.grpc_compression = grpc.at("compression").as_bool();
    out.grpc_static_metadata =
        string_map(grpc.at("static_metadata").as_object(), path + ".grpc.static_metadata");
    return out;
}

} // namespace gyre::proxy
