// File: engine/redis/link.cpp
#include "engine/redis/link.hpp"

#include "core/log.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace gyre::engine::redis {

namespace asio = boost::asio;

const char* to_string(link_state s) noexcept {
    switch (s) {
    case link_state::connecting:
        return "connecting";
    case link_state::connected:
        return "connected";
    case link_state::disconnected:
        return "disconnected";
    case link_state::stopped:
        return "stopped";
    }
    return "unknown";
}

link::link(asio::io_context& context, address target, backoff_options backoff)
    : context_(context)
    , address_(std::move(target))
    , backoff_(backoff)
    , socket_(context)
    , resolver_(context)
    , connect_timer_(context)
    , retry_timer_(context)
    , io_timer_(context)
    , read_buffer_(64 * 1024)
    , jitter_(std::random_device{}()) {}

link::~link() = default;

void link::start() {
    if (started_) {
        return;
    }
    started_ = true;
    connect();
}

void link::stop() {
    if (state_ == link_state::stopped) {
        return;
    }
    ++generation_;
    close_socket();
    retry_timer_.cancel();
    outgoing_.clear();
    set_state(link_state::stopped);
    handle_down(fmt::format("redis {}: client stopped", address_.describe()));
}

void link::set_state(link_state s) {
    if (s == state_) {
        return;
    }
    state_ = s;
    if (state_hook_) {
        state_hook_(s);
    }
}

void link::close_socket() {
    boost::system::error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
    connect_timer_.cancel();
    io_timer_.cancel();
    write_in_progress_ = false;
    handshake_replies_left_ = 0;
}

void link::connect() {
    const auto generation = ++generation_;
    set_state(link_state::connecting);
    parser_.reset();
    auto self = shared_from_this();
    connect_timer_.expires_after(address_.connect_timeout);
    connect_timer_.async_wait([this, self, generation](boost::system::error_code ec) {
        if (!ec && generation == generation_ && state_ == link_state::connecting) {
            fail(fmt::format("connect timeout after {}ms", address_.connect_timeout.count()));
        }
    });
    auto on_connect = [this, self, generation](boost::system::error_code ec) {
        if (generation != generation_) {
            return;
        }
        if (ec) {
            fail("connect failed: " + ec.message());
            return;
        }
        on_connected();
    };
    if (address_.is_unix()) {
        socket_.async_connect(asio::local::stream_protocol::endpoint(address_.unix_path),
                              std::move(on_connect));
        return;
    }
    resolver_.async_resolve(
        address_.host,
        std::to_string(address_.port),
        [this, self, generation, on_connect = std::move(on_connect)](
            boost::system::error_code ec, asio::ip::tcp::resolver::results_type results) mutable {
            if (generation != generation_) {
                return;
            }
            if (ec || results.empty()) {
                fail("cannot resolve host: " + (ec ? ec.message() : std::string("no address")));
                return;
            }
            // First resolved address only: Redis hosts are one address in practice, and the
            // reconnect loop retries anyway.
            socket_.async_connect(
                asio::generic::stream_protocol::endpoint(results.begin()->endpoint()),
                std::move(on_connect));
        });
}

