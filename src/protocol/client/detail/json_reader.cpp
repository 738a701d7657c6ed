#include "protocol/client/detail/json_reader.hpp"

#include "core/strings.hpp"
#include "core/utf8.hpp"

#include <bitset>
#include <cstring>
#include <limits>

namespace gyre::protocol::client::detail {

namespace {

constexpr bool is_ws(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

constexpr unsigned char byte_at(std::string_view s, std::size_t i) noexcept {
    return static_cast<unsigned char>(s[i]);
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

} // namespace

void json_reader::skip_ws() noexcept {
    while (pos_ < text_.size() && is_ws(text_[pos_])) {
        ++pos_;
    }
}

bool json_reader::consume_null() noexcept {
    skip_ws();
    if (text_.substr(pos_, 4) == "null") {
        pos_ += 4;
        return true;
    }
    return false;
}

codec_error json_reader::scan_literal(std::string_view lit) noexcept {
    if (text_.substr(pos_, lit.size()) != lit) {
        return codec_error::invalid_json;
    }
    pos_ += lit.size();
    return ok;
}

codec_error json_reader::scan_utf8(std::size_t& i) const noexcept {
    const std::size_t len = utf8::sequence_length(text_, i);
    if (len == 0) {
        return codec_error::invalid_json;
    }
    i += len;
    return ok;
}

codec_error json_reader::scan_escape(std::size_t& i) const noexcept {
    const std::size_t n = text_.size();
    if (i + 1 >= n) {
        return codec_error::invalid_json;
    }
    const char e = text_[i + 1];
    if (e != 'u') {
        const bool simple = e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                            e == 'r' || e == 't';
        i += 2;
        return simple ? ok : codec_error::invalid_json;
    }
    if (n - i < 6) {
        return codec_error::invalid_json;
    }
    for (std::size_t k = 2; k < 6; ++k) {
        if (strings::hex_digit(text_[i + k]) < 0) {
            return codec_error::invalid_json;
        }
    }
    i += 6;
    return ok;
}

codec_error json_reader::scan_string() noexcept {
    std::size_t i = pos_ + 1; // past the opening quote
    const std::size_t n = text_.size();
    while (i < n) {
        const unsigned char c = byte_at(text_, i);
        codec_error ec = ok;
        if (c == '"') {
            pos_ = i + 1;
            return ok;
        }
        if (c == '\\') {
            ec = scan_escape(i);
        } else if (c < 0x20) {
            ec = codec_error::invalid_json; // raw control characters must be escaped
        } else if (c < 0x80) {
            ++i;
        } else {
            ec = scan_utf8(i);
        }
        if (ec != ok) {
            return ec;
        }
    }
    return codec_error::invalid_json;
}

std::size_t json_reader::skip_digits(std::size_t i) const noexcept {
    while (i < text_.size() && is_digit(text_[i])) {
        ++i;
    }
    return i;
}

codec_error json_reader::scan_number() noexcept {
    // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    std::size_t i = pos_;
    const std::size_t n = text_.size();
    if (i < n && text_[i] == '-') {
        ++i;
    }
    if (i >= n || !is_digit(text_[i])) {
        return codec_error::invalid_json;
    }
    i = text_[i] == '0' ? i + 1 : skip_digits(i);
    if (i < n && text_[i] == '.') {
        const std::size_t frac = skip_digits(i + 1);
        if (frac == i + 1) {
            return codec_error::invalid_json;
        }
        i = frac;
    }
    if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
        ++i;
        if (i < n && (text_[i] == '+' || text_[i] == '-')) {
            ++i;
        }
        const std::size_t exp = skip_digits(i);
        if (exp == i) {
            return codec_error::invalid_json;
        }
        i = exp;
    }
    pos_ = i;
    return ok;
}

codec_error json_reader::scan_scalar(char first) noexcept {
    switch (first) {
    case '"':
        return scan_string();
    case 't':
        return scan_literal("true");
    case 'f':
        return scan_literal("false");
    case 'n':
        return scan_literal("null");
    default:
        return (first == '-' || is_digit(first)) ? scan_number() : codec_error::invalid_json;
    }
}

codec_error json_reader::scan_key() noexcept {
    if (peek() != '"') {
        return codec_error::invalid_json;
    }
    if (auto ec = scan_string(); ec != ok) {
        return ec;
    }
    return consume(':') ? ok : codec_error::invalid_json;
}

/// Containers opened by skip_value(); kept off the call stack so hostile nesting cannot
/// exhaust it.
struct json_reader::nesting {
    std::bitset<max_json_depth> is_object; // per level: object (1) or array (0)
    std::size_t depth = 0;
    bool expect_key = false; // inside an object, before a key
};

// Scans one scalar, an empty container, or the opening of a non-empty one (`descended`).
codec_error json_reader::enter_value(nesting& n, bool& descended) noexcept {
    if (n.expect_key) {
        n.expect_key = false;
        if (auto ec = scan_key(); ec != ok) {
            return ec;
        }
    }
    const char c = peek();
    if (c != '{' && c != '[') {
        return scan_scalar(c);
    }
    if (n.depth == max_json_depth) {
        return codec_error::too_deep;
    }
    ++pos_;
    if (consume(c == '{' ? '}' : ']')) {
        return ok; // empty container: a complete value
    }
    n.is_object[n.depth++] = (c == '{');
    n.expect_key = (c == '{');
    descended = true;
    return ok;
}

// After a complete value: closes finished containers, or steps past the next comma.
codec_error json_reader::leave_value(nesting& n, bool& done) noexcept {
    while (n.depth > 0) {
        const bool in_object = n.is_object[n.depth - 1];
        const char d = peek();
        if (d == ',') {
            ++pos_;
            n.expect_key = in_object;
            return ok;
        }
        if (d != (in_object ? '}' : ']')) {
            return codec_error::invalid_json;
        }
        ++pos_;
        --n.depth;
    }
    done = true;
    return ok;
}

codec_error json_reader::skip_value() noexcept {
    nesting n;
    for (;;) {
        bool descended = false;
        if (auto ec = enter_value(n, descended); ec != ok) {
            return ec;
        }
        if (descended) {
            continue;
        }
        bool done = false;
        if (auto ec = leave_value(n, done); ec != ok) {
            return ec;
        }
        if (done) {
            return ok;
        }
    }
}

codec_error json_reader::unescape_unicode(std::size_t& i, std::string& out) const {
    const std::size_t n = text_.size();
    const auto read_hex4 = [&](std::size_t at, std::uint32_t& v) {
        if (n < at + 4) {
            return false;
        }
        v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const int h = strings::hex_digit(text_[at + k]);
            if (h < 0) {
                return false;
            }
            v = (v << 4) | static_cast<std::uint32_t>(h);
        }
        return true;
    };
    std::uint32_t cp = 0;
    if (!read_hex4(i, cp)) {
        return codec_error::invalid_json;
    }
    i += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        std::uint32_t lo = 0;
        const bool pair = i + 1 < n && text_[i] == '\\' && text_[i + 1] == 'u' &&
                          read_hex4(i + 2, lo) && lo >= 0xDC00 && lo <= 0xDFFF;
        if (pair) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        } else {
            cp = 0xFFFD; // lone high surrogate, as Go decodes it
        }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD; // lone low surrogate
    }
    append_utf8(out, cp);
    return ok;
}

