#include "runtime/shard_set.hpp"

#include "core/log.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/post.hpp>

#include <condition_variable>
#include <exception>
#include <mutex>

namespace gyre::runtime {

shard::shard(std::size_t index)
    : index_(index) {}

shard::~shard() {
    stop();
    join();
}

void shard::submit(unique_function<void()> task) {
    bool was_empty = false;
    {
        const std::lock_guard lock(inbox_mutex_);
        was_empty = inbox_.empty();
        inbox_.push_back(std::move(task));
    }
    if (was_empty) {
        boost::asio::post(context_, [this] { drain(); });
    }
}

void shard::drain() {
    {
        const std::lock_guard lock(inbox_mutex_);
        running_.swap(inbox_);
    }
    // A task that throws is logged and the rest still run, once and in order: escaping here
    // would leave `running_` full, so the next drain would run those tasks again and behind
    // newer ones, and `inbox_` would never look empty again to wake the loop.
    for (auto& task : running_) {
        try {
            task();
        } catch (const std::exception& e) {
            GYRE_LOG_ERROR("task failed on shard shard={} error=\"{}\"", index_, e.what());
        }
    }
    running_.clear();
}

void shard::start() {
    work_.emplace(context_.get_executor());
    thread_ = std::thread([this] {
        metrics::bind_thread_to_shard(index_);
        for (;;) {
            try {
                context_.run();
                return;
            } catch (const std::exception& e) { // a handler must not take the shard down
                GYRE_LOG_ERROR(
                    "unhandled exception on shard shard={} error=\"{}\"", index_, e.what());
            }
        }
    });
}

void shard::stop() {
    // Callers drain their work first (graceful shutdown); anything still pending is abandoned.
    context_.stop();
}

void shard::join() {
    if (thread_.joinable() && !is_current()) {
        thread_.join();
    }
}

shard_set::shard_set(std::size_t count) {
    if (count == 0) {
        count = std::max(1U, std::thread::hardware_concurrency());
    }
    for (std::size_t i = 0; i < count; ++i) {
        shards_.push_back(std::make_unique<shard>(i));
    }
}

void shard_set::start() {
    for (auto& s : shards_) {
        s->start();
    }
}

void shard_set::settle(int rounds, std::chrono::steady_clock::time_point deadline) {
    struct barrier {
        std::mutex mutex;
        std::condition_variable done;
        std::size_t remaining = 0;
    };

    for (int round = 0; round < rounds; ++round) {
        auto b = std::make_shared<barrier>();
        b->remaining = shards_.size();
        for (auto& s : shards_) {
            // Posted, not submitted: it queues behind everything already posted to the loop.
            boost::asio::post(s->context(), [b] {
                const std::lock_guard lock(b->mutex);
                if (--b->remaining == 0) {
                    b->done.notify_all();
                }
            });
        }
        std::unique_lock lock(b->mutex);
        if (!b->done.wait_until(lock, deadline, [&] { return b->remaining == 0; })) {
            return;
        }
    }
}

void shard_set::stop() {
    for (auto& s : shards_) {
        s->stop();
    }
}

void shard_set::join() {
    for (auto& s : shards_) {
        s->join();
    }
}

} // namespace gyre::runtime