void link::on_connected() {
    if (!address_.is_unix()) {
        boost::system::error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    std::string handshake;
    if (!address_.password.empty()) {
        std::vector<std::string> auth{"AUTH"};
        if (!address_.user.empty()) {
            auth.push_back(address_.user);
        }
        auth.push_back(address_.password);
        append_command(handshake, auth);
        ++handshake_replies_left_;
    }
    if (address_.db != 0) {
        append_command(handshake, {"SELECT", std::to_string(address_.db)});
        ++handshake_replies_left_;
    }
    read_more();
    if (handshake_replies_left_ == 0) {
        on_ready();
        return;
    }
    start_write(std::move(handshake));
}

void link::on_ready() {
    connect_timer_.cancel();
    next_delay_ = {};
    ++connect_count_;
    idle_ = true;
    set_state(link_state::connected);
    const auto generation = generation_;
    handle_ready();
    if (generation == generation_) {
        flush();
    }
}

void link::handle_handshake_reply(const reply& r) {
    if (r.is_error()) {
        // AUTH comes first, so an error while it is outstanding names AUTH.
        const bool auth_pending =
            !address_.password.empty() && handshake_replies_left_ == (address_.db != 0 ? 2u : 1u);
        fail(fmt::format("{} failed: {}", auth_pending ? "AUTH" : "SELECT", r.text));
        return;
    }
    if (--handshake_replies_left_ == 0) {
        on_ready();
    }
}

void link::read_more() {
    auto self = shared_from_this();
    const auto generation = generation_;
    socket_.async_read_some(asio::buffer(read_buffer_),
                            [this, self, generation](boost::system::error_code ec, std::size_t n) {
                                if (generation != generation_) {
                                    return;
                                }
                                if (ec) {
                                    fail(ec == asio::error::eof
                                             ? std::string("connection closed by server")
                                             : "read failed: " + ec.message());
                                    return;
                                }
                                last_progress_ = std::chrono::steady_clock::now();
                                if (!parser_.feed(std::string_view(read_buffer_.data(), n))) {
                                    fail("protocol error: " + parser_.error());
                                    return;
                                }
                                while (generation == generation_) {
                                    auto r = parser_.next();
                                    if (!r) {
                                        if (!parser_.error().empty()) {
                                            fail("protocol error: " + parser_.error());
                                            return;
                                        }
                                        break;
                                    }
                                    if (handshake_replies_left_ > 0) {
                                        handle_handshake_reply(*r);
                                    } else {
                                        handle_reply(std::move(*r));
                                    }
                                }
                                if (generation != generation_) {
                                    return; // a callback stopped or failed the link
                                }
                                if (!awaiting_replies()) {
                                    idle_ = true;
                                }
                                read_more();
                            });
}

void link::enqueue_bytes(const std::vector<std::string>& command) {
    append_command(outgoing_, command);
    if (state_ == link_state::connected) {
        schedule_flush();
    }
}

void link::schedule_flush() {
    if (flush_posted_) {
        return;
    }
    flush_posted_ = true;
    asio::post(context_, [this, self = shared_from_this()] {
        flush_posted_ = false;
        flush();
    });
}

void link::flush() {
    if (state_ != link_state::connected || write_in_progress_ || outgoing_.empty()) {
        return;
    }
    if (idle_) {
        // The io_timeout clock starts when the first outstanding command leaves.
        last_progress_ = std::chrono::steady_clock::now();
        idle_ = false;
    }
    std::string bytes;
    bytes.swap(outgoing_);
    start_write(std::move(bytes));
    arm_io_watchdog();
}

void link::start_write(std::string bytes) {
    write_in_progress_ = true;
    ++write_count_;
    // The buffer lives in the handler, so a write cancelled by a reconnect never sees a new one.
    auto buffer = std::make_shared<std::string>(std::move(bytes));
    const auto generation = generation_;
    asio::async_write(
        socket_,
        asio::buffer(*buffer),
        [this, self = shared_from_this(), buffer, generation](boost::system::error_code ec,
                                                              std::size_t) {
            if (generation != generation_) {
                return;
            }
            write_in_progress_ = false;
            if (ec) {
                fail("write failed: " + ec.message());
                return;
            }
            flush(); // whatever was queued while this write was in flight, in one more write
        });
}

void link::arm_io_watchdog() {
    if (io_timer_armed_ || !awaiting_replies()) {
        return;
    }
    io_timer_armed_ = true;
    const auto generation = generation_;
    const auto deadline = last_progress_ + address_.io_timeout;
    io_timer_.expires_at(deadline);
    io_timer_.async_wait([this, self = shared_from_this(), generation](boost::system::error_code) {
        io_timer_armed_ = false;
        if (generation != generation_ || state_ != link_state::connected || idle_ ||
            !awaiting_replies()) {
            return;
        }
        if (std::chrono::steady_clock::now() - last_progress_ >= address_.io_timeout) {
            fail(fmt::format("no reply within io_timeout {}ms", address_.io_timeout.count()));
            return;
        }
        arm_io_watchdog();
    });
}

void link::fail(const std::string& why) {
    if (state_ == link_state::stopped) {
        return;
    }
    ++generation_;
    close_socket();
    outgoing_.clear();
    last_error_ = fmt::format("redis {}: {}", address_.describe(), why);
    GYRE_LOG_WARN("redis link down addr={} reason=\"{}\"", address_.describe(), why);
    set_state(link_state::disconnected);
    handle_down(last_error_);
    if (state_ == link_state::disconnected) {
        schedule_reconnect();
    }
}

void link::schedule_reconnect() {
    auto delay = next_delay_.count() == 0 ? backoff_.initial : next_delay_;
    next_delay_ = std::min(delay * 2, backoff_.max);
    // Jitter in [delay/2, delay] so many nodes do not reconnect in lockstep after a restart.
    const auto half = delay.count() / 2;
    std::uniform_int_distribution<long long> spread(0, half > 0 ? half : 0);
    const auto wait = std::chrono::milliseconds(delay.count() - half + spread(jitter_));
    const auto generation = generation_;
    retry_timer_.expires_after(wait);
    retry_timer_.async_wait(
        [this, self = shared_from_this(), generation](boost::system::error_code ec) {
            if (!ec && generation == generation_ && state_ == link_state::disconnected) {
                connect();
            }
        });
}

} // namespace gyre::engine::redis
