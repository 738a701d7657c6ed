// File: engine/redis/cluster.hpp
// A Redis Cluster command client owned by one shard. It loads the slot map (CLUSTER SLOTS) from
// any reachable seed or known node, keeps one pipelined `connection` per master and sends each
// command to the master owning its key's slot, so commands issued in one handler run still leave
// in one write per master. -MOVED updates the slot at once and refreshes the whole map at most
// once per burst; -ASK resends with ASKING to the importing node; -TRYAGAIN and -CLUSTERDOWN are
// retried a few times after a short delay. Single-threaded, like connection.
#pragma once

#include "core/unique_function.hpp"
#include "engine/redis/address.hpp"
#include "engine/redis/connection.hpp"
#include "engine/redis/link.hpp"
#include "engine/redis/reply.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gyre::engine::redis {

struct cluster_options {
    backoff_options backoff{};                  ///< per-node reconnects and map re-discovery
    int max_redirects = 5;                      ///< MOVED/ASK hops per command
    int max_retries = 3;                        ///< TRYAGAIN/CLUSTERDOWN resends per command
    std::chrono::milliseconds retry_delay{100}; ///< before a TRYAGAIN/CLUSTERDOWN resend
    /// Map refreshes asked for within this interval of the last one are merged into one.
    std::chrono::milliseconds min_refresh_interval{250};
};

/// The slot `args` must be routed to, or nullopt when any node will do: PUBLISH (a cluster
/// broadcasts it to every node), keyless commands, and EVAL/EVALSHA/FCALL with no keys. EVAL-like
/// commands route by their first key (args[3]), XREAD/XREADGROUP by the first stream, all other
/// commands by args[1].
std::optional<std::uint16_t> command_slot(const std::vector<std::string>& args);

class cluster_connection final : public std::enable_shared_from_this<cluster_connection> {
public:
    enum class map_state { idle, discovering, ready, unavailable, stopped };

    /// `seeds` give the first nodes to ask for the slot map; their credentials and timeouts are
    /// reused for nodes discovered later (db is forced to 0: a cluster has only db 0).
    static std::shared_ptr<cluster_connection> create(boost::asio::io_context& context,
                                                      std::vector<address> seeds,
                                                      cluster_options options = {});

    cluster_connection(const cluster_connection&) = delete;
    cluster_connection& operator=(const cluster_connection&) = delete;
    ~cluster_connection();

    /// Connects to the seeds and loads the slot map; keeps node connections up until stop().
    void start();
    /// Closes every node connection; in-flight commands fail with "client stopped".
    void stop();

    /// Same contract as connection::command: `done` runs on this thread, later, never inside this
    /// call. While the first slot map loads the command waits; when no seed answered, or for a
    /// node that is down, it fails with a failure text. Redis error replies (also a final MOVED
    /// or CLUSTERDOWN once redirects/retries are used up) arrive as `value`.
    void command(std::vector<std::string> args, reply_callback done);

    map_state state() const noexcept { return state_; }

    bool has_slot_map() const noexcept { return has_map_; }

    /// "host:port" of the master the current map assigns `slot` to; empty when unassigned.
    std::string owner_of(std::uint16_t slot) const;

    /// Addresses of the masters in the current map, connected ones first: where a plain
    /// `subscriber` can SUBSCRIBE (a cluster delivers PUBLISH from any node to every node).
    std::vector<address> master_addresses() const;

    /// Distinct masters in the current map.
    std::size_t master_count() const noexcept;

    /// Slot maps loaded so far (the first one included); tests use it to check MOVED bursts.
    std::uint64_t refresh_count() const noexcept { return refresh_count_; }

    /// Sum of socket writes over all node connections; tests use it to check coalescing.
    std::uint64_t write_count() const noexcept;

    const std::string& last_error() const noexcept { return last_error_; }

private:
    struct node {
        std::string name; ///< "host:port" as the cluster announces it
        std::shared_ptr<connection> conn;
        bool in_map = false;
    };

    struct request {
        std::vector<std::string> args;
        reply_callback done;
        int redirects = 0;
        int retries = 0;
        const connection* via = nullptr; ///< node last sent to, only read while it replies
    };

    using request_ptr = std::unique_ptr<request>;

    cluster_connection(boost::asio::io_context& context,
                       std::vector<address> seeds,
                       cluster_options options);

    void dispatch(request_ptr req);
    void send(node& target, request_ptr req, bool asking);
    void on_result(request_ptr req, command_result result);
    bool redirect(request_ptr& req, const std::string& error, bool moved);
    void delay(request_ptr req);
    void arm_delay_timer();
    void fail_later(reply_callback done, std::string why);

    node* any_node();
    node& node_at(const std::string& host, std::uint16_t port);

    void request_refresh();
    void start_refresh();
    void try_candidate(std::size_t index, std::string last_failure);
    bool apply_map(const reply& slots, const std::string& asked_host, std::string& why);
    void on_refresh_failed(std::string why);

    boost::asio::io_context& context_;
    std::vector<address> seeds_;
    cluster_options options_;
    map_state state_ = map_state::idle;
    std::string last_error_;

    std::unordered_map<std::string, std::unique_ptr<node>> nodes_;
    std::vector<node*> slots_; ///< slot -> owning master; nullptr when unassigned
    bool has_map_ = false;

    std::vector<request_ptr> waiting_; ///< commands issued before the first map arrived
    std::deque<std::pair<std::chrono::steady_clock::time_point, request_ptr>> delayed_;
    boost::asio::steady_timer delay_timer_;
    bool delay_armed_ = false;

    boost::asio::steady_timer refresh_timer_;
    bool refreshing_ = false;
    bool refresh_armed_ = false;
    std::chrono::steady_clock::time_point last_refresh_start_{};
    std::vector<std::string> candidates_; ///< node names tried in turn by the running refresh
    std::chrono::milliseconds discovery_delay_{};
    std::uint64_t refresh_count_ = 0;
};

/// What detect_cluster() found.
struct cluster_probe {
    bool reachable = false;
    bool cluster_enabled = false; ///< INFO cluster reported cluster_enabled:1
    std::string failure;          ///< why the probe failed when not reachable
};

/// Asks `target` for INFO cluster once (bounded by its connect and io timeouts), so a plain
/// address can be recognised as a cluster node, as Centrifugo does. `done` runs later.
void detect_cluster(boost::asio::io_context& context,
                    address target,
                    unique_function<void(cluster_probe)> done);

} // namespace gyre::engine::redis
