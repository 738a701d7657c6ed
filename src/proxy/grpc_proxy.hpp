// File: proxy/grpc_proxy.hpp
// The gRPC flavour of proxy::client: calls the backend's CentrifugoProxy service (proxy.proto,
// Centrifugo's wire format) over one grpc::Channel per configured proxy with grpc++'s
// asynchronous API, so no shard waits: the client's own completion-queue thread converts each
// reply and submits `done` to the shard that asked. The grpc/protobuf headers stay inside
// grpc_proxy.cpp.
// Usage: auto c = proxy::make_grpc_client(shards, opts); c->call(shard, ctx, req, done);
#pragma once

#include "proxy/proxy.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace gyre::runtime {
class shard_set;
} // namespace gyre::runtime

namespace gyre::proxy {

/// A client for `o.endpoint` ("grpc://host:port"; "host:port" is accepted too). Plaintext
/// (insecure channel credentials): TLS to the backend is not implemented yet. `shards` must
/// outlive the client; destroying the client cancels the calls in flight (their `done` still
/// runs, with a failure) and joins its thread.
std::unique_ptr<client> make_grpc_client(runtime::shard_set& shards, const options& o);

/// The gRPC target of an endpoint: "grpc://host:port/anything" -> "host:port".
std::string grpc_target(std::string_view endpoint);

} // namespace gyre::proxy
