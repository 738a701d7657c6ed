// File: proxy/options.hpp
// Reading one proxy object of the merged configuration tree into proxy::options, with errors
// that name the key.
#pragma once

#include "proxy/proxy.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace gyre::proxy {

/// `o` is a proxy object (client.proxy.connect, channel.proxy.publish, rpc.proxy, proxies[i]);
/// `path` names it in errors. Throws config::config_error for an empty endpoint, a bad timeout
/// or a malformed status transform.
options parse_options(const boost::json::object& o, const std::string& path, std::string name);

} // namespace gyre::proxy
