// File: config/config.hpp
// The typed configuration every layer reads. Built by config::load() from defaults, the file
// (JSON/YAML/TOML, v6 nested keys or legacy flat keys), environment variables and flags, then
// validated. Immutable once built; shards share it as std::shared_ptr<const config>.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gyre::config {

using duration = std::chrono::nanoseconds;

struct token_options {
    std::string hmac_secret_key;
    std::string hmac_previous_secret_key;
    std::int64_t hmac_previous_secret_key_valid_until = 0;
    std::string rsa_public_key;
    std::string ecdsa_public_key;
    std::string jwks_public_endpoint;
    std::string audience;
    std::string audience_regex;
    std::string issuer;
    std::string issuer_regex;
    std::string user_id_claim;
    bool insecure_skip_jwks_endpoint_safety_check = false;
};

struct channel_options {
    bool presence = false;
    bool join_leave = false;
    bool force_push_join_leave = false;
    std::int64_t history_size = 0;
    duration history_ttl{};
    duration history_meta_ttl{};
    bool force_positioning = false;
    bool allow_positioning = false;
    bool force_recovery = false;
    bool allow_recovery = false;
    std::string force_recovery_mode;
    bool auto_cache_recover = false;
    std::vector<std::string> allowed_delta_types;
    bool delta_publish = false;
    bool allow_tags_filter = false;
    std::string publication_data_format;
    bool allow_subscribe_for_client = false;
    bool allow_subscribe_for_anonymous = false;
    bool allow_publish_for_client = false;
    bool allow_publish_for_subscriber = false;
    bool allow_publish_for_anonymous = false;
    bool allow_presence_for_client = false;
    bool allow_presence_for_subscriber = false;
    bool allow_presence_for_anonymous = false;
    bool allow_history_for_client = false;
    bool allow_history_for_subscriber = false;
    bool allow_history_for_anonymous = false;
    bool allow_user_limited_channels = false;
    std::string channel_regex;
    bool subscribe_proxy_enabled = false;
    std::string subscribe_proxy_name = "default";
    bool publish_proxy_enabled = false;
    std::string publish_proxy_name = "default";
    bool sub_refresh_proxy_enabled = false;
    std::string sub_refresh_proxy_name = "default";

    bool history_enabled() const noexcept { return history_size > 0 && history_ttl.count() > 0; }
};

struct namespace_options {
    std::string name;
    channel_options options;
};

struct endpoint_options {
    bool enabled = false;
    std::string handler_prefix;
};

/// An HTTP-based transport endpoint with a request body cap (sse, http_stream, emulation,
/// uni_sse, uni_http_stream).
struct http_transport_options {
    bool enabled = false;
    std::string handler_prefix;
    std::size_t max_request_body_size = 65536;
};

/// One `connect_code_to_unidirectional_disconnect` / `connect_code_to_http_response` rule:
/// an error code from connecting and what it becomes instead.
struct code_transform {
    std::uint32_t code = 0;
    std::uint32_t to_code = 0; ///< disconnect code, or HTTP status
    std::string to_reason;     ///< disconnect reason, or HTTP body
};

struct config {
    struct {
        std::string address;
        std::uint16_t port = 8000;
        std::string internal_address;
        std::string internal_port;
        std::size_t max_request_header_size = 16384;
        std::size_t max_request_body_size = 10485760;
    } http_server;

    struct {
        std::string level = "info";
        std::string file;
    } log;

    struct {
        std::vector<std::string> allowed_origins;
        token_options token;
        bool subscription_token_enabled = false;
        token_options subscription_token;
        bool allow_anonymous_connect_without_token = false;
        bool disallow_anonymous_connection_tokens = false;
        duration ping_interval = std::chrono::seconds(25);
        duration pong_timeout = std::chrono::seconds(8);
        duration expired_close_delay = std::chrono::seconds(25);
        duration expired_sub_close_delay = std::chrono::seconds(25);
        duration channel_position_check_delay = std::chrono::seconds(40);
        duration channel_position_max_time_lag{}; ///< 0 = no lag check
        duration stale_close_delay = std::chrono::seconds(10);
        std::int64_t channel_limit = 128;
        std::int64_t queue_max_size = 1048576;
        std::int64_t max_messages_in_frame = 0;                       ///< 0 = no limit
        duration presence_update_interval = std::chrono::seconds(27); ///< 0 = 25 s
        std::int64_t connection_limit = 0;
        std::int64_t user_connection_limit = 0;
        bool connect_include_server_time = false;
        std::int64_t history_max_publication_limit = 300;
        std::int64_t recovery_max_publication_limit = 300;
        bool insecure_skip_token_signature_verify = false;
        /// The connection request header that names the user a gateway authenticated (no
        /// token, no connect proxy, no anonymous access); "" = off.
        std::string user_id_http_header;
        bool insecure = false;

