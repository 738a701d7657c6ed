// File: engine/redis/sentinel.cpp
#include "engine/redis/sentinel.hpp"

#include "core/log.hpp"
#include "engine/redis/connection.hpp"
#include "engine/redis/subscriber.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <charconv>

namespace gyre::engine::redis {

namespace {

constexpr std::string_view switch_master_channel = "+switch-master";

std::optional<endpoint> parse_endpoint(std::string_view host, std::string_view port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
        return std::nullopt;
    }
    return endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

} // namespace

std::shared_ptr<sentinel_watch> sentinel_watch::create(boost::asio::io_context& context,
                                                       const address& target) {
    return std::shared_ptr<sentinel_watch>(new sentinel_watch(context, target));
}

sentinel_watch::sentinel_watch(boost::asio::io_context& context, const address& target)
    : context_(context)
    , target_(target)
    , check_timer_(context) {}

sentinel_watch::~sentinel_watch() = default;

address sentinel_watch::sentinel_address(const endpoint& at) const {
    address a;
    a.host = at.host;
    a.port = at.port;
    a.user = target_.sentinel_user;
    a.password = target_.sentinel_password;
    a.client_name = target_.sentinel_client_name;
    a.tls = target_.sentinel_tls;
    a.connect_timeout = target_.connect_timeout;
    a.io_timeout = target_.io_timeout;
    return a;
}

void sentinel_watch::ensure_query_connection() {
    if (query_ && query_index_ == index_) {
        return;
    }
    if (query_) {
        query_->stop();
    }
    query_ = connection::create(context_, sentinel_address(target_.seeds[index_]));
    query_index_ = index_;
    query_->start();
}

void sentinel_watch::ensure_event_subscriber() {
    if (stopped_ || (events_ && events_index_ == index_)) {
        return;
    }
    if (events_) {
        events_->stop();
    }
    events_ = subscriber::create(context_, sentinel_address(target_.seeds[index_]));
    events_index_ = index_;
    std::weak_ptr<sentinel_watch> weak = weak_from_this();
    events_->on_message([weak](std::string_view channel, std::string_view payload) {
        if (auto self = weak.lock()) {
            self->on_event(channel, payload);
        }
    });
    events_->start();
    events_->subscribe(std::vector<std::string>{std::string(switch_master_channel)});
}

void sentinel_watch::resolve(resolve_callback done) {
    if (stopped_ || target_.seeds.empty()) {
        boost::asio::post(context_, [done = std::move(done)]() mutable {
            done(std::nullopt, "no Sentinel addresses");
        });
        return;
    }
    attempt(0, {}, std::move(done));
}

void sentinel_watch::attempt(std::size_t tried, std::string errors, resolve_callback done) {
    if (stopped_) {
        boost::asio::post(context_,
                          [done = std::move(done)]() mutable { done(std::nullopt, "stopped"); });
        return;
    }
    if (tried == target_.seeds.size()) {
        boost::asio::post(context_, [done = std::move(done), errors = std::move(errors)]() mutable {
            done(std::nullopt, errors);
        });
        return;
    }
    ensure_query_connection();
    const auto asked = target_.seeds[index_];
    query_->command(
        {"SENTINEL", "get-master-addr-by-name", target_.sentinel_master_name},
        [self = shared_from_this(),
         tried,
         asked,
         errors = std::move(errors),
         done = std::move(done)](command_result r) mutable {
            std::optional<endpoint> master;
            std::string why;
            if (!r.ok()) {
                // The failure starts "redis <sentinel>: ", which the message already says.
                why = r.failure;
                const auto prefix = fmt::format("redis {}: ", asked.describe());
                if (why.starts_with(prefix)) {
                    why.erase(0, prefix.size());
                }
            } else if (r.value.is_error()) {
                why = r.value.text;
            } else if (r.value.is_nil()) {
                why =
                    fmt::format("does not know master \"{}\"", self->target_.sentinel_master_name);
            } else if (r.value.type == reply::kind::array && r.value.elements.size() == 2) {
                master = parse_endpoint(r.value.elements[0].text, r.value.elements[1].text);
            }
            if (master) {
                self->ensure_event_subscriber();
                done(std::move(master), {});
                return;
            }
            if (why.empty()) {
                why = "unexpected reply to SENTINEL get-master-addr-by-name";
            }
            errors +=
                fmt::format("{}Sentinel {}: {}", errors.empty() ? "" : "; ", asked.describe(), why);
            // Next Sentinel; posted so the failed connection finishes its callback first.
            self->index_ = (self->index_ + 1) % self->target_.seeds.size();
            boost::asio::post(
                self->context_,
                [self, tried, errors = std::move(errors), done = std::move(done)]() mutable {
                    self->attempt(tried + 1, std::move(errors), std::move(done));
                });
        });
}

void sentinel_watch::watch(endpoint current, switch_callback on_switch) {
    ++watch_generation_;
    current_ = std::move(current);
    on_switch_ = std::move(on_switch);
    ensure_event_subscriber();
    schedule_check();
}

void sentinel_watch::unwatch() {
    ++watch_generation_;
    current_.reset();
    on_switch_ = {};
    check_timer_.cancel();
}

void sentinel_watch::stop() {
    if (stopped_) {
        return;
    }
    unwatch();
    stopped_ = true;
    if (query_) {
        query_->stop();
        query_.reset();
    }
    if (events_) {
        events_->stop();
        events_.reset();
    }
}

void sentinel_watch::schedule_check() {
    const auto generation = watch_generation_;
    check_timer_.expires_after(target_.sentinel_check_interval);
    check_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
        if (ec || generation != self->watch_generation_ || self->stopped_) {
            return;
        }
        self->resolve([self, generation](std::optional<endpoint> master, const std::string& error) {
            if (generation != self->watch_generation_) {
                return;
            }
            if (master) {
                self->report(*master);
            } else {
                GYRE_LOG_WARN("redis sentinel check failed master={} error=\"{}\"",
                              self->target_.sentinel_master_name,
                              error);
            }
            if (generation == self->watch_generation_) {
                self->schedule_check();
            }
        });
    });
}

void sentinel_watch::on_event(std::string_view channel, std::string_view payload) {
    if (channel != switch_master_channel) {
        return;
    }
    // "<master-name> <old-ip> <old-port> <new-ip> <new-port>"
    std::vector<std::string_view> words;
    while (!payload.empty()) {
        auto space = payload.find(' ');
        if (space != 0) {
            words.push_back(payload.substr(0, space));
        }
        payload = space == std::string_view::npos ? std::string_view{} : payload.substr(space + 1);
    }
    if (words.size() != 5 || words[0] != target_.sentinel_master_name) {
        return;
    }
    if (auto master = parse_endpoint(words[3], words[4])) {
        GYRE_LOG_INFO("redis sentinel +switch-master master={} to={}",
                      target_.sentinel_master_name,
                      master->describe());
        report(*master);
    }
}

void sentinel_watch::report(const endpoint& master) {
    if (!current_ || master == *current_ || !on_switch_) {
        return;
    }
    auto on_switch = std::move(on_switch_);
    unwatch();
    on_switch(master);
}

} // namespace gyre::engine::redis