codec_error json_reader::unescape_escape(std::size_t& i, std::string& out) const {
    if (i + 1 >= text_.size()) {
        return codec_error::invalid_json;
    }
    const char e = text_[i + 1];
    i += 2;
    switch (e) {
    case '"':
    case '\\':
    case '/':
        out.push_back(e);
        return ok;
    case 'b':
        out.push_back('\b');
        return ok;
    case 'f':
        out.push_back('\f');
        return ok;
    case 'n':
        out.push_back('\n');
        return ok;
    case 'r':
        out.push_back('\r');
        return ok;
    case 't':
        out.push_back('\t');
        return ok;
    case 'u':
        return unescape_unicode(i, out);
    default:
        return codec_error::invalid_json;
    }
}

codec_error json_reader::unescape_string(std::string& out) {
    out.clear();
    std::size_t i = pos_ + 1;
    const std::size_t n = text_.size();
    std::size_t run = i; // start of the pending run of bytes copied verbatim
    while (i < n) {
        const unsigned char c = byte_at(text_, i);
        codec_error ec = ok;
        if (c == '"') {
            out.append(text_.data() + run, i - run);
            pos_ = i + 1;
            return ok;
        }
        if (c == '\\') {
            out.append(text_.data() + run, i - run);
            ec = unescape_escape(i, out);
            run = i;
        } else if (c < 0x20) {
            ec = codec_error::invalid_json;
        } else if (c < 0x80) {
            ++i;
        } else {
            ec = scan_utf8(i);
        }
        if (ec != ok) {
            return ec;
        }
    }
    return codec_error::invalid_json;
}

