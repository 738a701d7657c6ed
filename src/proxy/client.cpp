#include "metrics/catalog.hpp"
#include "proxy/proxy.hpp"

#include <array>
#include <chrono>

namespace gyre::proxy {

namespace {

/// Centrifugo's `type` label, in the order of the request variant.
constexpr std::array<std::string_view, std::variant_size_v<request>> type_names{
    "connect", "refresh", "subscribe", "publish", "sub_refresh", "rpc"};

} // namespace

struct client::call_metrics {
    static constexpr std::size_t types = std::variant_size_v<request>;
    metrics::child_cache<metrics::gauge, types> inflight;
    metrics::child_cache<metrics::histogram, types> duration;
    metrics::child_cache<metrics::counter, types> errors;
};

client::client(options o)
    : options_(std::move(o))
    , metrics_(std::make_shared<call_metrics>()) {}

void client::call(std::size_t shard,
                  const client_context& ctx,
                  request req,
                  unique_function<void(response)> done) {
    const auto index = req.index();
    const auto type = type_names[index];
    const std::string_view protocol = options_.is_grpc() ? "grpc" : "http";
    auto& inflight =
        metrics_->inflight.get(metrics::proxy_inflight, index, {protocol, type, options_.name});
    auto& duration =
        metrics_->duration.get(metrics::proxy_duration, index, {protocol, type, options_.name});
    auto& errors =
        metrics_->errors.get(metrics::proxy_errors, index, {protocol, type, options_.name});
    inflight.inc();
    send(shard,
         ctx,
         std::move(req),
         [&inflight,
          &duration,
          &errors,
          started = std::chrono::steady_clock::now(),
          done = std::move(done)](response r) mutable {
             inflight.dec();
             duration.observe(
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
             if (std::holds_alternative<failure>(r)) {
                 errors.inc();
             }
             done(std::move(r));
         });
}

} // namespace gyre::proxy
