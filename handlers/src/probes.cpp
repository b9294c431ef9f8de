// GET /healthz and GET /readyz: liveness (the process answers) and readiness (it wants traffic).
// A load balancer stops sending new requests once /readyz turns 503 during a graceful shutdown,
// while /healthz stays 200 so the orchestrator does not kill a process that is only draining.
#include <functional>
#include <utility>

#include "brigade/server/http.hpp"
#include "endpoints.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

runtime::Task<Response> healthz(Request&) { co_return Response::json(200, R"({"status":"ok"})"); }

// Takes the probe's answer by value: the coroutine keeps no reference to the caller's lambda.
runtime::Task<Response> readyz(bool ready) {
  if (ready) co_return Response::json(200, R"({"status":"ready"})");
  co_return Response::json(503, R"({"status":"draining"})");
}

}  // namespace

void add_probe_routes(server::Router& router, std::function<bool()> is_ready) {
  router.add("GET", "/healthz", healthz);
  // Not a coroutine lambda: it asks the probe now and hands the answer to the coroutine.
  router.add("GET", "/readyz", [is_ready = std::move(is_ready)](Request&) {
    return readyz(!is_ready || is_ready());
  });
}

}  // namespace brigade::handlers::detail