codec_error json_reader::read_string(std::string& out) {
    const char c = peek();
    if (c != '"') {
        return (c == '{' || c == '[' || c == 't' || c == 'f' || c == '-' || is_digit(c))
                   ? codec_error::wrong_type
                   : codec_error::invalid_json;
    }
    return unescape_string(out);
}

codec_error json_reader::read_key(std::string_view& out) {
    if (peek() != '"') {
        return codec_error::invalid_json;
    }
    const std::size_t begin = pos_ + 1;
    const std::size_t begin_pos = pos_;
    if (auto ec = scan_string(); ec != ok) {
        return ec;
    }
    const std::string_view body = text_.substr(begin, pos_ - 1 - begin);
    if (body.find('\\') == std::string_view::npos) {
        out = body;
        return ok;
    }
    pos_ = begin_pos;
    if (auto ec = unescape_string(scratch_); ec != ok) {
        return ec;
    }
    out = scratch_;
    return ok;
}

codec_error json_reader::read_bool(bool& out) noexcept {
    const char c = peek();
    if (c == 't') {
        out = true;
        return scan_literal("true");
    }
    if (c == 'f') {
        out = false;
        return scan_literal("false");
    }
    return (c == '"' || c == '{' || c == '[' || c == '-' || is_digit(c))
               ? codec_error::wrong_type
               : codec_error::invalid_json;
}

codec_error json_reader::read_integer(std::uint64_t& magnitude, bool& negative) noexcept {
    const char c = peek();
    if (c != '-' && !is_digit(c)) {
        return (c == '"' || c == '{' || c == '[' || c == 't' || c == 'f')
                   ? codec_error::wrong_type
                   : codec_error::invalid_json;
    }
    const std::size_t begin = pos_;
    if (auto ec = scan_number(); ec != ok) {
        return ec;
    }
    std::string_view tok = text_.substr(begin, pos_ - begin);
    negative = tok.front() == '-';
    if (negative) {
        tok.remove_prefix(1);
    }
    magnitude = 0;
    for (const char d : tok) {
        if (!is_digit(d)) {
            return codec_error::out_of_range; // fraction or exponent
        }
        const auto digit = static_cast<std::uint64_t>(d - '0');
        if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            return codec_error::out_of_range;
        }
        magnitude = magnitude * 10 + digit;
    }
    return ok;
}

codec_error json_reader::read_uint64(std::uint64_t& out) noexcept {
    std::uint64_t m = 0;
    bool negative = false;
    if (auto ec = read_integer(m, negative); ec != ok) {
        return ec;
    }
    if (negative && m != 0) {
        return codec_error::out_of_range;
    }
    out = m;
    return ok;
}

codec_error json_reader::read_int64(std::int64_t& out) noexcept {
    std::uint64_t m = 0;
    bool negative = false;
    if (auto ec = read_integer(m, negative); ec != ok) {
        return ec;
    }
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (negative) {
        if (m > max + 1) {
            return codec_error::out_of_range;
        }
        out =
            m == max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(m);
    } else {
        if (m > max) {
            return codec_error::out_of_range;
        }
        out = static_cast<std::int64_t>(m);
    }
    return ok;
}

bool is_valid_json_value(std::string_view text) noexcept {
    json_reader r(text);
    return r.skip_value() == ok && r.at_end();
}

} // namespace gyre::protocol::client::detail
