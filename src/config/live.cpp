#include "config/live.hpp"

namespace gyre::config {

config reloaded(const config& running, const config& fresh) {
    config next = running;
    next.client.token = fresh.client.token;
    next.client.subscription_token_enabled = fresh.client.subscription_token_enabled;
    next.client.subscription_token = fresh.client.subscription_token;
    next.client.insecure_skip_token_signature_verify =
        fresh.client.insecure_skip_token_signature_verify;
    next.channel = fresh.channel;
    // Keep the generic tree consistent with the typed fields for the reloaded sections.
    for (const char* section : {"channel", "channels", "rpc"}) {
        next.tree[section] = fresh.tree.at(section);
    }
    next.tree["client"].as_object()["token"] = fresh.tree.at("client").as_object().at("token");
    next.tree["client"].as_object()["subscription_token"] =
        fresh.tree.at("client").as_object().at("subscription_token");
    return next;
}

} // namespace gyre::config
