// File: core/shared_bytes.hpp
// Immutable, atomically refcounted bytes: an encoded frame or a payload built once and shared by
// every subscriber on every shard. Copying costs one atomic increment; the bytes never change.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace gyre {

class shared_bytes {
public:
    shared_bytes() = default;

    explicit shared_bytes(std::string bytes)
        : data_(std::make_shared<const std::string>(std::move(bytes))) {}

    std::string_view view() const noexcept {
        return data_ ? std::string_view(*data_) : std::string_view{};
    }

    const char* data() const noexcept { return data_ ? data_->data() : nullptr; }

    std::size_t size() const noexcept { return data_ ? data_->size() : 0; }

    bool empty() const noexcept { return size() == 0; }

    /// The owning string, for APIs that want one; empty string when unset.
    const std::string& str() const noexcept {
        static const std::string empty_string;
        return data_ ? *data_ : empty_string;
    }

private:
    std::shared_ptr<const std::string> data_;
};

} // namespace gyre
