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

void client::call(std::size_t shard,
                  const client_context& ctx,
                  request req,
                  unique_function<void(response)> done) {
    const auto type = type_names[req.index()];
    const std::string_view protocol = options_.is_grpc() ? "grpc" : "http";
    auto& inflight = metrics::proxy_inflight.with({protocol, type, options_.name});
    inflight.inc();
    send(shard,
         ctx,
         std::move(req),
         [this,
          protocol,
          type,
          &inflight,
          started = std::chrono::steady_clock::now(),
          done = std::move(done)](response r) mutable {
             inflight.dec();
             metrics::proxy_duration.with({protocol, type, options_.name})
                 .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                              .count());
             if (std::holds_alternative<failure>(r)) {
                 metrics::proxy_errors.with({protocol, type, options_.name}).inc();
             }
             done(std::move(r));
         });
}

} // namespace gyre::proxy
