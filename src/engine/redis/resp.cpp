// File: engine/redis/resp.cpp
#include "engine/redis/resp.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <charconv>

namespace gyre::engine::redis {

namespace {

void append_length(std::string& out, char marker, std::size_t n) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    (void)ec;
    out.push_back(marker);
    out.append(digits, end);
    out.append("\r\n", 2);
}

reply convert(const redisReply& r) {
    switch (r.type) {
    case REDIS_REPLY_STATUS:
        return reply::make_status(std::string(r.str, r.len));
    case REDIS_REPLY_ERROR:
        return reply::make_error(std::string(r.str, r.len));
    case REDIS_REPLY_INTEGER:
        return reply::make_integer(r.integer);
    case REDIS_REPLY_STRING:
        return reply::make_bulk(std::string(r.str, r.len));
    case REDIS_REPLY_ARRAY: {
        std::vector<reply> items;
        items.reserve(r.elements);
        for (std::size_t i = 0; i < r.elements; ++i) {
            items.push_back(convert(*r.element[i]));
        }
        return reply::make_array(std::move(items));
    }
    default: // NIL, and RESP3-only types we never ask for (no HELLO 3)
        return reply::make_nil();
    }
}

} // namespace

void append_command(std::string& out, const std::vector<std::string>& args) {
    append_length(out, '*', args.size());
    for (const auto& arg : args) {
        append_length(out, '$', arg.size());
        out.append(arg);
        out.append("\r\n", 2);
    }
}

reply_parser::reply_parser()
    : reader_(redisReaderCreate()) {
    // Keep hiredis from compacting its buffer on every small read; it frees when idle anyway.
    reader_->maxbuf = 1024 * 1024;
}

reply_parser::~reply_parser() {
    redisReaderFree(reader_);
}

bool reply_parser::feed(std::string_view bytes) {
    if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) {
        error_ = reader_->errstr;
        return false;
    }
    return true;
}

std::optional<reply> reply_parser::next() {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
        error_ = reader_->errstr[0] != '\0' ? reader_->errstr : "malformed RESP";
        return std::nullopt;
    }
    if (raw == nullptr) {
        return std::nullopt;
    }
    auto* r = static_cast<redisReply*>(raw);
    reply out = convert(*r);
    freeReplyObject(r);
    return out;
}

void reply_parser::reset() {
    redisReaderFree(reader_);
    reader_ = redisReaderCreate();
    reader_->maxbuf = 1024 * 1024;
    error_.clear();
}

} // namespace gyre::engine::redis
