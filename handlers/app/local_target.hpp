#pragma once

#include <expected>
#include <string>

#include "brigade/config/settings.hpp"
#include "brigade/runtime/net/socket_addr.hpp"

namespace brigade::app {

// Where a client on the server's own machine (`brigade healthcheck`, `brigade console`) reaches
// it, from the server's settings: admin_listen when set (plain HTTP whatever the main port
// speaks, and outside max_connections, so an overloaded server still answers), else listen. A
// wildcard host (0.0.0.0, [::]) is replaced by loopback. The error says which setting to fix.
std::expected<runtime::net::SocketAddr, std::string> local_target(const config::Settings& settings);

}  // namespace brigade::app
