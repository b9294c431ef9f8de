#pragma once

#include "brigade/runtime/join_error.hpp"
#include "brigade/server/http.hpp"

namespace brigade::handlers::detail {

// Seconds a client is asked to wait (Retry-After) when the blocking pool turns work away.
inline constexpr int kRetryAfterSeconds = 1;

// The answer of an endpoint whose spawn_blocking job gave `error` instead of a value:
// - rejected (the blocking queue is at blocking_queue_limit): 503 with Retry-After, so that a
//   burst of offloaded work is pushed back to the clients instead of queueing without bound;
// - cancelled (the runtime is shutting down): 503;
// - panicked: rethrows the job's exception, which the server answers with 500.
server::Response offload_failed(const runtime::JoinError& error);

}  // namespace brigade::handlers::detail
