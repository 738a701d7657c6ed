// File: engine/redis/subscriber.cpp
#include "engine/redis/subscriber.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>

namespace gyre::engine::redis {

std::shared_ptr<subscriber>
subscriber::create(boost::asio::io_context& context, address target, backoff_options backoff) {
    return std::shared_ptr<subscriber>(new subscriber(context, std::move(target), backoff));
}

subscriber::subscriber(boost::asio::io_context& context, address target, backoff_options backoff)
    : link(context, std::move(target), backoff) {}

void subscriber::subscribe(const std::vector<std::string>& channels) {
    for (const auto& channel : channels) {
        wanted_.insert(channel);
        to_unsubscribe_.erase(channel);
        to_subscribe_.insert(channel);
    }
    schedule_batch();
}

void subscriber::subscribe(const std::string& channel, unique_function<void(bool)> done) {
    if (state() != link_state::connected) {
        boost::asio::post(context(), [done = std::move(done)]() mutable { done(false); });
        return;
    }
    if (confirmed_.contains(channel)) {
        boost::asio::post(context(), [done = std::move(done)]() mutable { done(true); });
        return;
    }
    waiters_[channel].push_back(std::move(done));
    subscribe(std::vector<std::string>{channel});
}

void subscriber::settle(const std::string& channel, bool ok) {
    const auto it = waiters_.find(channel);
    if (it == waiters_.end()) {
        return;
    }
    auto waiting = std::move(it->second);
    waiters_.erase(it);
    for (auto& w : waiting) {
        w(ok);
    }
}

void subscriber::unsubscribe(const std::vector<std::string>& channels) {
    for (const auto& channel : channels) {
        if (wanted_.erase(channel) == 0) {
            continue;
        }
        confirmed_.erase(channel); // from now on only a new SUBSCRIBE's ack confirms it
        to_subscribe_.erase(channel);
        to_unsubscribe_.insert(channel);
    }
    schedule_batch();
}

void subscriber::schedule_batch() {
    if (batch_posted_ || state() != link_state::connected) {
        return; // while not connected, handle_ready sends the whole wanted set
    }
    batch_posted_ = true;
    boost::asio::post(context(), [this, self = shared_from_this()] {
        batch_posted_ = false;
        send_batch();
    });
}

void subscriber::send_batch() {
    if (state() != link_state::connected) {
        return;
    }
    send_chunked("UNSUBSCRIBE", to_unsubscribe_);
    send_chunked("SUBSCRIBE", to_subscribe_);
}

void subscriber::send_chunked(const char* verb, std::unordered_set<std::string>& channels) {
    std::vector<std::string> command;
    auto emit = [&] {
        if (command.size() > 1) {
            acks_outstanding_ += command.size() - 1; // Redis acks each channel separately
            enqueue_bytes(command);
        }
        command.clear();
    };
    for (auto& channel : channels) {
        if (command.empty()) {
            command.emplace_back(verb);
        }
        command.push_back(channel);
        ++in_flight_[channel];
        if (command.size() - 1 == max_channels_per_command) {
            emit();
        }
    }
    emit();
    channels.clear();
}

void subscriber::handle_ready() {
    to_unsubscribe_.clear(); // a fresh connection has no subscriptions to drop
    to_subscribe_ = wanted_;
    send_batch();
}

void subscriber::handle_reply(reply r) {
    if (r.type != reply::kind::array || r.elements.empty() || !r.elements[0].is_string()) {
        if (r.is_error()) {
            GYRE_LOG_WARN(
                "redis subscriber error reply addr={} error=\"{}\"", target().describe(), r.text);
        }
        return;
    }
    const std::string& kind = r.elements[0].text;
    if (kind == "message" && r.elements.size() == 3) {
        if (message_handler_) {
            message_handler_(r.elements[1].text, r.elements[2].text);
        }
        return;
    }
    if ((kind == "subscribe" || kind == "unsubscribe") && r.elements.size() == 3) {
        if (acks_outstanding_ > 0) {
            --acks_outstanding_;
        }
        const std::string& channel = r.elements[1].text;
        bool last = true;
        if (const auto it = in_flight_.find(channel); it != in_flight_.end()) {
            last = --it->second == 0;
            if (last) {
                in_flight_.erase(it);
            }
        }
        if (kind == "subscribe" && last && wanted_.contains(channel)) {
            confirmed_.insert(channel);
            settle(channel, true);
        } else if (kind == "unsubscribe") {
            confirmed_.erase(channel);
        }
    }
}

void subscriber::handle_down(const std::string&) {
    confirmed_.clear();
    in_flight_.clear();
    acks_outstanding_ = 0;
    // Those waiting hear of the failure (their clients get an error and retry); the wanted
    // set is subscribed again after the reconnect.
    auto waiting = std::move(waiters_);
    waiters_.clear();
    for (auto& [channel, list] : waiting) {
        for (auto& w : list) {
            w(false);
        }
    }
}

} // namespace gyre::engine::redis
