#include "protocol/client/json_codec.hpp"

#include "core/utf8.hpp"
#include "protocol/client/detail/json_reader.hpp"
#include "protocol/client/detail/schema.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace gyre::protocol::client::json {

namespace {

using detail::described;
using detail::json_reader;
using detail::ok;
using detail::schema;

/// Nesting limit for schema-driven decoding (filter nodes are the only recursive type).
constexpr int max_decode_depth = 64;

// =============================================================================================
// Encoding
// =============================================================================================

/// Output plus the first error (only invalid payloads can fail); on error the caller truncates.
struct sink {
    std::string& out;
    codec_error err = ok;
};

// 0: copy as is; 1: escape (ASCII); 2: non-ASCII (validate, maybe escape U+2028/2029).
constexpr std::array<std::uint8_t, 256> make_escape_table() {
    std::array<std::uint8_t, 256> t{};
    for (std::size_t c = 0; c < 0x20; ++c) {
        t.at(c) = 1;
    }
    t['"'] = 1;
    t['\\'] = 1;
    t['<'] = 1; // Centrifuge escapes HTML characters (Go's default)
    t['>'] = 1;
    t['&'] = 1;
    for (std::size_t c = 0x80; c < 0x100; ++c) {
        t.at(c) = 2;
    }
    return t;
}

constexpr auto escape_table = make_escape_table();
constexpr std::string_view hex_digits = "0123456789abcdef";

bool write_string(std::string& out, std::string_view s) {
    out.push_back('"');
    bool lossless = true;
    std::size_t run = 0;
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::uint8_t cls = escape_table[c]; // NOLINT: c < 256 by type
        if (cls == 0) {
            ++i;
            continue;
        }
        if (cls == 1) {
            out.append(s.data() + run, i - run);
            switch (c) {
            case '"':
                out.append("\\\"", 2);
                break;
            case '\\':
                out.append("\\\\", 2);
                break;
            case '\n':
                out.append("\\n", 2);
                break;
            case '\r':
                out.append("\\r", 2);
                break;
            case '\t':
                out.append("\\t", 2);
                break;
            default:
                out.append("\\u00", 4);
                out.push_back(hex_digits.at(static_cast<std::size_t>(c >> 4U)));
                out.push_back(hex_digits.at(static_cast<std::size_t>(c & 0xFU)));
                break;
            }
            run = ++i;
            continue;
        }
        const std::size_t len = utf8::sequence_length(s, i);
        if (len == 0) {
            out.append(s.data() + run, i - run);
            out.append("\\ufffd", 6);
            lossless = false;
            run = ++i;
            continue;
        }
        if (len == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
            out.append(s.data() + run, i - run);
            out.append("\\u202", 5);
            out.push_back(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? '8' : '9');
            i += 3;
            run = i;
            continue;
        }
        i += len;
    }
    out.append(s.data() + run, n - run);
    out.push_back('"');
    return lossless;
}

/// A raw payload: validated, then copied with every raw '\n' removed (§1.3).
void write_raw(sink& s, std::string_view raw) {
    if (!detail::is_valid_json_value(raw)) {
        s.err = codec_error::invalid_payload;
        return;
    }
    const char* p = raw.data();
    const char* const end = p + raw.size();
    while (p != end) {
        const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
        if (nl == nullptr) {
            s.out.append(p, static_cast<std::size_t>(end - p));
            break;
        }
        const char* q = static_cast<const char*>(nl);
        s.out.append(p, static_cast<std::size_t>(q - p));
        p = q + 1;
    }
}

template <class I>
void write_integer(std::string& out, I v) {
    std::array<char, 24> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), static_cast<std::size_t>(res.ptr - buf.data()));
}

void write_key(std::string& out, std::string_view name, bool& first) {
    if (!first) {
        out.push_back(',');
    }
    first = false;
    out.push_back('"');
    out.append(name);
    out.append("\":", 2);
}

template <class M>
bool is_empty_value(const M& v) {
    if constexpr (std::is_integral_v<M>) {
        return v == M{};
    } else if constexpr (detail::is_optional<M>::value) {
        return !v.has_value();
    } else if constexpr (std::is_same_v<M, std::string> || detail::is_vector<M>::value ||
                         detail::is_string_map<M>::value) {
        return v.empty();
    } else {
        static_assert(described<M>);
        return false; // a plain nested message is always present
    }
}

template <described T>
void write_object(sink& s, const T& obj);

