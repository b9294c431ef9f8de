// GET /metrics: the Prometheus text exposition, served by the server itself (no second HTTP
// server for the scrape, so it goes through the same limits, timeouts and metrics as any route).
#include <memory>
#include <string>
#include <utility>

#include "brigade/handlers/metrics.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

// Takes the scrape by value: the coroutine keeps no reference to the caller's lambda.
runtime::Task<Response> exposition(std::string text) {
  Response response = Response::text(200, std::move(text));
  response.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  co_return response;
}

}  // namespace

void add_metrics_routes(server::Router& router, std::shared_ptr<const Metrics> metrics) {
  // Not a coroutine lambda: it scrapes now and hands the text to the coroutine.
  router.add("GET", "/metrics",
             [metrics = std::move(metrics)](Request&) { return exposition(metrics->scrape()); });
}

}  // namespace brigade::handlers::detail