        struct {
            bool enabled = false;
            std::string personal_channel_namespace;
            bool single_connection = false;
        } personal_channel;

        /// Unidirectional transports: connect error code -> disconnect (replacing the default
        /// mapping when enabled and a rule matches).
        bool connect_code_to_unidirectional_disconnect = false;
        std::vector<code_transform> unidirectional_code_transforms;
    } client;

    struct {
        channel_options without_namespace;
        std::vector<namespace_options> namespaces;
        /// `channels` (Gyre extension): options of exactly named channels, each already laid
        /// over its namespace's options.
        std::map<std::string, channel_options, std::less<>> exact;
        duration history_meta_ttl = std::chrono::hours(720);
        /// The default of namespaces whose own publication_data_format is "".
        std::string publication_data_format;
        std::int64_t max_length = 255;
        std::string private_prefix = "$";
        std::string namespace_boundary = ":";
        std::string user_boundary = "#";
        std::string user_separator = ",";
    } channel;

    struct {
        bool disabled = false;
        std::string handler_prefix = "/api";
        std::string key;
        std::string error_mode;
        bool external = false;
        bool insecure = false;
    } http_api;

    struct {
        std::string type = "memory";
        std::vector<std::string> redis_address;
        std::string redis_prefix = "centrifugo";
        duration redis_presence_ttl = std::chrono::seconds(60);
    } engine;

    /// `broker.*`: a broker that replaces the engine's PUB/SUB part (NATS).
    struct {
        bool enabled = false;
        std::string type = "memory";
        std::string nats_url = "nats://localhost:4222";
        std::string nats_prefix = "centrifugo";
        duration nats_dial_timeout = std::chrono::seconds(1);
        duration nats_write_timeout = std::chrono::seconds(1);
    } broker;

    struct {
        bool enabled = false;
        std::string handler_prefix;
        std::string password;
        std::string secret;
        bool insecure = false;
        bool external = false;
        std::string web_path; ///< serve the UI from this directory instead of the embedded one
    } admin;

    struct {
        bool disabled = false;
        std::string handler_prefix = "/connection/websocket";
        std::int64_t message_size_limit = 65536;
        std::int64_t read_buffer_size = 0;  ///< 0 = system default
        std::int64_t write_buffer_size = 0; ///< 0 = system default
        duration write_timeout = std::chrono::milliseconds(1000);
    } websocket;

    http_transport_options sse{false, "/connection/sse"};
    http_transport_options http_stream{false, "/connection/http_stream"};
    http_transport_options emulation{false, "/emulation"}; ///< on when sse or http_stream is
    http_transport_options uni_sse{false, "/connection/uni_sse"};
    http_transport_options uni_http_stream{false, "/connection/uni_http_stream"};
    /// `<uni_sse|uni_http_stream>.connect_code_to_http_response` (enabled and its rules).
    bool uni_sse_code_to_http = false;
    std::vector<code_transform> uni_sse_code_transforms;
    bool uni_http_stream_code_to_http = false;
    std::vector<code_transform> uni_http_stream_code_transforms;

    struct {
        bool enabled = false;
        std::string handler_prefix = "/connection/uni_websocket";
        std::int64_t message_size_limit = 65536;
        bool join_push_messages = false;
        bool disable_closing_handshake = false;
        bool disable_disconnect_push = false;
        duration write_timeout = std::chrono::milliseconds(1000);
    } uni_websocket;

    endpoint_options health{false, "/health"};
    endpoint_options prometheus{false, "/metrics"};
    endpoint_options debug{false, "/debug/pprof"};
    /// `gyre.access_log`: one structured (JSON) log line per HTTP request, at info level.
    bool access_log = false;
    endpoint_options init{false, "/connection/init"};

    std::string node_name;
    std::string pid_file;
    duration shutdown_timeout = std::chrono::seconds(30);
    std::int64_t shards = 0; ///< 0 = one per CPU core

    /// The complete merged tree, for sections not yet typed above.
    boost::json::object tree;

    /// Namespace options for `name`, or nullptr when no such namespace exists.
    const channel_options* find_namespace(std::string_view name) const noexcept;

    /// Options of an exactly named channel (`channels`), or nullptr.
    const channel_options* find_exact_channel(std::string_view channel) const noexcept;
};

} // namespace gyre::config
