// File: runtime/shard.hpp
// A shard is one thread running one single-threaded io_context. Connections live on one shard
// for life, so shard-local state needs no locks; other threads reach a shard only through
// submit(), whose inbox batches wake-ups (one post per empty -> non-empty transition).
#pragma once

#include "core/unique_function.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace gyre::runtime {

class shard {
public:
    explicit shard(std::size_t index);
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;
    ~shard();

    std::size_t index() const noexcept { return index_; }

    boost::asio::io_context& context() noexcept { return context_; }

    /// Runs `task` on this shard's thread, after tasks submitted earlier from the same thread
    /// (FIFO per source). Thread-safe; never blocks beyond a short mutex hold.
    void submit(unique_function<void()> task);

    /// True when called from this shard's own thread.
    bool is_current() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

    void start();
    void stop(); ///< stops the loop now, abandoning pending handlers; thread-safe
    void join();

private:
    void drain();

    std::size_t index_;
    boost::asio::io_context context_{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
    std::mutex inbox_mutex_;
    std::vector<unique_function<void()>> inbox_;
    std::vector<unique_function<void()>> running_;
};

} // namespace gyre::runtime
