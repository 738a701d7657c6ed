// File: protocol/client/detail/json_reader.hpp
// A strict, allocation-free JSON tokenizer over one contiguous buffer (RFC 8259: full syntax,
// escapes and UTF-8 validation). The codecs pull typed values from it and take the exact byte
// span of raw payloads via skip_value(). Errors are sticky values; nothing throws.
#pragma once

#include "protocol/client/codec_error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gyre::protocol::client::detail {

/// codec_error has no zero enumerator; the zero value means success inside the codecs.
inline constexpr codec_error ok{};

/// Nesting limit for skip_value() (the same default as simdjson's).
inline constexpr std::size_t max_json_depth = 1024;

class json_reader {
public:
    explicit json_reader(std::string_view text) noexcept
        : text_(text) {}

    std::size_t pos() const noexcept { return pos_; }

    std::string_view text() const noexcept { return text_; }

    /// Skips JSON whitespace (space, tab, CR, LF).
    void skip_ws() noexcept;

    /// True when only whitespace is left.
    bool at_end() noexcept {
        skip_ws();
        return pos_ == text_.size();
    }

    /// Next non-whitespace byte, or '\0' at the end.
    char peek() noexcept {
        skip_ws();
        return pos_ < text_.size() ? text_[pos_] : '\0';
    }

    /// Consumes `c` (after whitespace) if it is next.
    bool consume(char c) noexcept {
        if (peek() == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    /// Consumes a `null` literal if it is next.
    bool consume_null() noexcept;

    /// Reads a string value into `out` (unescaped). wrong_type if the next value is no string.
    codec_error read_string(std::string& out);

    /// Reads an object key: a view into the input when it has no escapes, otherwise into a
    /// scratch buffer that the next read_key() call overwrites.
    codec_error read_key(std::string_view& out);

    codec_error read_bool(bool& out) noexcept;

    /// Integers: wrong_type for a non-number, out_of_range for a fraction, an exponent, a sign
    /// the type cannot hold, or overflow.
    codec_error read_uint64(std::uint64_t& out) noexcept;
    codec_error read_int64(std::int64_t& out) noexcept;

    /// Validates and skips one value of any type; on success `pos()` is just past it.
    codec_error skip_value() noexcept;

private:
    struct nesting; // open containers during skip_value()

    codec_error scan_string() noexcept;                     // validates; pos_ on the quote
    codec_error scan_escape(std::size_t& i) const noexcept; // at a backslash
    codec_error scan_number() noexcept;                     // pos_ on the first byte
    std::size_t skip_digits(std::size_t i) const noexcept;  // first non-digit from i
    codec_error scan_literal(std::string_view lit) noexcept;
    codec_error scan_scalar(char first) noexcept;         // string, number or literal
    codec_error scan_key() noexcept;                      // "key" and its colon
    codec_error scan_utf8(std::size_t& i) const noexcept; // one multi-byte sequence at text_[i]
    codec_error enter_value(nesting& n, bool& descended) noexcept;
    codec_error leave_value(nesting& n, bool& done) noexcept;
    codec_error unescape_string(std::string& out); // pos_ on the opening quote
    codec_error unescape_escape(std::size_t& i, std::string& out) const;  // at a backslash
    codec_error unescape_unicode(std::size_t& i, std::string& out) const; // after "\u"
    codec_error read_integer(std::uint64_t& magnitude, bool& negative) noexcept;

    std::string_view text_;
    std::size_t pos_ = 0;
    std::string scratch_;
};

/// Reads the members of an object whose '{' the caller consumed, through the closing '}'.
/// `on_member(key)` either reads the value and returns its result, or returns nullopt to have
/// the value skipped (still validated). `key` may point into the reader's scratch space: use
/// it before reading any nested value.
template <class Fn>
codec_error read_members(json_reader& r, Fn&& on_member) {
    if (r.consume('}')) {
        return ok;
    }
    for (;;) {
        std::string_view key;
        if (auto ec = r.read_key(key); ec != ok) {
            return ec;
        }
        if (!r.consume(':')) {
            return codec_error::invalid_json;
        }
        const std::optional<codec_error> read = on_member(key);
        if (auto ec = read ? *read : r.skip_value(); ec != ok) {
            return ec;
        }
        if (r.consume(',')) {
            continue;
        }
        return r.consume('}') ? ok : codec_error::invalid_json;
    }
}

/// True when `text` is exactly one JSON value, optionally surrounded by whitespace.
bool is_valid_json_value(std::string_view text) noexcept;

} // namespace gyre::protocol::client::detail
