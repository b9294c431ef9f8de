#pragma once

#include <functional>
#include <memory>

#include "brigade/server/router.hpp"

namespace brigade::handlers {

class Metrics;  // brigade/handlers/metrics.hpp

// What the endpoints need from the program that serves them. The composition root fills it in;
// the handlers never see the Server or the configuration themselves.
struct RouteContext {
  // Whether the server takes new work: /readyz answers 200 while it returns true and 503 once
  // it returns false (draining). Called on a worker thread for each probe, so it must be cheap
  // and thread-safe. Unset: always ready.
  std::function<bool()> is_ready;
  // What GET /metrics serves. Unset: no /metrics route.
  std::shared_ptr<const Metrics> metrics;
};

// Registers the endpoints on `router`:
//   GET  /          "Hello, World!" (text/plain)
//   GET  /json      {"message":"Hello, World!"}
//   POST /echo      the request body back, with the request's Content-Type
//   GET  /sleep?ms= waits ms (0..60000) on an async timer, then {"slept_ms":ms}
//   GET  /healthz   200 {"status":"ok"} while the process runs
//   GET  /readyz    200 while serving, 503 while draining
//   GET  /metrics   the Prometheus text exposition of context.metrics (when set)
// Throws std::invalid_argument if `router` already has one of these routes.
void add_routes(server::Router& router, RouteContext context);

}  // namespace brigade::handlers
