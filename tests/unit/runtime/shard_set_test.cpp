#include "runtime/shard_set.hpp"

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

namespace gyre::runtime {
namespace {

TEST(shard_set, submit_runs_on_the_shard_thread_in_fifo_order) {
    shard_set set(2);
    set.start();
    std::vector<int> order;
    std::promise<void> done;
    std::atomic<bool> on_shard{true};
    for (int i = 0; i < 1000; ++i) {
        set.at(1).submit([&, i] {
            on_shard = on_shard && set.at(1).is_current();
            order.push_back(i);
            if (i == 999) {
                done.set_value();
            }
        });
    }
    ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
    set.stop();
    set.join();
    EXPECT_TRUE(on_shard);
    ASSERT_EQ(order.size(), 1000U);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
    }
}

// A task that throws must not replay the tasks drained with it (duplicates, out of order) nor
// stall the inbox: what follows runs once, in order, and later submits still wake the shard.
TEST(shard_set, a_throwing_task_runs_nothing_twice_and_keeps_the_order) {
    shard_set set(1);
    std::vector<int> order;
    for (int i = 0; i < 10; ++i) {
        set.at(0).submit([&order, i] {
            order.push_back(i);
            if (i == 3) {
                throw std::runtime_error("a handler failed");
            }
        });
    }
    set.start();
    std::promise<void> first;
    set.at(0).submit([&first] { first.set_value(); });
    ASSERT_EQ(first.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
    std::promise<void> second;
    set.at(0).submit([&order, &second] {
        order.push_back(10);
        second.set_value();
    });
    ASSERT_EQ(second.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
    set.stop();
    set.join();
    ASSERT_EQ(order.size(), 11U);
    for (int i = 0; i <= 10; ++i) {
        EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
    }
}

TEST(shard_set, many_producers_lose_nothing) {
    shard_set set(1);
    set.start();
    std::atomic<int> count{0};
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
        producers.emplace_back([&] {
            for (int i = 0; i < 2500; ++i) {
                set.at(0).submit([&] { count.fetch_add(1); });
            }
        });
    }
    for (auto& p : producers) {
        p.join();
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (count.load() < 10000 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    set.stop();
    set.join();
    EXPECT_EQ(count.load(), 10000);
}

TEST(shard_set, settle_runs_queued_work_and_the_work_it_queues) {
    // Shutdown relies on this: cleanups deferred by closing sessions run before stop().
    shard_set set(2);
    set.start();
    std::atomic<int> count{0};
    for (std::size_t i = 0; i < set.size(); ++i) {
        auto& ctx = set.at(i).context();
        boost::asio::post(ctx, [&ctx, &count] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            count.fetch_add(1);
            boost::asio::post(ctx, [&count] { count.fetch_add(1); }); // queued by queued work
        });
    }
    set.settle(2, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    EXPECT_EQ(count.load(), 4);
    set.stop();
    set.join();
}

TEST(shard_set, zero_means_one_per_core) {
    shard_set set(0);
    EXPECT_GE(set.size(), 1U);
}

} // namespace
} // namespace gyre::runtime
