#include "offload.hpp"

#include <string>

namespace brigade::handlers::detail {

server::Response offload_failed(const runtime::JoinError& error) {
  if (error.is_panic()) error.resume_panic();
  if (error.is_rejected()) {
    server::Response busy = server::Response::error(503, "the blocking pool is busy, retry later");
    busy.headers.add("Retry-After", std::to_string(kRetryAfterSeconds));
    return busy;
  }
  return server::Response::error(503, "the server is shutting down");
}

}  // namespace brigade::handlers::detail