template <class M>
void write_value(sink& s, const M& v, std::uint8_t fl) {
    if constexpr (std::is_same_v<M, bool>) {
        s.out.append(v ? std::string_view("true") : std::string_view("false"));
    } else if constexpr (std::is_integral_v<M>) {
        write_integer(s.out, v);
    } else if constexpr (std::is_same_v<M, std::string>) {
        if ((fl & detail::flags::raw) != 0) {
            write_raw(s, v);
        } else {
            write_string(s.out, v);
        }
    } else if constexpr (detail::is_optional<M>::value) {
        write_object(s, *v);
    } else if constexpr (detail::is_vector<M>::value) {
        s.out.push_back('[');
        bool first = true;
        for (const auto& e : v) {
            if (!first) {
                s.out.push_back(',');
            }
            first = false;
            write_value(s, e, detail::flags::none);
        }
        s.out.push_back(']');
    } else if constexpr (detail::is_string_map<M>::value) {
        s.out.push_back('{');
        bool first = true;
        for (const auto& [key, value] : v) {
            if (!first) {
                s.out.push_back(',');
            }
            first = false;
            write_string(s.out, key);
            s.out.push_back(':');
            write_value(s, value, detail::flags::none);
        }
        s.out.push_back('}');
    } else {
        write_object(s, v);
    }
}

template <class M>
void write_field(sink& s, const M& v, std::string_view name, std::uint8_t fl, bool& first) {
    if ((fl & detail::flags::always) == 0 && is_empty_value(v)) {
        return;
    }
    write_key(s.out, name, first);
    write_value(s, v, fl);
}

template <described T>
void write_object(sink& s, const T& obj) {
    s.out.push_back('{');
    bool first = true;
    std::apply(
        [&](const auto&... fd) {
            (write_field(s, obj.*(fd.member), fd.name, fd.flags, first), ...);
        },
        schema<T>::fields);
    s.out.push_back('}');
}

void write_push_object(sink& s, const push& p) {
    s.out.push_back('{');
    bool first = true;
    if (p.id != 0) {
        write_key(s.out, "id", first);
        write_integer(s.out, p.id);
    }
    if (!p.channel.empty()) {
        write_key(s.out, "channel", first);
        write_string(s.out, p.channel);
    }
    const std::size_t idx = p.body.index();
    if (idx != 0) {
        write_key(s.out, detail::push_field_names.at(idx), first);
        std::visit(
            [&](const auto& body) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(body)>, std::monostate>) {
                    write_object(s, body);
                }
            },
            p.body);
    }
    s.out.push_back('}');
}

codec_result<void> finish(sink& s, std::size_t start) {
    if (s.err != ok) {
        s.out.resize(start);
        return s.err;
    }
    return {};
}

std::size_t estimate_size(const client_info& ci) {
    return ci.user.size() + ci.client.size() + ci.conn_info.size() + ci.chan_info.size() + 64;
}

std::size_t estimate_size(const publication& pub) {
    std::size_t n = pub.data.size() + pub.channel.size() + pub.epoch.size() + pub.key.size() + 96;
    if (pub.info) {
        n += estimate_size(*pub.info);
    }
    for (const auto& [k, v] : pub.tags) {
        n += k.size() + v.size() + 8;
    }
    return n;
}

// =============================================================================================
// Decoding
// =============================================================================================

/// What a value that is not of the expected kind is: another JSON type, or not JSON at all.
codec_error mismatch(json_reader& r) {
    const char c = r.peek();
    const bool starts_value = c == '"' || c == '{' || c == '[' || c == 't' || c == 'f' ||
                              c == 'n' || c == '-' || (c >= '0' && c <= '9');
    return starts_value ? codec_error::wrong_type : codec_error::invalid_json;
}

template <described T>
codec_error read_object(json_reader& r, T& obj, int depth);

template <class M>
codec_error read_value(json_reader& r, M& m, std::uint8_t fl, int depth);

template <class M>
codec_error read_integer(json_reader& r, M& m) {
    if constexpr (std::is_unsigned_v<M>) {
        std::uint64_t v = 0;
        if (auto ec = r.read_uint64(v); ec != ok) {
            return ec;
        }
        if (v > std::numeric_limits<M>::max()) {
            return codec_error::out_of_range;
        }
        m = static_cast<M>(v);
    } else {
        std::int64_t v = 0;
        if (auto ec = r.read_int64(v); ec != ok) {
            return ec;
        }
        if (v < std::numeric_limits<M>::min() || v > std::numeric_limits<M>::max()) {
            return codec_error::out_of_range;
        }
        m = static_cast<M>(v);
    }
    return ok;
}

/// A raw payload: the exact bytes of whatever JSON value comes next (validated).
codec_error read_raw(json_reader& r, std::string& m) {
    r.skip_ws();
    const std::size_t begin = r.pos();
    if (auto ec = r.skip_value(); ec != ok) {
        return ec;
    }
    m.assign(r.text().substr(begin, r.pos() - begin));
    return ok;
}

