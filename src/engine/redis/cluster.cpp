// File: engine/redis/cluster.cpp
#include "engine/redis/cluster.hpp"

#include "core/log.hpp"
#include "engine/redis/key_slot.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string_view>

namespace gyre::engine::redis {

namespace asio = boost::asio;

namespace detail {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'a' && x <= 'z' ? x - 32 : x) == (y >= 'a' && y <= 'z' ? y - 32 : y);
           });
}

bool starts_with_word(std::string_view text, std::string_view word) noexcept {
    return text.size() >= word.size() && text.substr(0, word.size()) == word &&
           (text.size() == word.size() || text[word.size()] == ' ');
}

template <typename Int>
bool parse_int(std::string_view text, Int& out) noexcept {
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end;
}

/// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 :6381" -> slot, host (may be empty), port.
struct redirect_target {
    std::uint16_t slot = 0;
    std::string host;
    std::uint16_t port = 0;
};

std::optional<redirect_target> parse_redirect(std::string_view error) {
    const auto first = error.find(' ');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second = error.find(' ', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    const auto endpoint = error.substr(second + 1);
    const auto colon = endpoint.rfind(':'); // last colon: IPv6 hosts contain colons
    redirect_target t;
    if (colon == std::string_view::npos ||
        !parse_int(error.substr(first + 1, second - first - 1), t.slot) ||
        t.slot >= cluster_slot_count || !parse_int(endpoint.substr(colon + 1), t.port)) {
        return std::nullopt;
    }
    t.host = std::string(endpoint.substr(0, colon));
    return t;
}

const std::vector<std::string>& asking_args() {
    static const std::vector<std::string> args{"ASKING"};
    return args;
}

const std::vector<std::string>& cluster_slots_args() {
    static const std::vector<std::string> args{"CLUSTER", "SLOTS"};
    return args;
}

} // namespace detail

std::optional<std::uint16_t> command_slot(const std::vector<std::string>& args) {
    if (args.size() < 2) {
        return std::nullopt;
    }
    const std::string_view name = args[0];
    if (detail::iequals(name, "EVAL") || detail::iequals(name, "EVALSHA") ||
        detail::iequals(name, "EVAL_RO") || detail::iequals(name, "EVALSHA_RO") ||
        detail::iequals(name, "FCALL") || detail::iequals(name, "FCALL_RO")) {
        long long numkeys = 0;
        if (args.size() < 4 || !detail::parse_int(std::string_view(args[2]), numkeys) ||
            numkeys <= 0) {
            return std::nullopt;
        }
        return key_slot(args[3]);
    }
    if (detail::iequals(name, "XREAD") || detail::iequals(name, "XREADGROUP")) {
        for (std::size_t i = 1; i + 1 < args.size(); ++i) {
            if (detail::iequals(args[i], "STREAMS")) {
                return key_slot(args[i + 1]);
            }
        }
        return std::nullopt;
    }
    // Keyless or node-wide commands; PUBLISH is broadcast over the cluster bus from any node.
    static constexpr std::string_view keyless[] = {"PUBLISH",
                                                   "PING",
                                                   "ECHO",
                                                   "INFO",
                                                   "CLUSTER",
                                                   "SCRIPT",
                                                   "FUNCTION",
                                                   "COMMAND",
                                                   "TIME",
                                                   "DBSIZE",
                                                   "FLUSHALL",
                                                   "KEYS",
                                                   "SCAN",
                                                   "CONFIG",
                                                   "CLIENT",
                                                   "WAIT",
                                                   "RANDOMKEY"};
    for (const auto k : keyless) {
        if (detail::iequals(name, k)) {
            return std::nullopt;
        }
    }
    return key_slot(args[1]);
}

std::shared_ptr<cluster_connection> cluster_connection::create(asio::io_context& context,
                                                               std::vector<address> seeds,
                                                               cluster_options options) {
    return std::shared_ptr<cluster_connection>(
        new cluster_connection(context, std::move(seeds), options));
}

cluster_connection::cluster_connection(asio::io_context& context,
                                       std::vector<address> seeds,
                                       cluster_options options)
    : context_(context)
    , seeds_(std::move(seeds))
    , options_(options)
    , slots_(cluster_slot_count, nullptr)
    , delay_timer_(context)
    , refresh_timer_(context) {
    for (auto& s : seeds_) {
        s.db = 0; // SELECT is refused in cluster mode
    }
}

cluster_connection::~cluster_connection() {
    for (auto& [name, n] : nodes_) {
        n->conn->stop();
    }
}

void cluster_connection::start() {
    if (state_ != map_state::idle) {
        return;
    }
    if (seeds_.empty()) {
        state_ = map_state::unavailable;
        last_error_ = "redis cluster: no seed addresses";
        return;
    }
    state_ = map_state::discovering;
    start_refresh();
}

