// File: metrics/catalog.hpp
// Every metric Gyre exports: Centrifugo's names, types, labels and help texts (so its Grafana
// dashboard works unchanged; `channel_namespace` is always "" as in Centrifugo OSS), and
// Gyre's own under `gyre_`. Hot paths use the pre-resolved handles below; rare events look
// children up by label values.
#pragma once

#include "metrics/registry.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace gyre::metrics {

// ---- Centrifugo's node metrics -------------------------------------------------------------
extern counter_family node_messages_sent;     ///< {type, channel_namespace}
extern counter_family node_messages_received; ///< {type, channel_namespace}
extern counter_family node_action_count;      ///< {action, channel_namespace}
extern histogram_family node_broadcast_duration;
extern histogram_family node_pub_sub_lag;
extern histogram_family node_survey_duration; ///< {op}
extern counter_family node_client_connection_limit;

// ---- client -----------------------------------------------------------------------------------
extern histogram_family client_command_duration;  ///< {method, channel_namespace}
extern counter_family client_reply_errors;        ///< {method, code, channel_namespace}
extern counter_family client_server_unsubscribes; ///< {code, channel_namespace}
extern counter_family client_server_disconnects;  ///< {code}
extern counter_family
    client_recover; ///< {recovered, channel_namespace, has_recovered_publications}
extern histogram_family client_ping_pong_duration; ///< {transport}
extern counter_family client_connections_accepted; ///< {transport, accept_protocol, name, version}
extern gauge_family client_connections_inflight;   ///< same labels
extern gauge_family client_subscriptions_inflight; ///< {client_name, channel_namespace}

// ---- transport ------------------------------------------------------------------------------
extern counter_family transport_outgoing_close; ///< {transport, code}

// ---- proxy, server API, brokers -----------------------------------------------------------
extern histogram_family proxy_duration; ///< {protocol, type, name}
extern counter_family proxy_errors;
extern gauge_family proxy_inflight;
extern histogram_family api_command_duration; ///< {protocol, method}
extern counter_family api_command_errors;     ///< {protocol, method, error}
extern histogram_family api_rpc_duration;     ///< {protocol, method}
extern counter_family redis_pub_sub_errors;   ///< {broker_name, error}
extern counter_family redis_pub_sub_dropped;  ///< {broker_name, channel_type}
extern counter_family http_requests;          ///< {path, method, status}

// ---- Gyre's own -----------------------------------------------------------------------------
extern counter_family gyre_socket_writes;    ///< {transport}: gathered writes (sendmsg calls)
extern counter_family gyre_messages_written; ///< {transport}: protocol messages in them
extern gauge_family gyre_outbox_bytes;    ///< bytes queued for clients, not yet taken by the kernel
extern counter_family gyre_frame_encodes; ///< {result="encoded"|"reused"}
extern histogram_family gyre_loop_lag;    ///< {shard}: loop lag (timer delay)
extern counter_family gyre_order_violations; ///< pushes a hub saw behind a later one

/// Client protocol frame types, as Centrifugo labels them.
enum class frame : std::uint8_t {
    connect,
    subscribe,
    unsubscribe,
    publish,
    presence,
    presence_stats,
    history,
    send,
    rpc,
    refresh,
    sub_refresh,
    unknown,
    server_ping,
    client_pong,
    push_connect,
    push_subscribe,
    push_publication,
    push_join,
    push_leave,
    push_unsubscribe,
    push_message,
    push_refresh,
    push_disconnect,
    count_
};
inline constexpr std::size_t frame_count = static_cast<std::size_t>(frame::count_);
std::string_view frame_name(frame f) noexcept;

/// Per transport: the counters a session touches for every message (resolved once).
struct transport_counters {
    std::array<counter*, frame_count> sent{};
    std::array<counter*, frame_count> sent_size{};
    std::array<counter*, frame_count> received{};
    std::array<counter*, frame_count> received_size{};
    counter* socket_writes = nullptr;
    counter* messages_written = nullptr;
    histogram* ping_pong = nullptr;

    void count_sent(frame f, std::size_t bytes, std::uint64_t n = 1) const noexcept {
        const auto i = static_cast<std::size_t>(f);
        sent[i]->inc(n);
        sent_size[i]->inc(bytes);
    }

    void count_received(frame f, std::size_t bytes) const noexcept {
        const auto i = static_cast<std::size_t>(f);
        received[i]->inc();
        received_size[i]->inc(bytes);
    }
};

/// The counters for transport `name` ("websocket", "sse", ...); stable for the process.
const transport_counters& for_transport(std::string_view name);

/// Centrifugo's node actions Gyre performs.
enum class action : std::uint8_t {
    add_client,
    remove_client,
    add_subscription,
    remove_subscription,
    broker_subscribe,
    broker_unsubscribe,
    add_presence,
    remove_presence,
    presence,
    presence_stats,
    history,
    history_recover,
    history_stream_top,
    history_remove,
    survey,
    count_
};
void count_action(action a) noexcept;

/// Node messages by type ("publication", "join", "leave", "control").
enum class node_message : std::uint8_t { publication, join, leave, control, count_ };
void count_node_sent(node_message m) noexcept;
void count_node_received(node_message m) noexcept;

/// gyre_transport_outbox_bytes: sessions add what they queue and hand over, transports what
/// they write and what the kernel takes.
void add_outbox_bytes(std::int64_t n) noexcept;

/// Frame-cache outcomes of a prepared push.
void count_frame_encoded() noexcept;
void count_frame_reused() noexcept;

/// A hub received a channel's push after a later one (never expected: per-channel order).
void count_order_violation() noexcept;

/// Decimal code label.
std::string code_label(std::uint32_t code);

/// Creates the children Centrifugo exports at zero before any event (so dashboards show 0
/// rather than nothing). Idempotent.
void precreate();

} // namespace gyre::metrics