/// JSON arrays replace the previous content (a repeated key does not append).
template <class V>
codec_error read_array(json_reader& r, std::vector<V>& m, int depth) {
    if (!r.consume('[')) {
        return mismatch(r);
    }
    m.clear();
    if (r.consume(']')) {
        return ok;
    }
    for (;;) {
        if (auto ec = read_value(r, m.emplace_back(), detail::flags::none, depth + 1); ec != ok) {
            return ec;
        }
        if (r.consume(',')) {
            continue;
        }
        return r.consume(']') ? ok : codec_error::invalid_json;
    }
}

template <class V>
codec_error read_map(json_reader& r, std::map<std::string, V>& m, int depth) {
    if (!r.consume('{')) {
        return mismatch(r);
    }
    if (r.consume('}')) {
        return ok;
    }
    std::string key;
    for (;;) {
        if (r.peek() != '"') {
            return codec_error::invalid_json;
        }
        if (auto ec = r.read_string(key); ec != ok) {
            return ec;
        }
        if (!r.consume(':')) {
            return codec_error::invalid_json;
        }
        auto& value = m[key];
        value = V{};
        if (auto ec = read_value(r, value, detail::flags::none, depth + 1); ec != ok) {
            return ec;
        }
        if (r.consume(',')) {
            continue;
        }
        return r.consume('}') ? ok : codec_error::invalid_json;
    }
}

template <class M>
codec_error read_value(json_reader& r, M& m, std::uint8_t fl, int depth) {
    if (r.consume_null()) {
        return ok; // null means absent (§2.6)
    }
    if constexpr (std::is_same_v<M, bool>) {
        return r.read_bool(m);
    } else if constexpr (std::is_integral_v<M>) {
        return read_integer(r, m);
    } else if constexpr (std::is_same_v<M, std::string>) {
        return (fl & detail::flags::raw) != 0 ? read_raw(r, m) : r.read_string(m);
    } else if constexpr (detail::is_optional<M>::value) {
        if (!m) {
            m.emplace();
        }
        return read_object(r, *m, depth + 1); // a repeated key merges, as in Go
    } else if constexpr (detail::is_vector<M>::value) {
        return read_array(r, m, depth);
    } else if constexpr (detail::is_string_map<M>::value) {
        return read_map(r, m, depth);
    } else {
        return read_object(r, m, depth + 1);
    }
}

template <described T>
codec_error read_object(json_reader& r, T& obj, int depth) {
    if (depth > max_decode_depth) {
        return codec_error::too_deep;
    }
    if (!r.consume('{')) {
        return mismatch(r);
    }
    // Unknown keys are skipped, but must still be valid JSON.
    return detail::read_members(r, [&](std::string_view key) -> std::optional<codec_error> {
        std::optional<codec_error> result;
        std::apply(
            [&](const auto&... fd) {
                static_cast<void>(
                    ((key == fd.name
                          ? (result = read_value(r, obj.*(fd.member), fd.flags, depth), true)
                          : false) ||
                     ...));
            },
            schema<T>::fields);
        return result;
    });
}

/// One whole JSON text that must be an object of type T.
template <described T>
codec_error read_document(std::string_view text, T& obj) {
    json_reader r(text);
    if (r.peek() != '{') {
        return detail::is_valid_json_value(text) ? codec_error::not_object
                                                 : codec_error::invalid_json;
    }
    if (auto ec = read_object(r, obj, 0); ec != ok) {
        return ec;
    }
    return r.at_end() ? ok : codec_error::invalid_json;
}

/// Calls fn(line) for each '\n'-separated line (§1.3: at most one trailing '\n', no empty
/// lines, no empty frame).
template <class Fn>
codec_error for_each_line(std::string_view frame, Fn&& fn) {
    if (!frame.empty() && frame.back() == '\n') {
        frame.remove_suffix(1);
    }
    if (frame.empty()) {
        return codec_error::empty_frame;
    }
    for (;;) {
        const std::size_t nl = frame.find('\n');
        const std::string_view line = frame.substr(0, nl);
        if (line.empty()) {
            return codec_error::empty_frame;
        }
        if (auto ec = fn(line); ec != ok) {
            return ec;
        }
        if (nl == std::string_view::npos) {
            return ok;
        }
        frame.remove_prefix(nl + 1);
    }
}

std::size_t count_lines(std::string_view frame) {
    std::size_t n = 1;
    for (const char c : frame) {
        n += c == '\n' ? 1U : 0U;
    }
    return n;
}

} // namespace

// =============================================================================================
// Public API
// =============================================================================================

