// GET /block?ms=N: the anti-pattern this server exists to avoid. It sleeps synchronously on the
// worker thread, so every task queued on that worker waits too; the dashboard shows the queue
// depths and latencies it causes. Registered only when enable_block_endpoint is set.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "brigade/server/http.hpp"
#include "endpoints.hpp"
#include "query.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

constexpr std::int64_t kMaxMs = 10'000;

runtime::Task<Response> block(Request& request) {
  const auto ms = integer_param(request, "ms", 0, kMaxMs);
  if (!ms) co_return ms.error();
  std::this_thread::sleep_for(std::chrono::milliseconds(*ms));  // on purpose: see above
  co_return Response::json(200, R"({"blocked_ms":)" + std::to_string(*ms) + "}");
}

}  // namespace

void add_block_routes(server::Router& router) { router.add("GET", "/block", block); }

}  // namespace brigade::handlers::detail
