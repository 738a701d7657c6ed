#include "session/claims.hpp"

#include "core/base64.hpp"

#include <simdjson.h>

namespace gyre::session {
namespace {

// Exact source bytes of any JSON value (simdjson 3.0 has raw_json() only on objects/arrays).
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

void read_override(simdjson::ondemand::value value, channel_override& out) {
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

void read_subs_entry(std::string_view channel,
                     simdjson::ondemand::value value,
                     server_subscription& out) {
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
        }
    }
    if (auto d = decoded(b64info)) {
        out.info = std::move(d);
    }
    if (auto d = decoded(b64data)) {
        out.data = std::move(d);
    }
}

} // namespace

token_claims read_claims(std::string_view claims_json) {
    token_claims out;
    thread_local simdjson::ondemand::parser parser;
    const simdjson::padded_string padded(claims_json);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
        out.malformed = true;
        return out;
    }
    simdjson::ondemand::object root;
    if (doc.get_object().get(root) != simdjson::SUCCESS) {
        out.malformed = true;
        return out;
    }
    bool has_subs = false;
    std::optional<std::string> b64info;
    std::optional<std::string> b64data;
    for (auto field : root) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
            out.malformed = true;
            return out;
        }
        simdjson::ondemand::value value;
        if (field.value().get(value) != simdjson::SUCCESS) {
            out.malformed = true;
            return out;
        }
        if (key == "info" || key == "data") {
            std::string raw;
            if (trimmed_raw(value, raw)) {
                (key == "info" ? out.info : out.data) = std::move(raw);
            }
        } else if (key == "b64info" || key == "b64data") {
            std::string_view s;
            if (value.get_string().get(s) == simdjson::SUCCESS) {
                (key == "b64info" ? b64info : b64data) = std::string(s);
            }
        } else if (key == "channels" && !has_subs) {
            simdjson::ondemand::array arr;
            if (value.get_array().get(arr) == simdjson::SUCCESS) {
                for (auto item : arr) {
                    std::string_view ch;
                    if (item.get_string().get(ch) == simdjson::SUCCESS) {
                        out.channels.push_back(server_subscription{std::string(ch), {}, {}, {}});
                    }
                }
            }
        } else if (key == "subs") {
            simdjson::ondemand::object subs;
            if (value.get_object().get(subs) == simdjson::SUCCESS) {
                has_subs = true;
                out.channels.clear();
                for (auto sub : subs) {
                    std::string_view ch;
                    simdjson::ondemand::value v;
                    if (sub.unescaped_key().get(ch) == simdjson::SUCCESS &&
                        sub.value().get(v) == simdjson::SUCCESS) {
                        server_subscription entry;
                        read_subs_entry(ch, v, entry);
                        out.channels.push_back(std::move(entry));
                    }
                }
            }
        } else if (key == "override") {
            read_override(value, out.override_options);
        } else if (key == "channel" || key == "client") {
            std::string_view s;
            if (value.get_string().get(s) == simdjson::SUCCESS) {
                (key == "channel" ? out.channel : out.client) = std::string(s);
            }
        } else if (key == "expire_at") {
            std::int64_t v = 0;
            double d = 0;
            if (value.get_int64().get(v) == simdjson::SUCCESS) {
                out.expire_at = v;
            } else if (value.get_double().get(d) == simdjson::SUCCESS) {
                out.expire_at = static_cast<std::int64_t>(d);
            }
        }
    }
    // b64 forms take precedence over the JSON forms, as in Centrifugo.
    if (b64info) {
        if (auto decoded = base64::decode(*b64info)) {
            out.info = std::move(*decoded);
        }
    }
    if (b64data) {
        if (auto decoded = base64::decode(*b64data)) {
            out.data = std::move(*decoded);
        }
    }
    return out;
}

} // namespace gyre::session
