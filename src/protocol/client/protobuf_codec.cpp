#include "protocol/client/protobuf_codec.hpp"

#include "protocol/client/detail/json_reader.hpp"
#include "protocol/client/detail/schema.hpp"

#include <array>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace gyre::protocol::client::protobuf {

namespace {

using detail::described;
using detail::ok;
using detail::schema;

constexpr int max_decode_depth = 64;

enum wire_type : std::uint32_t {
    wt_varint = 0,
    wt_fixed64 = 1,
    wt_len = 2,
    wt_group_start = 3,
    wt_group_end = 4,
    wt_fixed32 = 5,
};

constexpr std::uint64_t max_field_number = (std::uint64_t{1} << 29) - 1;

// =============================================================================================
// Encoding: sizes first, then bytes written through a pointer into pre-sized storage.
// =============================================================================================

constexpr std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

constexpr std::size_t tag_size(std::uint32_t number) noexcept {
    return varint_size(std::uint64_t{number} << 3);
}

inline void put_varint(char*& p, std::uint64_t v) noexcept {
    while (v >= 0x80) {
        *p++ = static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    *p++ = static_cast<char>(v);
}

inline void put_tag(char*& p, std::uint32_t number, wire_type wt) noexcept {
    put_varint(p, (std::uint64_t{number} << 3) | wt);
}

inline void put_bytes(char*& p, std::uint32_t number, std::string_view s) noexcept {
    put_tag(p, number, wt_len);
    put_varint(p, s.size());
    if (!s.empty()) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
}

template <class M>
std::uint64_t varint_value(M v, std::uint8_t fl) noexcept {
    if constexpr (std::is_same_v<M, bool>) {
        return v ? 1U : 0U;
    } else if constexpr (std::is_unsigned_v<M>) {
        return v;
    } else if constexpr (std::is_same_v<M, std::int64_t>) {
        if ((fl & detail::flags::zigzag) != 0) {
            return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
        }
        return static_cast<std::uint64_t>(v);
    } else {
        // int32: negative values are sign-extended to 10 bytes, as protobuf requires.
        return static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
    }
}

template <described T>
std::size_t body_size(const T& obj);

/// Encoded size of a length-delimited payload of `len` bytes with its tag.
constexpr std::size_t len_field_size(std::uint32_t number, std::size_t len) noexcept {
    return tag_size(number) + varint_size(len) + len;
}

template <class V>
std::size_t map_value_size(const V& v) {
    if constexpr (std::is_same_v<V, std::string>) {
        return len_field_size(2, v.size());
    } else {
        return len_field_size(2, body_size(v));
    }
}

template <class M>
std::size_t field_size(const M& v, std::uint32_t number, std::uint8_t fl) {
    if constexpr (std::is_integral_v<M>) {
        return v == 0 ? 0 : tag_size(number) + varint_size(varint_value(v, fl));
    } else if constexpr (std::is_same_v<M, std::string>) {
        return v.empty() ? 0 : len_field_size(number, v.size());
    } else if constexpr (detail::is_optional<M>::value) {
        return v ? len_field_size(number, body_size(*v)) : 0;
    } else if constexpr (detail::is_vector<M>::value) {
        std::size_t n = 0;
        for (const auto& e : v) {
            if constexpr (std::is_same_v<typename M::value_type, std::string>) {
                n += len_field_size(number, e.size());
            } else {
                n += len_field_size(number, body_size(e));
            }
        }
        return n;
    } else if constexpr (detail::is_string_map<M>::value) {
        std::size_t n = 0;
        for (const auto& [key, value] : v) {
            n += len_field_size(number, len_field_size(1, key.size()) + map_value_size(value));
        }
        return n;
    } else {
        static_assert(described<M>);
        return len_field_size(number, body_size(v));
    }
}

template <described T>
std::size_t body_size(const T& obj) {
    return std::apply(
        [&](const auto&... fd) {
            return (std::size_t{0} + ... + field_size(obj.*(fd.member), fd.number, fd.flags));
        },
        schema<T>::fields);
}

template <described T>
void write_body(char*& p, const T& obj);

template <described T>
void write_message(char*& p, std::uint32_t number, const T& obj) {
    put_tag(p, number, wt_len);
    put_varint(p, body_size(obj));
    write_body(p, obj);
}

template <class M>
void write_field(char*& p, const M& v, std::uint32_t number, std::uint8_t fl) {
    if constexpr (std::is_integral_v<M>) {
        if (v != 0) {
            put_tag(p, number, wt_varint);
            put_varint(p, varint_value(v, fl));
        }
    } else if constexpr (std::is_same_v<M, std::string>) {
        if (!v.empty()) {
            put_bytes(p, number, v);
        }
    } else if constexpr (detail::is_optional<M>::value) {
        if (v) {
            write_message(p, number, *v);
        }
    } else if constexpr (detail::is_vector<M>::value) {
        for (const auto& e : v) {
            if constexpr (std::is_same_v<typename M::value_type, std::string>) {
                put_bytes(p, number, e);
            } else {
                write_message(p, number, e);
            }
        }
    } else if constexpr (detail::is_string_map<M>::value) {
        // Map entries always carry both key and value, as protoc and Go write them.
        for (const auto& [key, value] : v) {
            put_tag(p, number, wt_len);
            put_varint(p, len_field_size(1, key.size()) + map_value_size(value));
            put_bytes(p, 1, key);
            if constexpr (std::is_same_v<typename M::mapped_type, std::string>) {
                put_bytes(p, 2, value);
            } else {
                write_message(p, 2, value);
            }
        }
    } else {
        write_message(p, number, v);
    }
}

template <described T>
void write_body(char*& p, const T& obj) {
    std::apply(
        [&](const auto&... fd) { (write_field(p, obj.*(fd.member), fd.number, fd.flags), ...); },
        schema<T>::fields);
}

/// Push message body (envelope with a variant).
std::size_t push_body_size(const push& p) {
    std::size_t n = field_size(p.id, 1, detail::flags::none) + field_size(p.channel, 2, 0);
    std::visit(
        [&](const auto& body) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(body)>, std::monostate>) {
                n += len_field_size(detail::push_field_numbers.at(p.body.index()), body_size(body));
            }
        },
        p.body);
    return n;
}

