#include "session/context.hpp"

namespace gyre::session {

std::shared_ptr<const settings> settings::make(std::shared_ptr<const config::config> cfg) {
    const auto& client = cfg->client;
    auto s = std::shared_ptr<settings>(new settings{
        cfg,
        auth::token_verifier(client.token, client.insecure_skip_token_signature_verify),
        std::nullopt});
    if (client.subscription_token_enabled) {
        s->subscription_tokens.emplace(client.subscription_token,
                                       client.insecure_skip_token_signature_verify,
                                       "client.subscription_token");
    }
    return s;
}

context::context(node::node& n, std::shared_ptr<const settings> initial, std::string node_name)
    : node_(n)
    , node_name_(std::move(node_name))
    , per_shard_(n.shards().size(), initial) {}

void context::update(std::shared_ptr<const settings> next) {
    for (std::size_t i = 0; i < per_shard_.size(); ++i) {
        node_.shards().at(i).submit([this, i, next] { per_shard_[i] = next; });
    }
}

} // namespace gyre::session
