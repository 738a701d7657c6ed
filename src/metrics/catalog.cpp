#include "metrics/catalog.hpp"

#include <mutex>
#include <string>
#include <unordered_map>

namespace gyre::metrics {

namespace {

constexpr double default_buckets[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
constexpr double command_buckets[] = {
    .0001, .00025, .0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
constexpr double survey_buckets[] = {.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
constexpr double lag_buckets[] = {.001, .005, .01, .025, .05, .1, .2, .5, 1, 2, 5, 10};
constexpr double broadcast_buckets[] = {.000001,
                                        .000005,
                                        .00001,
                                        .00005,
                                        .0001,
                                        .00025,
                                        .0005,
                                        .001,
                                        .005,
                                        .01,
                                        .025,
                                        .05,
                                        .1,
                                        .25,
                                        .5,
                                        1,
                                        2.5,
                                        5,
                                        10};
constexpr double loop_lag_buckets[] = {
    .0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1};

std::string deprecated(std::string_view replacement, std::string_view what) {
    return "DEPRECATED — use " + std::string(replacement) +
           ". Will be removed in future releases. " + std::string(what);
}

} // namespace

// ---- families ------------------------------------------------------------------------------

counter_family node_messages_sent{"centrifugo_node_messages_sent_count",
                                  "Number of messages sent by node to broker.",
                                  {"type", "channel_namespace"}};
counter_family node_messages_received{"centrifugo_node_messages_received_count",
                                      "Number of messages received from broker.",
                                      {"type", "channel_namespace"}};
counter_family node_action_count{"centrifugo_node_action_count",
                                 "Number of various actions called.",
                                 {"action", "channel_namespace"}};
histogram_family node_broadcast_duration{"centrifugo_node_broadcast_duration_seconds",
                                         "Broadcast duration in seconds",
                                         {"type", "channel_namespace"},
                                         broadcast_buckets};
histogram_family node_pub_sub_lag{"centrifugo_node_pub_sub_lag_seconds",
                                  "Pub sub lag in seconds",
                                  {"channel_namespace"},
                                  lag_buckets};
histogram_family node_survey_duration{
    "centrifugo_node_survey_duration_seconds",
    deprecated("survey_duration_seconds_histogram", "Survey duration summary."),
    {"op"},
    survey_buckets,
    true,
    "Survey duration histogram. Use for histogram_quantile() and OpenTelemetry export."};
counter_family node_client_connection_limit{
    "centrifugo_node_client_connection_limit",
    "Number of refused requests due to node client connection limit.",
    {}};

histogram_family client_command_duration{
    "centrifugo_client_command_duration_seconds",
    deprecated("command_duration_seconds_histogram", "Client command duration summary."),
    {"method", "channel_namespace"},
    command_buckets,
    true,
    "Client command duration histogram. Use for histogram_quantile() and OpenTelemetry export."};
counter_family client_reply_errors{"centrifugo_client_num_reply_errors",
                                   "Number of errors in replies sent to clients.",
                                   {"method", "code", "channel_namespace"}};
counter_family client_server_unsubscribes{"centrifugo_client_num_server_unsubscribes",
                                          "Number of server initiated unsubscribes.",
                                          {"code", "channel_namespace"}};
counter_family client_server_disconnects{"centrifugo_client_num_server_disconnects",
                                         "Number of server initiated disconnects.",
                                         {"code"}};
counter_family client_recover{"centrifugo_client_recover",
                              "Count of recover operations with success/fail resolution.",
                              {"recovered", "channel_namespace", "has_recovered_publications"}};
histogram_family client_ping_pong_duration{"centrifugo_client_ping_pong_duration_seconds",
                                           "Ping/Pong duration in seconds",
                                           {"transport"},
                                           command_buckets};
counter_family client_connections_accepted{
    "centrifugo_client_connections_accepted",
    "Count of accepted transports.",
    {"transport", "accept_protocol", "client_name", "client_version"}};
gauge_family client_connections_inflight{
    "centrifugo_client_connections_inflight",
    "Number of inflight client connections.",
    {"transport", "accept_protocol", "client_name", "client_version"}};
gauge_family client_subscriptions_inflight{"centrifugo_client_subscriptions_inflight",
                                           "Number of inflight client subscriptions.",
                                           {"client_name", "channel_namespace"}};

counter_family transport_messages_sent{
    "centrifugo_transport_messages_sent",
    "Number of messages sent to client connections over specific transport.",
    {"transport", "frame_type", "channel_namespace"}};
counter_family transport_messages_sent_size{
    "centrifugo_transport_messages_sent_size",
    "Size in bytes of messages sent to client connections over specific transport "
    "(uncompressed and does not include framing overhead).",
    {"transport", "frame_type", "channel_namespace"}};
counter_family transport_messages_received{
    "centrifugo_transport_messages_received",
    "Number of messages received from client connections over specific transport.",
    {"transport", "frame_type", "channel_namespace"}};
counter_family transport_messages_received_size{
    "centrifugo_transport_messages_received_size",
    "Size in bytes of messages received from client connections over specific transport.",
    {"transport", "frame_type", "channel_namespace"}};
counter_family transport_outgoing_close{"centrifugo_transport_outgoing_close_count",
                                        "Number of close frames sent to clients, by transport "
                                        "and code.",
                                        {"transport", "code"}};

histogram_family proxy_duration{"centrifugo_proxy_duration_seconds",
                                "DEPRECATED — use centrifugo_proxy_duration_seconds_histogram. "
                                "Will be removed in Centrifugo v7. Duration of proxy call.",
                                {"protocol", "type", "name"},
                                default_buckets,
                                true,
                                "Histogram of duration of proxy call."};
counter_family proxy_errors{
    "centrifugo_proxy_errors", "Proxy call error count.", {"protocol", "type", "name"}};
gauge_family proxy_inflight{"centrifugo_proxy_inflight_requests",
                            "Number of inflight proxy requests.",
                            {"protocol", "type", "name"}};
histogram_family api_command_duration{
    "centrifugo_api_command_duration_seconds",
    "DEPRECATED — use centrifugo_api_command_duration_seconds_histogram. Will be removed in "
    "Centrifugo v7. Duration of API per command.",
    {"protocol", "method"},
    default_buckets,
    true,
    "Histogram of duration of API per command."};
counter_family api_command_errors{"centrifugo_api_command_errors_total",
                                  "Total errors in API commands.",
                                  {"protocol", "method", "error"}};
histogram_family api_rpc_duration{
    "centrifugo_api_rpc_duration_seconds",
    "DEPRECATED — use centrifugo_api_rpc_duration_seconds_histogram. Will be removed in "
    "Centrifugo v7. Duration of API per command.",
    {"protocol", "method"},
    default_buckets,
    true,
    "Histogram of duration of API per command."};
counter_family redis_pub_sub_errors{
    "centrifugo_broker_redis_pub_sub_errors",
    "Number of times there was an error in Redis PUB/SUB connection.",
    {"broker_name", "error"}};
counter_family redis_pub_sub_dropped{
    "centrifugo_broker_redis_pub_sub_dropped_messages",
    "Number of dropped messages on application level in Redis PUB/SUB.",
    {"broker_name", "channel_type"}};
counter_family http_requests{"centrifugo_node_incoming_http_requests_total",
                             "Number of incoming HTTP requests",
                             {"path", "method", "status"}};

counter_family gyre_socket_writes{"gyre_transport_socket_writes_total",
                                  "Gathered socket writes (one sendmsg each) to clients; "
                                  "messages_written / socket_writes is the coalescing ratio.",
                                  {"transport"}};
counter_family gyre_messages_written{"gyre_transport_messages_written_total",
                                     "Protocol messages carried by those socket writes.",
                                     {"transport"}};
gauge_family gyre_outbox_bytes{
    "gyre_transport_outbox_bytes", "Bytes queued for clients and not yet taken by the kernel.", {}};
counter_family gyre_frame_encodes{
    "gyre_hub_frame_encodes_total",
    "Publication frames by outcome: encoded once per wire format, or reused from that "
    "encoding for another subscriber or shard.",
    {"result"}};
counter_family gyre_order_violations{
    "gyre_hub_order_violations_total",
    "Pushes a shard's hub received after a later push of the same channel. Per-channel order "
    "is a design invariant: anything but 0 is a bug.",
    {}};
histogram_family gyre_loop_lag{"gyre_shard_loop_lag_seconds",
                               "How late each shard's 100 ms housekeeping timer fires: the "
                               "time work waits for its event loop.",
                               {"shard"},
                               loop_lag_buckets};

// ---- handles -------------------------------------------------------------------------------

std::string_view frame_name(frame f) noexcept {
    static constexpr std::array<std::string_view, frame_count> names{
        "connect",        "subscribe",        "unsubscribe",    "publish",     "presence",
        "presence_stats", "history",          "send",           "rpc",         "refresh",
        "sub_refresh",    "unknown",          "server_ping",    "client_pong", "push_connect",
        "push_subscribe", "push_publication", "push_join",      "push_leave",  "push_unsubscribe",
        "push_message",   "push_refresh",     "push_disconnect"};
    return names[static_cast<std::size_t>(f)];
}

const transport_counters& for_transport(std::string_view name) {
    static std::mutex mutex;
    static std::unordered_map<std::string, std::unique_ptr<transport_counters>> known;
    const std::lock_guard lock(mutex);
    auto& slot = known[std::string(name)];
    if (!slot) {
        slot = std::make_unique<transport_counters>();
        for (std::size_t i = 0; i < frame_count; ++i) {
            const auto f = frame_name(static_cast<frame>(i));
            slot->sent[i] = &transport_messages_sent.with({name, f, ""});
            slot->sent_size[i] = &transport_messages_sent_size.with({name, f, ""});
            slot->received[i] = &transport_messages_received.with({name, f, ""});
            slot->received_size[i] = &transport_messages_received_size.with({name, f, ""});
        }
        slot->socket_writes = &gyre_socket_writes.with({name});
        slot->messages_written = &gyre_messages_written.with({name});
        slot->ping_pong = &client_ping_pong_duration.with({name});
    }
    return *slot;
}

namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(action::count_)> action_names{
    "add_client",
    "remove_client",
    "add_subscription",
    "remove_subscription",
    "broker_subscribe",
    "broker_unsubscribe",
    "add_presence",
    "remove_presence",
    "presence",
    "presence_stats",
    "history",
    "history_recover",
    "history_stream_top",
    "history_remove",
    "survey"};

constexpr std::array<std::string_view, static_cast<std::size_t>(node_message::count_)>
    node_message_names{"publication", "join", "leave", "control"};

template <typename Names>
std::vector<counter*> resolve(counter_family& f, const Names& names) {
    std::vector<counter*> out;
    for (auto n : names) {
        out.push_back(&f.with({n, ""}));
    }
    return out;
}

const std::vector<counter*>& actions() {
    static const auto v = resolve(node_action_count, action_names);
    return v;
}

const std::vector<counter*>& node_sent() {
    static const auto v = resolve(node_messages_sent, node_message_names);
    return v;
}

const std::vector<counter*>& node_received() {
    static const auto v = resolve(node_messages_received, node_message_names);
    return v;
}

counter& frames_encoded() {
    static counter& c = gyre_frame_encodes.with({"encoded"});
    return c;
}

counter& frames_reused() {
    static counter& c = gyre_frame_encodes.with({"reused"});
    return c;
}

gauge& outbox_bytes() {
    static gauge& g = gyre_outbox_bytes.with({});
    return g;
}

} // namespace

void add_outbox_bytes(std::int64_t n) noexcept {
    outbox_bytes().add(n);
}

void count_action(action a) noexcept {
    actions()[static_cast<std::size_t>(a)]->inc();
}

void count_node_sent(node_message m) noexcept {
    node_sent()[static_cast<std::size_t>(m)]->inc();
}

void count_node_received(node_message m) noexcept {
    node_received()[static_cast<std::size_t>(m)]->inc();
}

void count_frame_encoded() noexcept {
    frames_encoded().inc();
}

void count_frame_reused() noexcept {
    frames_reused().inc();
}

void count_order_violation() noexcept {
    static counter& c = gyre_order_violations.with({});
    c.inc();
}

std::string code_label(std::uint32_t code) {
    return std::to_string(code);
}

void precreate() {
    (void)actions();
    (void)node_sent();
    (void)node_received();
    (void)frames_encoded();
    (void)frames_reused();
    gyre_order_violations.with({});
    for (std::size_t i = 0; i <= static_cast<std::size_t>(frame::unknown); ++i) {
        client_command_duration.with({frame_name(static_cast<frame>(i)), ""});
    }
    redis_pub_sub_dropped.with({"", "control"});
    redis_pub_sub_dropped.with({"", "client"});
    (void)outbox_bytes();
    node_client_connection_limit.with({});
}

} // namespace gyre::metrics
