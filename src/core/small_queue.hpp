// File: core/small_queue.hpp
// A FIFO on one std::vector for queues that are usually empty (a connection's pending commands
// and outgoing messages). Unlike std::deque, which allocates about 600 bytes as soon as it is
// constructed in libstdc++, an empty small_queue owns no memory: at 15,000 idle connections
// that difference alone is megabytes.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace gyre {

template <typename T>
class small_queue {
public:
    bool empty() const noexcept { return head_ == items_.size(); }

    std::size_t size() const noexcept { return items_.size() - head_; }

    T& front() noexcept { return items_[head_]; }

    void push_back(T v) { items_.push_back(std::move(v)); }

    /// Puts `v` first (rare: a command re-queued to run again).
    void push_front(T v) {
        if (head_ > 0) {
            items_[--head_] = std::move(v);
        } else {
            items_.insert(items_.begin(), std::move(v));
        }
    }

    void pop_front() {
        items_[head_] = T{}; // release what the element holds now
        if (++head_ == items_.size()) {
            clear();
        }
    }

    /// Moves the first `n` elements into `out` (which must be empty). Taking everything swaps
    /// the storage, so `out`'s capacity becomes the queue's: no allocation either way.
    void take(std::size_t n, std::vector<T>& out) {
        if (head_ == 0 && n >= items_.size()) {
            out.swap(items_);
            return;
        }
        for (std::size_t i = 0; i < n && !empty(); ++i) {
            out.push_back(std::move(items_[head_]));
            pop_front();
        }
    }

    /// Empties the queue and frees its memory.
    void clear() noexcept {
        std::vector<T>().swap(items_);
        head_ = 0;
    }

private:
    std::vector<T> items_;
    std::size_t head_ = 0;
};

} // namespace gyre
