// File: api/executor.hpp
// Runs server API requests against the node, independent of how they arrived (HTTP today;
// gRPC and queue consumers later decode into the same request values). Validation and error
// codes follow Centrifugo's executor. API publications join the client publish path: one
// prepared push per channel, encoded once per wire format however many subscribers it reaches.
#pragma once

#include "api/messages.hpp"
#include "core/unique_function.hpp"
#include "session/context.hpp"

#include <chrono>
#include <string>

namespace gyre::api {

class executor {
public:
    using done_fn = unique_function<void(reply)>;

    /// `uid` identifies this node run in `info` (a fresh UUID per start).
    executor(session::context& ctx, std::string uid);

    /// Runs `q` for a caller on `shard` (that shard's thread); `done` runs there once, with
    /// the result or the error.
    void execute(std::size_t shard, request q, done_fn done);

private:
    void publish(std::size_t shard, const publish_request& q, done_fn done);
    void broadcast(std::size_t shard, const broadcast_request& q, done_fn done);
    void subscribe(std::size_t shard, const subscribe_request& q, done_fn done);
    void unsubscribe(std::size_t shard, const unsubscribe_request& q, done_fn done);
    void disconnect(std::size_t shard, const disconnect_request& q, done_fn done);
    void refresh(std::size_t shard, const refresh_request& q, done_fn done);
    void presence(std::size_t shard, method m, const channel_request& q, done_fn done);
    /// history (with `q`) or history_remove (`q` null).
    void history(std::size_t shard,
                 method m,
                 const std::string& channel,
                 const history_request* q,
                 done_fn done);
    void channels(std::size_t shard, const channels_request& q, done_fn done);
    void info(std::size_t shard, done_fn done);
    void batch(std::size_t shard, std::shared_ptr<batch_request> q, done_fn done);

    /// Publishes `data` (already decoded) into one channel: shared by publish and broadcast.
    void publish_one(std::size_t shard,
                     const std::string& channel,
                     const std::string& data,
                     const publication_fields& f,
                     done_fn done);

    const config::config& cfg(std::size_t shard) const noexcept;

    session::context& ctx_;
    std::string uid_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace gyre::api
