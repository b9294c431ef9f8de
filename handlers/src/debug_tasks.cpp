// GET /debug/tasks: every live task of the runtime, as a goroutine-style text dump grouped by
// spawn site (the default) or, with ?format=json, every task as JSON. The runtime copies plain
// data out of its task list one shard at a time; formatting happens here, outside any lock, and
// both run on the blocking pool.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/task_dump.hpp"
#include "brigade/runtime/wait_reason.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"
#include "offload.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

// The text dump lists this many tasks of each spawn site after its counts: enough to see the
// routes being served, without a page of 100,000 lines. The JSON dump has them all.
constexpr std::size_t kTasksPerSite = 20;

// "wait":{"reason":"read","fd":7}, with the one detail its reason has, if any.
void wait_json(std::string& out, const runtime::TaskInfo& task) {
  using runtime::WaitReason;
  out += R"(,"wait":{"reason":")";
  out += runtime::to_string(task.wait);
  out += '"';
  switch (task.wait) {
    case WaitReason::read:
    case WaitReason::write:
      out += R"(,"fd":)";
      out += std::to_string(task.fd);
      break;
    case WaitReason::timer:
      out += R"(,"due_in_ms":)";
      out += std::to_string(task.due_in.count());
      break;
    case WaitReason::join:
    case WaitReason::blocking:
      out += R"(,"task":)";
      out += std::to_string(task.joined_task);
      break;
    case WaitReason::select:
    case WaitReason::join_all:
      out += R"(,"branches":)";
      out += std::to_string(task.branches);
      break;
    default:
      break;
  }
  out += '}';
}

void task_json(std::string& out, const runtime::TaskInfo& task) {
  out += R"({"id":)";
  out += std::to_string(task.id);
  out += R"(,"file":")";
  out += server::json_escape(task.spawned_at.file_name());
  out += R"(","line":)";
  out += std::to_string(task.spawned_at.line());
  out += R"(,"function":")";
  out += server::json_escape(task.spawned_at.function_name());
  out += R"(","state":")";
  out += runtime::to_string(task.state);
  out += '"';
  if (task.worker >= 0) {
    out += R"(,"worker":)";
    out += std::to_string(task.worker);
  }
  out += R"(,"age_ms":)";
  out += std::to_string(task.age.count());
  out += R"(,"polls":)";
  out += std::to_string(task.polls);
  if (task.wait != runtime::WaitReason::none) wait_json(out, task);
  if (!task.annotation.empty()) {
    out += R"(,"annotation":")";
    out += server::json_escape(task.annotation);
    out += '"';
  }
  out += '}';
}

std::string to_json(const std::vector<runtime::TaskInfo>& tasks) {
  std::string out = R"({"count":)";
  out += std::to_string(tasks.size());
  out += R"(,"tasks":[)";
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (i > 0) out += ',';
    task_json(out, tasks[i]);
  }
  out += "]}";
  return out;
}

runtime::Task<Response> debug_tasks(Request& request) {
  const std::optional<std::string> format = request.query_param("format");
  const bool json = format && *format == "json";
  if (format && !json && *format != "text") {
    co_return Response::error(400, "format must be text or json");
  }
  // Copying 100,000 tasks and formatting them takes milliseconds (the JSON, hundreds): on the
  // blocking pool, so that no worker, and no request queued behind it, waits for the dump.
  auto job = runtime::spawn_blocking([handle = runtime::Handle::current(), json] {
    const std::vector<runtime::TaskInfo> tasks = handle.dump_tasks();
    return json ? to_json(tasks) : runtime::describe(tasks, kTasksPerSite);
  });
  auto body = co_await job;
  if (!body) co_return offload_failed(body.error());
  co_return json ? Response::json(200, std::move(*body)) : Response::text(200, std::move(*body));
}

}  // namespace

void add_task_dump_routes(server::Router& router) {
  router.add("GET", "/debug/tasks", debug_tasks);
}

}  // namespace brigade::handlers::detail
