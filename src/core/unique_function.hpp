// File: core/unique_function.hpp
// A move-only std::function for closures that own move-only state (shard inbox tasks).
// std::move_only_function is C++23-only on g++ 12, hence this small stand-in.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace gyre {

template <typename Signature>
class unique_function;

template <typename R, typename... Args>
class unique_function<R(Args...)> {
public:
    unique_function() = default;

    template <typename F,
              typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, unique_function>>>
    unique_function(F&& f) // NOLINT(google-explicit-constructor): callable wrapper
        : impl_(std::make_unique<holder<std::decay_t<F>>>(std::forward<F>(f))) {}

    R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }

    explicit operator bool() const noexcept { return impl_ != nullptr; }

private:
    struct callable {
        virtual ~callable() = default;
        virtual R call(Args... args) = 0;
    };

    template <typename F>
    struct holder final : callable {
        explicit holder(F f)
            : fn(std::move(f)) {}

        R call(Args... args) override { return fn(std::forward<Args>(args)...); }

        F fn;
    };

    std::unique_ptr<callable> impl_;
};

} // namespace gyre
