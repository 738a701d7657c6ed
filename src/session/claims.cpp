#include "session/claims.hpp"

#include "core/base64.hpp"
#include "protocol/json_fields.hpp"

#include <simdjson.h>

namespace gyre::session {

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
            if (protocol::json_fields::trimmed_raw(value, raw)) {
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
                        protocol::json_fields::read_subscription(ch, v, entry);
                        out.channels.push_back(std::move(entry));
                    }
                }
            }
        } else if (key == "override") {
            protocol::json_fields::read_override(value, out.override_options);
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
