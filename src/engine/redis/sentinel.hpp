// File: engine/redis/sentinel.hpp
// Where a Sentinel-monitored master is, for one link in Sentinel mode. resolve() asks the
// Sentinels in turn (SENTINEL get-master-addr-by-name), starting with the one that answered
// last. While the link is up, watch() listens on that Sentinel for +switch-master and also asks
// again every sentinel_check_interval, so a missed event cannot leave a node talking to a
// demoted master (Centrifugo issue #1189). Single-threaded, on the link's io_context.
#pragma once

#include "core/unique_function.hpp"
#include "engine/redis/address.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace gyre::engine::redis {

class connection;
class subscriber;

class sentinel_watch : public std::enable_shared_from_this<sentinel_watch> {
public:
    /// `master` is an endpoint on success; otherwise `error` says what each Sentinel said.
    using resolve_callback =
        unique_function<void(std::optional<endpoint> master, const std::string& error)>;
    using switch_callback = unique_function<void(const endpoint& new_master)>;

    static std::shared_ptr<sentinel_watch> create(boost::asio::io_context& context,
                                                  const address& target);

    sentinel_watch(const sentinel_watch&) = delete;
    sentinel_watch& operator=(const sentinel_watch&) = delete;
    ~sentinel_watch();

    /// `done` runs later on this thread, never inside this call.
    void resolve(resolve_callback done);

    /// Calls `on_switch` (at most once) when a Sentinel names a master other than `current`.
    void watch(endpoint current, switch_callback on_switch);
    void unwatch();

    /// Closes the Sentinel connections for good.
    void stop();

    /// The Sentinel that answered last; tests use it.
    const endpoint& sentinel() const noexcept { return target_.seeds[index_]; }

private:
    sentinel_watch(boost::asio::io_context& context, const address& target);

    void attempt(std::size_t tried, std::string errors, resolve_callback done);
    void ensure_query_connection();
    void ensure_event_subscriber();
    void on_event(std::string_view channel, std::string_view payload);
    void schedule_check();
    void report(const endpoint& master);
    address sentinel_address(const endpoint& at) const;

    boost::asio::io_context& context_;
    address target_;
    std::size_t index_ = 0; ///< into target_.seeds
    std::shared_ptr<connection> query_;
    std::size_t query_index_ = SIZE_MAX;
    std::shared_ptr<subscriber> events_;
    std::size_t events_index_ = SIZE_MAX;
    boost::asio::steady_timer check_timer_;
    std::optional<endpoint> current_; ///< set while watching
    switch_callback on_switch_;
    std::uint64_t watch_generation_ = 0;
    bool stopped_ = false;
};

} // namespace gyre::engine::redis