void write_push_body(char*& out, const push& p) {
    write_field(out, p.id, 1, detail::flags::none);
    write_field(out, p.channel, 2, detail::flags::none);
    std::visit(
        [&](const auto& body) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(body)>, std::monostate>) {
                write_message(out, detail::push_field_numbers.at(p.body.index()), body);
            }
        },
        p.body);
}

std::size_t reply_body_size(const reply& r) {
    std::size_t n = field_size(r.id, 1, detail::flags::none);
    std::visit(
        [&](const auto& body) {
            using body_t = std::decay_t<decltype(body)>;
            const std::uint32_t number = detail::reply_field_numbers.at(r.body.index());
            if constexpr (std::is_same_v<body_t, push>) {
                n += len_field_size(number, push_body_size(body));
            } else if constexpr (!std::is_same_v<body_t, std::monostate>) {
                n += len_field_size(number, body_size(body));
            }
        },
        r.body);
    return n;
}

void write_reply_body(char*& out, const reply& r) {
    write_field(out, r.id, 1, detail::flags::none);
    std::visit(
        [&](const auto& body) {
            using body_t = std::decay_t<decltype(body)>;
            const std::uint32_t number = detail::reply_field_numbers.at(r.body.index());
            if constexpr (std::is_same_v<body_t, push>) {
                put_tag(out, number, wt_len);
                put_varint(out, push_body_size(body));
                write_push_body(out, body);
            } else if constexpr (!std::is_same_v<body_t, std::monostate>) {
                write_message(out, number, body);
            }
        },
        r.body);
}

/// Grows `out` by the framed size of a `size`-byte message and returns where its body goes.
char* open_message(std::string& out, std::size_t size, framing f) {
    const std::size_t prefix = f == framing::delimited ? varint_size(size) : 0;
    const std::size_t start = out.size();
    out.resize(start + prefix + size);
    char* p = out.data() + start;
    if (f == framing::delimited) {
        put_varint(p, size);
    }
    return p;
}

// =============================================================================================
// Decoding
// =============================================================================================

class pb_reader {
public:
    explicit pb_reader(std::string_view bytes) noexcept
        : p_(bytes.data())
        , end_(bytes.data() + bytes.size()) {}

