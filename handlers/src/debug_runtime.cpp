// GET /debug/runtime: the runtime's metrics snapshot as JSON, for a human or a script to read
// without a Prometheus server. Taking the snapshot never stops the workers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "brigade/runtime/metrics.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

// Appends "name":value (with a comma before it unless it opens an object).
void field(std::string& out, std::string_view name, std::uint64_t value) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(value);
}

void worker_json(std::string& out, std::size_t index, const runtime::WorkerMetrics& worker) {
  out += '{';
  field(out, "index", index);
  field(out, "local_queue_depth", worker.local_queue_depth);
  field(out, "polls", worker.polls);
  field(out, "steals", worker.steals);
  field(out, "steal_operations", worker.steal_operations);
  field(out, "overflows", worker.overflows);
  field(out, "parks", worker.parks);
  field(out, "busy_ns", static_cast<std::uint64_t>(worker.busy.count()));
  field(out, "stalls", worker.stalls);
  out += '}';
}

std::string to_json(const runtime::RuntimeMetrics& metrics) {
  std::string out = "{";
  field(out, "worker_count", metrics.workers);
  field(out, "injection_queue_depth", metrics.injection_queue_depth);
  out += R"(,"workers":[)";
  for (std::size_t i = 0; i < metrics.worker.size(); ++i) {
    if (i > 0) out += ',';
    worker_json(out, i, metrics.worker[i]);
  }
  out += R"(],"tasks":{)";
  field(out, "spawned", metrics.tasks_spawned);
  field(out, "alive", metrics.tasks_alive);
  field(out, "budget_forced_yields", metrics.budget_forced_yields);
  out += R"(},"blocking":{)";
  field(out, "threads", metrics.blocking_threads);
  field(out, "idle_threads", metrics.blocking_idle_threads);
  field(out, "queue_depth", metrics.blocking_queue_depth);
  field(out, "spawned", metrics.blocking_tasks_spawned);
  field(out, "rejected", metrics.blocking_tasks_rejected);
  out += R"(},"io":{)";
  field(out, "registered", metrics.io_registered);
  field(out, "events", metrics.io_events);
  out += "}}";
  return out;
}

runtime::Task<Response> debug_runtime(Request&) {
  co_return Response::json(200, to_json(runtime::Handle::current().metrics()));
}

}  // namespace

void add_debug_routes(server::Router& router) {
  router.add("GET", "/debug/runtime", debug_runtime);
}

}  // namespace brigade::handlers::detail
