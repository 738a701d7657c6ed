#include "protocol/json_fields.hpp"

#include "core/base64.hpp"

namespace gyre::protocol::json_fields {

// Exact source bytes of any JSON value (simdjson 3.0 has raw_json() only on objects/arrays).
namespace {

bool raw_value(simdjson::ondemand::value value, std::string_view& raw) {
    simdjson::ondemand::json_type type{};
    if (value.type().get(type) != simdjson::SUCCESS) {
        return false;
    }
    if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object o;
        return value.get_object().get(o) == simdjson::SUCCESS &&
               o.raw_json().get(raw) == simdjson::SUCCESS;
    }
    if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array a;
        return value.get_array().get(a) == simdjson::SUCCESS &&
               a.raw_json().get(raw) == simdjson::SUCCESS;
    }
    raw = value.raw_json_token();
    return true;
}

} // namespace

bool trimmed_raw(simdjson::ondemand::value value, std::string& out) {
    std::string_view raw;
    if (!raw_value(value, raw)) {
        return false;
    }
    // raw_json_token() keeps trailing whitespace; trim it for exact payload bytes.
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
        raw.remove_suffix(1);
    }
    out.assign(raw);
    return true;
}

void read_override(simdjson::ondemand::value value, model::channel_override& out) {
    simdjson::ondemand::object o;
    if (value.get_object().get(o) != simdjson::SUCCESS) {
        return;
    }
    for (auto field : o) {
        std::string_view key;
        simdjson::ondemand::value v;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
            field.value().get(v) != simdjson::SUCCESS) {
            return;
        }
        simdjson::ondemand::object wrapper; // {"value": bool}
        bool flag = false;
        if (v.get_object().get(wrapper) != simdjson::SUCCESS ||
            wrapper["value"].get_bool().get(flag) != simdjson::SUCCESS) {
            continue;
        }
        if (key == "presence") {
            out.presence = flag;
        } else if (key == "join_leave") {
            out.join_leave = flag;
        } else if (key == "force_push_join_leave") {
            out.force_push_join_leave = flag;
        } else if (key == "force_recovery") {
            out.force_recovery = flag;
        } else if (key == "force_positioning") {
            out.force_positioning = flag;
        }
    }
}

std::optional<std::string> decoded(const std::optional<std::string>& b64) {
    if (!b64) {
        return std::nullopt;
    }
    return base64::decode(*b64);
}

void read_subscription(std::string_view channel,
                       simdjson::ondemand::value value,
                       model::server_subscription& out) {
    out.channel = std::string(channel);
    simdjson::ondemand::object o;
    if (value.get_object().get(o) != simdjson::SUCCESS) {
        return;
    }
    std::optional<std::string> b64info;
    std::optional<std::string> b64data;
    for (auto field : o) {
        std::string_view key;
        simdjson::ondemand::value v;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
            field.value().get(v) != simdjson::SUCCESS) {
            return;
        }
        std::string raw;
        std::string_view text;
        if ((key == "info" || key == "data") && trimmed_raw(v, raw)) {
            (key == "info" ? out.info : out.data) = std::move(raw);
        } else if ((key == "b64info" || key == "b64data") &&
                   v.get_string().get(text) == simdjson::SUCCESS) {
            (key == "b64info" ? b64info : b64data) = std::string(text);
        } else if (key == "override") {
            read_override(v, out.override_options);
        } else if (key == "expire_at") {
            std::int64_t at = 0;
            if (v.get_int64().get(at) == simdjson::SUCCESS) {
                out.expire_at = at;
            }
        }
    }
    if (auto d = decoded(b64info)) {
        out.info = std::move(d);
    }
    if (auto d = decoded(b64data)) {
        out.data = std::move(d);
    }
}

} // namespace gyre::protocol::json_fields