void cluster_connection::stop() {
    if (state_ == map_state::stopped) {
        return;
    }
    state_ = map_state::stopped;
    delay_timer_.cancel();
    refresh_timer_.cancel();
    std::vector<request_ptr> parked;
    parked.swap(waiting_);
    for (auto& [due, req] : delayed_) {
        parked.push_back(std::move(req));
    }
    delayed_.clear();
    for (auto& req : parked) {
        fail_later(std::move(req->done), "redis cluster: client stopped");
    }
    // Node connections fail their in-flight commands with "client stopped" (on_result passes
    // that through since state_ is stopped).
    auto nodes = std::move(nodes_);
    nodes_.clear();
    std::fill(slots_.begin(), slots_.end(), nullptr);
    has_map_ = false;
    for (auto& [name, n] : nodes) {
        n->conn->stop();
    }
}

void cluster_connection::fail_later(reply_callback done, std::string why) {
    asio::post(context_, [done = std::move(done), why = std::move(why)]() mutable {
        done(command_result{reply::make_nil(), std::move(why)});
    });
}

void cluster_connection::command(std::vector<std::string> args, reply_callback done) {
    switch (state_) {
    case map_state::idle:
        fail_later(std::move(done), "redis cluster: not started");
        return;
    case map_state::stopped:
        fail_later(std::move(done), "redis cluster: client stopped");
        return;
    case map_state::unavailable:
        fail_later(std::move(done), last_error_);
        return;
    case map_state::discovering:
        waiting_.push_back(std::make_unique<request>(request{std::move(args), std::move(done)}));
        return;
    case map_state::ready:
        break;
    }
    dispatch(std::make_unique<request>(request{std::move(args), std::move(done)}));
}

void cluster_connection::dispatch(request_ptr req) {
    const auto slot = command_slot(req->args);
    node* target = slot ? slots_[*slot] : nullptr;
    if (target == nullptr) {
        // Keyless, or a slot the map has no owner for: any node answers, or redirects us.
        target = any_node();
    }
    if (target == nullptr) {
        fail_later(std::move(req->done),
                   last_error_.empty() ? "redis cluster: no node known" : last_error_);
        return;
    }
    send(*target, std::move(req), false);
}

void cluster_connection::send(node& target, request_ptr req, bool asking) {
    auto& conn = *target.conn;
    if (asking) {
        // Same turn, same connection: ASKING and the command leave together, in order.
        conn.command_keep_args(detail::asking_args(), [](command_result) {});
    }
    req->via = &conn;
    const auto& args = req->args; // lives in the heap request the callback owns
    conn.command_keep_args(
        args, [self = shared_from_this(), req = std::move(req)](command_result result) mutable {
            self->on_result(std::move(req), std::move(result));
        });
}

void cluster_connection::on_result(request_ptr req, command_result result) {
    if (state_ == map_state::stopped) {
        req->done(std::move(result));
        return;
    }
    if (!result.ok()) {
        // The node is down or timed out: maybe it failed over, so reload the map. Not resent,
        // since the command may have run before the connection broke.
        request_refresh();
        req->done(std::move(result));
        return;
    }
    if (result.value.is_error()) {
        const std::string& text = result.value.text;
        const bool moved = detail::starts_with_word(text, "MOVED");
        if ((moved || detail::starts_with_word(text, "ASK")) && redirect(req, text, moved)) {
            return;
        }
        const bool down = detail::starts_with_word(text, "CLUSTERDOWN");
        if ((down || detail::starts_with_word(text, "TRYAGAIN")) &&
            req->retries < options_.max_retries) {
            ++req->retries;
            if (down) {
                request_refresh();
            }
            delay(std::move(req));
            return;
        }
    }
    req->done(std::move(result));
}

bool cluster_connection::redirect(request_ptr& req, const std::string& error, bool moved) {
    if (req->redirects >= options_.max_redirects) {
        return false;
    }
    auto target = detail::parse_redirect(error);
    if (!target) {
        return false;
    }
    if (target->host.empty() && req->via != nullptr) {
        // Redis 7 sends "MOVED 3999 :6381" when the node's endpoint is unknown: same host.
        target->host = req->via->target().host;
    }
    ++req->redirects;
    node& to = node_at(target->host, target->port);
    if (moved && slots_[target->slot] != &to) {
        // Fix this slot now so the rest of the burst goes straight there; one refresh picks up
        // whatever else moved. Later MOVEDs naming the same owner ask for nothing.
        slots_[target->slot] = &to;
        to.in_map = true;
        request_refresh();
    }
    send(to, std::move(req), !moved);
    return true;
}

void cluster_connection::delay(request_ptr req) {
    delayed_.emplace_back(std::chrono::steady_clock::now() + options_.retry_delay, std::move(req));
    arm_delay_timer();
}

