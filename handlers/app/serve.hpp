#pragma once

#include "brigade/config/load.hpp"

namespace brigade::app {

// Runs the server with `settings` until it has shut down; returns the process's exit status.
//
// Builds the runtime, binds `listen`, registers the routes, starts the Server and logs one
// start-up line with the bound address and the effective settings. SIGTERM or SIGINT starts a
// graceful shutdown (Server::shutdown: readiness turns 503, drain_delay, in-flight requests
// finish, the rest is aborted at grace_period); a second one exits at once with 128 + signal.
// Once the server has stopped, the blocking pool gets what remains of grace_period.
// With tls_cert and tls_key, every connection speaks TLS.
// The exit status (exit_status.hpp): ok after a graceful shutdown; bad_setting if the
// certificate or key cannot be used (a `config error:` line on stderr names tls_cert or tls_key
// and where it was set, as load() does for every other setting); failure if the address cannot
// be bound or the server fails.
int serve(const config::Loaded& loaded);

}  // namespace brigade::app