    bool empty() const noexcept { return p_ == end_; }

    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }

    const char* position() const noexcept { return p_; }

    codec_error read_varint(std::uint64_t& v) noexcept {
        v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (p_ == end_) {
                return codec_error::truncated;
            }
            const auto b = static_cast<unsigned char>(*p_++);
            if (shift == 63 && b > 1) {
                return codec_error::bad_varint; // above 64 bits, or an 11th byte follows
            }
            v |= std::uint64_t{b & 0x7FU} << shift;
            if ((b & 0x80U) == 0) {
                return ok;
            }
        }
        return codec_error::bad_varint;
    }

    codec_error read_bytes(std::string_view& out) noexcept {
        std::uint64_t len = 0;
        if (auto ec = read_varint(len); ec != ok) {
            return ec;
        }
        if (len > remaining()) {
            return codec_error::truncated;
        }
        out = std::string_view(p_, static_cast<std::size_t>(len));
        p_ += len;
        return ok;
    }

    codec_error skip(std::size_t n) noexcept {
        if (n > remaining()) {
            return codec_error::truncated;
        }
        p_ += n;
        return ok;
    }

    codec_error read_tag(std::uint32_t& number, std::uint32_t& wt) noexcept {
        std::uint64_t tag = 0;
        if (auto ec = read_varint(tag); ec != ok) {
            return ec;
        }
        wt = static_cast<std::uint32_t>(tag & 7U);
        const std::uint64_t n = tag >> 3;
        if (n == 0 || n > max_field_number || wt == 6 || wt == 7) {
            return codec_error::bad_tag;
        }
        number = static_cast<std::uint32_t>(n);
        return ok;
    }

    /// Skips the value of an unknown field (groups included, for old writers).
    codec_error skip_field(std::uint32_t number, std::uint32_t wt, int depth) noexcept {
        std::uint64_t v = 0;
        std::string_view bytes;
        switch (wt) {
        case wt_varint:
            return read_varint(v);
        case wt_fixed64:
            return skip(8);
        case wt_len:
            return read_bytes(bytes);
        case wt_fixed32:
            return skip(4);
        case wt_group_start:
            if (depth > max_decode_depth) {
                return codec_error::too_deep;
            }
            for (;;) {
                std::uint32_t n = 0;
                std::uint32_t w = 0;
                if (auto ec = read_tag(n, w); ec != ok) {
                    return ec;
                }
                if (w == wt_group_end) {
                    return n == number ? ok : codec_error::bad_tag;
                }
                if (auto ec = skip_field(n, w, depth + 1); ec != ok) {
                    return ec;
                }
            }
        default:
            return codec_error::bad_tag; // an end-group without its start
        }
    }

private:
    const char* p_;
    const char* end_;
};

template <described T>
codec_error read_body(std::string_view bytes, T& obj, int depth);

template <class V>
codec_error read_map_entry(std::string_view bytes, std::string& key, V& value, int depth) {
    pb_reader r(bytes);
    while (!r.empty()) {
        std::uint32_t number = 0;
        std::uint32_t wt = 0;
        if (auto ec = r.read_tag(number, wt); ec != ok) {
            return ec;
        }
        if (number != 1 && number != 2) {
            if (auto ec = r.skip_field(number, wt, depth); ec != ok) {
                return ec;
            }
            continue;
        }
        if (wt != wt_len) {
            return codec_error::wrong_type;
        }
        std::string_view sub;
        if (auto ec = r.read_bytes(sub); ec != ok) {
            return ec;
        }
        if (number == 1) {
            key.assign(sub);
        } else if constexpr (std::is_same_v<V, std::string>) {
            value.assign(sub);
        } else {
            value = V{};
            if (auto ec = read_body(sub, value, depth + 1); ec != ok) {
                return ec;
            }
        }
    }
    return ok;
}

template <class M>
codec_error read_varint_field(pb_reader& r, M& m, std::uint8_t fl) {
    std::uint64_t v = 0;
    if (auto ec = r.read_varint(v); ec != ok) {
        return ec;
    }
    if constexpr (std::is_same_v<M, bool>) {
        m = v != 0;
    } else if constexpr (std::is_same_v<M, std::int64_t>) {
        m = (fl & detail::flags::zigzag) != 0
                ? static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1U)
                : static_cast<std::int64_t>(v);
    } else if constexpr (sizeof(M) == sizeof(std::uint64_t)) {
        m = static_cast<M>(v); // uint64
    } else {
        // Protobuf truncates 32-bit fields to the low bits of the varint.
        m = static_cast<M>(static_cast<std::uint32_t>(v & 0xFFFFFFFFU));
    }
    return ok;
}

