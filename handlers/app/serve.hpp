#pragma once

#include "brigade/config/settings.hpp"

namespace brigade::app {

// Runs the server with `settings` until it has shut down; returns the process's exit status.
//
// Builds the runtime, binds `listen`, registers the routes, starts the Server and logs one
// start-up line with the bound address and the effective settings. SIGTERM or SIGINT starts a
// graceful shutdown (Server::shutdown: readiness turns 503, drain_delay, in-flight requests
// finish, the rest is aborted at grace_period); a second one exits at once with 128 + signal.
// Once the server has stopped, the blocking pool gets what remains of grace_period.
// 0 after a graceful shutdown; 1 if the address cannot be bound or the server fails.
int serve(const config::Settings& settings);

}  // namespace brigade::app
