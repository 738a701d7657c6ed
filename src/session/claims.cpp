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
            std::string_view raw;
            if (raw_value(value, raw)) {
                // raw_json() keeps trailing whitespace; trim it for exact payload bytes.
                while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' ||
                                        raw.back() == '\r' || raw.back() == '\t')) {
                    raw.remove_suffix(1);
                }
                (key == "info" ? out.info : out.data) = std::string(raw);
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
                        out.channels.emplace_back(ch);
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
                    if (sub.unescaped_key().get(ch) == simdjson::SUCCESS) {
                        out.channels.emplace_back(ch);
                    }
                }
            }
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