template <class M>
codec_error read_len_field(std::string_view sub, M& m, int depth) {
    if constexpr (std::is_same_v<M, std::string>) {
        m.assign(sub);
        return ok;
    } else if constexpr (detail::is_optional<M>::value) {
        if (!m) {
            m.emplace();
        }
        return read_body(sub, *m, depth + 1); // repeated occurrences merge
    } else if constexpr (detail::is_vector<M>::value) {
        if constexpr (std::is_same_v<typename M::value_type, std::string>) {
            m.emplace_back(sub);
            return ok;
        } else {
            return read_body(sub, m.emplace_back(), depth + 1);
        }
    } else if constexpr (detail::is_string_map<M>::value) {
        std::string key;
        typename M::mapped_type value{};
        if (auto ec = read_map_entry(sub, key, value, depth); ec != ok) {
            return ec;
        }
        m.insert_or_assign(std::move(key), std::move(value));
        return ok;
    } else {
        return read_body(sub, m, depth + 1);
    }
}

/// A known field: its wire type must match (vtproto rejects mismatches too).
template <class M>
codec_error read_field(pb_reader& r, M& m, std::uint32_t wt, std::uint8_t fl, int depth) {
    if constexpr (std::is_integral_v<M>) {
        return wt == wt_varint ? read_varint_field(r, m, fl) : codec_error::wrong_type;
    } else {
        if (wt != wt_len) {
            return codec_error::wrong_type;
        }
        std::string_view sub;
        if (auto ec = r.read_bytes(sub); ec != ok) {
            return ec;
        }
        return read_len_field(sub, m, depth);
    }
}

template <described T>
codec_error read_body(std::string_view bytes, T& obj, int depth) {
    if (depth > max_decode_depth) {
        return codec_error::too_deep;
    }
    pb_reader r(bytes);
    while (!r.empty()) {
        std::uint32_t number = 0;
        std::uint32_t wt = 0;
        if (auto ec = r.read_tag(number, wt); ec != ok) {
            return ec;
        }
        bool matched = false;
        codec_error ec = ok;
        std::apply(
            [&](const auto&... fd) {
                static_cast<void>(
                    ((number == fd.number
                          ? (matched = true,
                             ec = read_field(r, obj.*(fd.member), wt, fd.flags, depth),
                             true)
                          : false) ||
                     ...));
            },
            schema<T>::fields);
        if (!matched) {
            ec = r.skip_field(number, wt, depth);
        }
        if (ec != ok) {
            return ec;
        }
    }
    return ok;
}

/// Calls fn(message) for each varint-delimited message in a non-empty frame.
template <class Fn>
codec_error for_each_delimited(std::string_view frame, std::size_t max_message_size, Fn&& fn) {
    if (frame.empty()) {
        return codec_error::empty_frame;
    }
    while (!frame.empty()) {
        auto next = next_delimited(frame, max_message_size);
        if (!next) {
            return next.error();
        }
        if (!*next) {
            return codec_error::truncated;
        }
        const delimited_message m = **next;
        if (auto ec = fn(m.message); ec != ok) {
            return ec;
        }
        frame.remove_prefix(m.consumed);
    }
    return ok;
}

} // namespace

// =============================================================================================
// Public API
// =============================================================================================

void append_varint(std::string& out, std::uint64_t v) {
    std::array<char, 10> buf{};
    char* p = buf.data();
    put_varint(p, v);
    out.append(buf.data(), static_cast<std::size_t>(p - buf.data()));
}

codec_result<std::optional<delimited_message>> next_delimited(std::string_view buffer,
                                                              std::size_t max_message_size) {
    pb_reader r(buffer);
    std::uint64_t len = 0;
    if (auto ec = r.read_varint(len); ec != ok) {
        if (ec == codec_error::truncated) {
            return std::optional<delimited_message>{}; // the prefix itself is incomplete
        }
        return ec;
    }
    if (len > max_message_size) {
        return codec_error::too_large;
    }
    const std::size_t prefix = buffer.size() - r.remaining();
    if (len > r.remaining()) {
        return std::optional<delimited_message>{};
    }
    const auto n = static_cast<std::size_t>(len);
    return std::optional<delimited_message>{
        delimited_message{buffer.substr(prefix, n), prefix + n}};
}

