// File: engine/redis/connection.hpp
// A pipelined request/reply Redis connection owned by one shard. Every command queued during
// one handler run leaves in a single write; replies are matched to callbacks in FIFO order.
// When the connection breaks, every queued and in-flight command fails at once (the engine
// answers Centrifugo error 100) and the link reconnects with backoff.
#pragma once

#include "engine/redis/link.hpp"

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace gyre::engine::redis {

class connection final : public link {
public:
    static std::shared_ptr<connection>
    create(boost::asio::io_context& context, address target, backoff_options backoff = {});

    /// Queues `args` (e.g. {"SET", key, value}). `done` runs on this thread, later, never
    /// inside this call. While connecting the command waits (bounded by connect_timeout);
    /// while disconnected or stopped it fails immediately.
    void command(std::vector<std::string> args, reply_callback done);

    /// As command(), but only reads `args`: the cluster client keeps them to resend after a
    /// MOVED/ASK redirect, without copying every command's payload.
    void command_keep_args(const std::vector<std::string>& args, reply_callback done) {
        if (state() == link_state::connecting || state() == link_state::connected) {
            enqueue_bytes(args);
            callbacks_.push_back(std::move(done));
            return;
        }
        command({}, std::move(done)); // not connected: fails exactly as command() does
    }

    std::size_t pending() const noexcept { return callbacks_.size(); }

private:
    connection(boost::asio::io_context& context, address target, backoff_options backoff);

    void handle_ready() override {}

    void handle_reply(reply r) override;
    void handle_down(const std::string& why) override;

    bool awaiting_replies() const noexcept override { return !callbacks_.empty(); }

    std::deque<reply_callback> callbacks_;
};

} // namespace gyre::engine::redis
