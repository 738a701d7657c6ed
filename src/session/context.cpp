#include "session/context.hpp"

#include "session/session.hpp"

namespace gyre::session {

std::shared_ptr<const settings> settings::make(std::shared_ptr<const config::config> cfg,
                                               std::shared_ptr<auth::jwks_cache> keys) {
    const auto& client = cfg->client;
    if (!keys) {
        keys = std::make_shared<auth::jwks_cache>();
    }
    auto s = std::shared_ptr<settings>(new settings{
        cfg,
        auth::token_verifier(client.token,
                             client.insecure_skip_token_signature_verify,
                             "client.token",
                             {keys, client.token.insecure_skip_jwks_endpoint_safety_check}),
        std::nullopt});
    if (client.subscription_token_enabled) {
        s->subscription_tokens.emplace(
            client.subscription_token,
            client.insecure_skip_token_signature_verify,
            "client.subscription_token",
            auth::jwks_settings{
                keys, client.subscription_token.insecure_skip_jwks_endpoint_safety_check});
    }
    return s;
}

context::context(node::node& n,
                 std::shared_ptr<const settings> initial,
                 std::string node_name,
                 fetch_fn fetch)
    : node_(n)
    , node_name_(std::move(node_name))
    , fetch_(std::move(fetch))
    , per_shard_(n.shards().size(), initial)
    , flush_queues_(n.shards().size()) {}

bool context::queue_flush(std::size_t shard, std::shared_ptr<session> s) {
    auto& q = flush_queues_[shard];
    q.push_back(std::move(s));
    return q.size() == 1;
}

void context::flush_queued(std::size_t shard) {
    auto queued = std::move(flush_queues_[shard]);
    flush_queues_[shard].clear();
    for (auto& s : queued) {
        s->flush_queued();
    }
}

void context::update(std::shared_ptr<const settings> next) {
    for (std::size_t i = 0; i < per_shard_.size(); ++i) {
        node_.shards().at(i).submit([this, i, next] { per_shard_[i] = next; });
    }
}

} // namespace gyre::session
