#pragma once

#include <span>
#include <string_view>

namespace brigade::app {

// `brigade healthcheck [--listen HOST:PORT] [other settings...]`, for a container HEALTHCHECK:
// sends GET /healthz over plain HTTP to the server's port and exits 0 on a 200 answer, 1 on any
// other answer or failure (with a line on stderr). The port comes from the same sources as the
// server's (flags, BRIGADE_LISTEN, --config), so the probe follows the server's configuration;
// a wildcard host (0.0.0.0, [::]) is probed on loopback. `args` follow "healthcheck".
int healthcheck(std::span<const std::string_view> args);

}  // namespace brigade::app