void cluster_connection::arm_delay_timer() {
    if (delay_armed_ || delayed_.empty()) {
        return;
    }
    delay_armed_ = true;
    delay_timer_.expires_at(delayed_.front().first);
    delay_timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
        self->delay_armed_ = false;
        if (self->state_ == map_state::stopped) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        // The delay is constant, so the deque is ordered by due time.
        std::vector<request_ptr> due;
        while (!self->delayed_.empty() && self->delayed_.front().first <= now) {
            due.push_back(std::move(self->delayed_.front().second));
            self->delayed_.pop_front();
        }
        for (auto& req : due) {
            self->dispatch(std::move(req));
        }
        self->arm_delay_timer();
    });
}

cluster_connection::node* cluster_connection::any_node() {
    node* fallback = nullptr;
    for (auto& [name, n] : nodes_) {
        if (!n->in_map) {
            continue;
        }
        if (n->conn->state() == link_state::connected) {
            return n.get();
        }
        if (fallback == nullptr) {
            fallback = n.get();
        }
    }
    return fallback;
}

cluster_connection::node& cluster_connection::node_at(const std::string& host, std::uint16_t port) {
    auto name = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                    : fmt::format("{}:{}", host, port);
    auto it = nodes_.find(name);
    if (it != nodes_.end()) {
        return *it->second;
    }
    address a = seeds_.front(); // credentials and timeouts of the cluster
    a.host = host;
    a.port = port;
    a.unix_path.clear();
    auto n = std::make_unique<node>();
    n->name = name;
    n->conn = connection::create(context_, std::move(a), options_.backoff);
    n->conn->start();
    auto& ref = *n;
    nodes_.emplace(std::move(name), std::move(n));
    return ref;
}

std::vector<address> cluster_connection::master_addresses() const {
    std::vector<address> out;
    for (const bool want_connected : {true, false}) {
        for (const auto& [name, n] : nodes_) {
            if (n->in_map && (n->conn->state() == link_state::connected) == want_connected) {
                out.push_back(n->conn->target());
            }
        }
    }
    return out;
}

std::string cluster_connection::owner_of(std::uint16_t slot) const {
    if (slot >= slots_.size() || slots_[slot] == nullptr) {
        return {};
    }
    return slots_[slot]->name;
}

std::size_t cluster_connection::master_count() const noexcept {
    std::size_t count = 0;
    for (const auto& [name, n] : nodes_) {
        count += n->in_map ? 1U : 0U;
    }
    return count;
}

std::uint64_t cluster_connection::write_count() const noexcept {
    std::uint64_t count = 0;
    for (const auto& [name, n] : nodes_) {
        count += n->conn->write_count();
    }
    return count;
}

void cluster_connection::request_refresh() {
    if (state_ == map_state::stopped || refreshing_ || refresh_armed_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const auto next = last_refresh_start_ + options_.min_refresh_interval;
    if (now >= next) {
        start_refresh();
        return;
    }
    refresh_armed_ = true;
    refresh_timer_.expires_at(next);
    refresh_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        self->refresh_armed_ = false;
        if (!ec && self->state_ != map_state::stopped) {
            self->start_refresh();
        }
    });
}

void cluster_connection::start_refresh() {
    refreshing_ = true;
    last_refresh_start_ = std::chrono::steady_clock::now();
    // Known masters first, connected ones before the rest (a dead master would cost a connect
    // timeout), then the seeds.
    candidates_.clear();
    for (const bool want_connected : {true, false}) {
        for (const auto& [name, n] : nodes_) {
            if (n->in_map && (n->conn->state() == link_state::connected) == want_connected) {
                candidates_.push_back(name);
            }
        }
    }
    for (const auto& seed : seeds_) {
        auto name = node_at(seed.host, seed.port).name;
        if (std::find(candidates_.begin(), candidates_.end(), name) == candidates_.end()) {
            candidates_.push_back(std::move(name));
        }
    }
    try_candidate(0, {});
}

void cluster_connection::try_candidate(std::size_t index, std::string last_failure) {
    if (index >= candidates_.size()) {
        on_refresh_failed(std::move(last_failure));
        return;
    }
    auto it = nodes_.find(candidates_[index]);
    if (it == nodes_.end()) {
        try_candidate(index + 1, std::move(last_failure));
        return;
    }
    auto& conn = *it->second->conn;
    conn.command_keep_args(
        detail::cluster_slots_args(),
        [self = shared_from_this(), index, host = conn.target().host](command_result r) mutable {
            if (self->state_ == map_state::stopped) {
                return;
            }
            std::string why;
            if (!r.ok()) {
                why = std::move(r.failure);
            } else if (self->apply_map(r.value, host, why)) {
                return;
            } else {
                why = fmt::format("redis {}: {}", self->candidates_[index], why);
            }
            self->try_candidate(index + 1, std::move(why));
        });
}

