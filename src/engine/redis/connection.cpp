// File: engine/redis/connection.cpp
#include "engine/redis/connection.hpp"

#include <boost/asio/post.hpp>

namespace gyre::engine::redis {

std::shared_ptr<connection>
connection::create(boost::asio::io_context& context, address target, backoff_options backoff) {
    return std::shared_ptr<connection>(new connection(context, std::move(target), backoff));
}

connection::connection(boost::asio::io_context& context, address target, backoff_options backoff)
    : link(context, std::move(target), backoff) {}

void connection::command(std::vector<std::string> args, reply_callback done) {
    if (state() == link_state::disconnected || state() == link_state::stopped) {
        std::string why = last_error().empty() ? "redis " + target().describe() + ": not connected"
                                               : last_error();
        boost::asio::post(context(), [done = std::move(done), why = std::move(why)]() mutable {
            done(command_result{reply::make_nil(), std::move(why)});
        });
        return;
    }
    enqueue_bytes(args);
    callbacks_.push_back(std::move(done));
}

void connection::handle_reply(reply r) {
    if (callbacks_.empty()) {
        fail("reply without a pending command");
        return;
    }
    auto done = std::move(callbacks_.front());
    callbacks_.pop_front();
    done(command_result{std::move(r), {}});
}

void connection::handle_down(const std::string& why) {
    // Swap first: callbacks may queue new commands, which must not join this failed batch.
    std::deque<reply_callback> failed;
    failed.swap(callbacks_);
    for (auto& done : failed) {
        done(command_result{reply::make_nil(), why});
    }
}

} // namespace gyre::engine::redis