codec_result<std::vector<command>> decode_commands(std::string_view frame,
                                                   std::size_t max_message_size) {
    std::vector<command> out;
    const codec_error ec = for_each_delimited(frame, max_message_size, [&](std::string_view m) {
        detail::command_fields f;
        if (auto e = read_body(m, f, 0); e != ok) {
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

codec_result<command> decode_command(std::string_view message) {
    detail::command_fields f;
    if (auto ec = read_body(message, f, 0); ec != ok) {
        return ec;
    }
    return detail::select_command(std::move(f));
}

codec_result<connect_request> decode_connect_request(std::string_view message) {
    connect_request req;
    if (auto ec = read_body(message, req, 0); ec != ok) {
        return ec;
    }
    return req;
}

codec_result<emulation_request> decode_emulation_request(std::string_view body) {
    emulation_request req;
    if (auto ec = read_body(body, req, 0); ec != ok) {
        return ec;
    }
    return req;
}

void append_reply(std::string& out, const reply& r, framing f) {
    char* p = open_message(out, reply_body_size(r), f);
    write_reply_body(p, r);
}

void append_push(std::string& out, const push& p, push_form form, framing f) {
    const std::size_t push_size = push_body_size(p);
    if (form == push_form::unidirectional) {
        char* w = open_message(out, push_size, f);
        write_push_body(w, p);
        return;
    }
    char* w = open_message(out, len_field_size(4, push_size), f);
    put_tag(w, 4, wt_len);
    put_varint(w, push_size);
    write_push_body(w, p);
}

void append_publication_push(
    std::string& out, std::string_view channel, const publication& pub, push_form form, framing f) {
    const std::size_t pub_size = body_size(pub);
    const std::size_t push_size =
        (channel.empty() ? 0 : len_field_size(2, channel.size())) + len_field_size(4, pub_size);
    const std::size_t total =
        form == push_form::unidirectional ? push_size : len_field_size(4, push_size);
    char* w = open_message(out, total, f);
    if (form == push_form::bidirectional) {
        put_tag(w, 4, wt_len); // Reply.push
        put_varint(w, push_size);
    }
    if (!channel.empty()) {
        put_bytes(w, 2, channel); // Push.channel
    }
    put_tag(w, 4, wt_len); // Push.pub
    put_varint(w, pub_size);
    write_body(w, pub);
}

std::string encode_publication_push(std::string_view channel,
                                    const publication& pub,
                                    push_form form,
                                    framing f) {
    std::string out;
    append_publication_push(out, channel, pub, form, f);
    return out;
}

namespace {

/// One described message on its own (no Reply around it, no length prefix).
template <described T>
void append_bare(std::string& out, const T& value) {
    char* w = open_message(out, body_size(value), framing::bare);
    write_body(w, value);
}

template <described T>
codec_result<T> decode_bare(std::string_view message) {
    T value;
    if (auto ec = read_body(message, value, 0); ec != ok) {
        return ec;
    }
    return value;
}

} // namespace

void append_publication(std::string& out, const publication& pub) {
    append_bare(out, pub);
}

codec_result<publication> decode_publication(std::string_view message) {
    return decode_bare<publication>(message);
}

void append_client_info(std::string& out, const client_info& info) {
    append_bare(out, info);
}

codec_result<client_info> decode_client_info(std::string_view message) {
    return decode_bare<client_info>(message);
}

std::string encode_reply(const reply& r, framing f) {
    std::string out;
    append_reply(out, r, f);
    return out;
}

void append_command(std::string& out, const command& c, framing f) {
    std::size_t size = field_size(c.id, 1, detail::flags::none);
    std::visit(
        [&](const auto& req) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(req)>, std::monostate>) {
                size += len_field_size(detail::command_field_numbers.at(c.request.index()),
                                       body_size(req));
            }
        },
        c.request);
    char* p = open_message(out, size, f);
    write_field(p, c.id, 1, detail::flags::none);
    std::visit(
        [&](const auto& req) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(req)>, std::monostate>) {
                write_message(p, detail::command_field_numbers.at(c.request.index()), req);
            }
        },
        c.request);
}

codec_result<std::vector<reply>> decode_replies(std::string_view frame,
                                                std::size_t max_message_size) {
    std::vector<reply> out;
    const codec_error ec = for_each_delimited(frame, max_message_size, [&](std::string_view m) {
        detail::reply_fields f;
        if (auto e = read_body(m, f, 0); e != ok) {
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

codec_result<push> decode_push(std::string_view message) {
    detail::push_fields f;
    if (auto ec = read_body(message, f, 0); ec != ok) {
        return ec;
    }
    return detail::select_push(std::move(f));
}

} // namespace gyre::protocol::client::protobuf