codec_result<std::vector<command>> decode_commands(std::string_view frame) {
    std::vector<command> out;
    out.reserve(count_lines(frame));
    const codec_error ec = for_each_line(frame, [&](std::string_view line) {
        detail::command_fields f;
        if (auto e = read_document(line, f); e != ok) {
            return e;
        }
        out.push_back(detail::select_command(std::move(f)));
        return ok;
    });
    if (ec != ok) {
        return ec;
    }
    return out;
}

codec_result<connect_request> decode_connect_request(std::string_view text) {
    connect_request req;
    json_reader r(text);
    if (r.consume_null() && r.at_end()) {
        return req;
    }
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return codec_error::empty_frame;
    }
    if (auto ec = read_document(text, req); ec != ok) {
        return ec;
    }
    return req;
}

codec_result<emulation_request> decode_emulation_request(std::string_view body) {
    emulation_request req;
    if (auto ec = read_document(body, req); ec != ok) {
        return ec;
    }
    return req;
}

codec_result<void> append_reply(std::string& out, const reply& r) {
    const std::size_t start = out.size();
    sink s{out};
    out.push_back('{');
    bool first = true;
    if (r.id != 0) {
        write_key(out, "id", first);
        write_integer(out, r.id);
    }
    const std::size_t idx = r.body.index();
    if (idx != 0) {
        write_key(out, detail::reply_field_names.at(idx), first);
        std::visit(
            [&](const auto& body) {
                using body_t = std::decay_t<decltype(body)>;
                if constexpr (std::is_same_v<body_t, push>) {
                    write_push_object(s, body);
                } else if constexpr (!std::is_same_v<body_t, std::monostate>) {
                    write_object(s, body);
                }
            },
            r.body);
    }
    out.push_back('}');
    return finish(s, start);
}

codec_result<void> append_push(std::string& out, const push& p, push_form form) {
    const std::size_t start = out.size();
    sink s{out};
    if (form == push_form::bidirectional) {
        out.append("{\"push\":");
    }
    write_push_object(s, p);
    if (form == push_form::bidirectional) {
        out.push_back('}');
    }
    return finish(s, start);
}

codec_result<void> append_publication_push(std::string& out,
                                           std::string_view channel,
                                           const publication& pub,
                                           push_form form) {
    const std::size_t start = out.size();
    out.reserve(start + estimate_size(pub) + channel.size());
    sink s{out};
    if (form == push_form::bidirectional) {
        out.append("{\"push\":");
    }
    out.push_back('{');
    bool first = true;
    if (!channel.empty()) {
        write_key(out, "channel", first);
        write_string(out, channel);
    }
    write_key(out, "pub", first);
    write_object(s, pub);
    out.push_back('}');
    if (form == push_form::bidirectional) {
        out.push_back('}');
    }
    return finish(s, start);
}

codec_result<std::string>
encode_publication_push(std::string_view channel, const publication& pub, push_form form) {
    std::string out;
    if (auto res = append_publication_push(out, channel, pub, form); !res) {
        return res.error();
    }
    return out;
}

codec_result<std::string> encode_reply(const reply& r) {
    std::string out;
    if (auto res = append_reply(out, r); !res) {
        return res.error();
    }
    return out;
}

codec_result<void> append_command(std::string& out, const command& c) {
    const std::size_t start = out.size();
    sink s{out};
    out.push_back('{');
    bool first = true;
    if (c.id != 0) {
        write_key(out, "id", first);
        write_integer(out, c.id);
    }
    const std::size_t idx = c.request.index();
    if (idx != 0) {
        write_key(out, detail::command_field_names.at(idx), first);
        std::visit(
            [&](const auto& req) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(req)>, std::monostate>) {
                    write_object(s, req);
                }
            },
            c.request);
    }
    out.push_back('}');
    return finish(s, start);
}

codec_result<std::vector<reply>> decode_replies(std::string_view frame) {
    std::vector<reply> out;
    out.reserve(count_lines(frame));
    const codec_error ec = for_each_line(frame, [&](std::string_view line) {
        detail::reply_fields f;
        if (auto e = read_document(line, f); e != ok) {
            return e;
        }
        out.push_back(detail::select_reply(std::move(f)));
        return ok;
    });
    if (ec != ok) {
        return ec;
    }
    return out;
}

codec_result<push> decode_push(std::string_view text) {
    detail::push_fields f;
    if (auto ec = read_document(text, f); ec != ok) {
        return ec;
    }
    return detail::select_push(std::move(f));
}

bool is_valid_json(std::string_view text) noexcept {
    return detail::is_valid_json_value(text);
}

bool append_string(std::string& out, std::string_view text) {
    return write_string(out, text);
}

} // namespace gyre::protocol::client::json