bool cluster_connection::apply_map(const reply& slots,
                                   const std::string& asked_host,
                                   std::string& why) {
    if (slots.is_error()) {
        why = "CLUSTER SLOTS: " + slots.text;
        return false;
    }
    if (slots.type != reply::kind::array || slots.elements.empty()) {
        why = "CLUSTER SLOTS: no slots assigned";
        return false;
    }

    struct range {
        std::int64_t first;
        std::int64_t last;
        std::string host;
        std::uint16_t port;
    };

    std::vector<range> ranges;
    for (const auto& entry : slots.elements) {
        // [first, last, [host, port, id, ...], replicas...]
        if (entry.type != reply::kind::array || entry.elements.size() < 3 ||
            entry.elements[0].type != reply::kind::integer ||
            entry.elements[1].type != reply::kind::integer ||
            entry.elements[2].type != reply::kind::array || entry.elements[2].elements.size() < 2 ||
            entry.elements[2].elements[1].type != reply::kind::integer) {
            why = "CLUSTER SLOTS: malformed reply";
            return false;
        }
        const auto& master = entry.elements[2].elements;
        range r{entry.elements[0].integer,
                entry.elements[1].integer,
                master[0].is_string() ? master[0].text : std::string(),
                static_cast<std::uint16_t>(master[1].integer)};
        if (r.first < 0 || r.last >= cluster_slot_count || r.first > r.last) {
            why = "CLUSTER SLOTS: slot out of range";
            return false;
        }
        if (r.host.empty() || r.host == "?") {
            r.host = asked_host; // endpoint unknown to the cluster: the node we asked
        }
        ranges.push_back(std::move(r));
    }
    for (auto& [name, n] : nodes_) {
        n->in_map = false;
    }
    std::fill(slots_.begin(), slots_.end(), nullptr);
    for (const auto& r : ranges) {
        node& owner = node_at(r.host, r.port);
        owner.in_map = true;
        std::fill(slots_.begin() + r.first, slots_.begin() + r.last + 1, &owner);
    }
    // Drop idle connections to nodes that own nothing now (old masters, seed aliases); busy
    // ones stay until a later refresh finds them idle.
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (!it->second->in_map && it->second->conn->pending() == 0) {
            it->second->conn->stop();
            it = nodes_.erase(it);
        } else {
            ++it;
        }
    }
    refreshing_ = false;
    has_map_ = true;
    ++refresh_count_;
    discovery_delay_ = {};
    last_error_.clear();
    GYRE_LOG_DEBUG(
        "redis cluster slot map loaded masters={} ranges={}", master_count(), ranges.size());
    if (state_ == map_state::discovering) {
        state_ = map_state::ready;
        std::vector<request_ptr> waiting;
        waiting.swap(waiting_);
        for (auto& req : waiting) {
            dispatch(std::move(req));
        }
    }
    return true;
}

void cluster_connection::on_refresh_failed(std::string why) {
    refreshing_ = false;
    last_error_ = "redis cluster: cannot load the slot map: " +
                  (why.empty() ? std::string("no node answered") : why);
    GYRE_LOG_WARN("{}", last_error_);
    if (has_map_) {
        return; // keep routing with the old map; the next failure asks again
    }
    state_ = map_state::unavailable;
    std::vector<request_ptr> waiting;
    waiting.swap(waiting_);
    for (auto& req : waiting) {
        req->done(command_result{reply::make_nil(), last_error_});
    }
    if (state_ != map_state::unavailable) {
        return; // a callback stopped us
    }
    auto wait = discovery_delay_.count() == 0 ? options_.backoff.initial : discovery_delay_;
    discovery_delay_ = std::min(wait * 2, options_.backoff.max);
    refresh_armed_ = true;
    refresh_timer_.expires_after(wait);
    refresh_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        self->refresh_armed_ = false;
        if (!ec && self->state_ == map_state::unavailable) {
            self->state_ = map_state::discovering;
            self->start_refresh();
        }
    });
}

void detect_cluster(asio::io_context& context,
                    address target,
                    unique_function<void(cluster_probe)> done) {
    auto conn = connection::create(context, std::move(target));
    conn->start();
    conn->command(
        {"INFO", "cluster"}, [&context, conn, done = std::move(done)](command_result r) mutable {
            cluster_probe probe;
            if (!r.ok()) {
                probe.failure = std::move(r.failure);
            } else {
                probe.reachable = true;
                probe.cluster_enabled = r.value.is_string() &&
                                        r.value.text.find("cluster_enabled:1") != std::string::npos;
            }
            // Stopped from its own handler, not from inside its reply dispatch.
            asio::post(context, [conn] { conn->stop(); });
            done(std::move(probe));
        });
}

} // namespace gyre::engine::redis
