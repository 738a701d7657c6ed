// File: engine/redis/subscriber.hpp
// A PUB/SUB connection owned by one shard. subscribe()/unsubscribe() calls made during one
// handler run become one SUBSCRIBE/UNSUBSCRIBE per 512 channels; after a reconnect everything
// still wanted is subscribed again. Messages arrive through on_message.
#pragma once

#include "engine/redis/link.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gyre::engine::redis {

class subscriber final : public link {
public:
    static constexpr std::size_t max_channels_per_command = 512;

    using message_handler = unique_function<void(std::string_view channel, std::string_view data)>;

    static std::shared_ptr<subscriber>
    create(boost::asio::io_context& context, address target, backoff_options backoff = {});

    void on_message(message_handler handler) { message_handler_ = std::move(handler); }

    void subscribe(const std::vector<std::string>& channels);

    /// Subscribes to `channel` and calls `done(true)` once Redis confirmed it, or `done(false)`
    /// when the connection is not up or breaks first. Never inside this call.
    void subscribe(const std::string& channel, unique_function<void(bool)> done);
    void unsubscribe(const std::vector<std::string>& channels);

    /// Redis confirmed the subscription on the current connection.
    bool is_subscribed(const std::string& channel) const { return confirmed_.contains(channel); }

    std::size_t wanted_count() const noexcept { return wanted_.size(); }

    std::size_t confirmed_count() const noexcept { return confirmed_.size(); }

private:
    subscriber(boost::asio::io_context& context, address target, backoff_options backoff);

    void schedule_batch();
    void send_batch();
    void send_chunked(const char* verb, std::unordered_set<std::string>& channels);

    void handle_ready() override;
    void handle_reply(reply r) override;
    void handle_down(const std::string& why) override;

    bool awaiting_replies() const noexcept override { return acks_outstanding_ > 0; }

    void settle(const std::string& channel, bool ok);

    message_handler message_handler_;
    std::unordered_map<std::string, std::vector<unique_function<void(bool)>>> waiters_;
    std::unordered_set<std::string> wanted_;
    std::unordered_set<std::string> confirmed_; ///< wanted, acknowledged, nothing in flight
    /// SUBSCRIBE/UNSUBSCRIBE acknowledgements still due per channel: a channel dropped and
    /// wanted again quickly is confirmed only by the ack of its last SUBSCRIBE.
    std::unordered_map<std::string, std::size_t> in_flight_;
    std::unordered_set<std::string> to_subscribe_;
    std::unordered_set<std::string> to_unsubscribe_;
    std::size_t acks_outstanding_ = 0;
    bool batch_posted_ = false;
};

} // namespace gyre::engine::redis
