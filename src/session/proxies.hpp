// File: session/proxies.hpp
// The proxies a node asks (built at start-up by app/proxy_setup.cpp): connect and refresh, and
// per event the named proxies namespaces refer to ("default" is the event's own object).
#pragma once

#include "proxy/proxy.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gyre::session {

struct proxies {
    using by_name = std::map<std::string, std::unique_ptr<proxy::client>, std::less<>>;

    std::unique_ptr<proxy::client> connect;
    std::unique_ptr<proxy::client> refresh;
    by_name subscribe;
    by_name publish;
    by_name sub_refresh;
    by_name rpc;
    /// Every proxy's http_headers together (lower-case): what a transport keeps of the
    /// client's connection request for later proxy calls.
    std::vector<std::string> header_names;

    static proxy::client* find(const by_name& m, std::string_view name) {
        const auto it = m.find(name);
        return it == m.end() ? nullptr : it->second.get();
    }
};

} // namespace gyre::session
