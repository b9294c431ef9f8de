// GET /fanout?n=N&ms=M: spawns N child tasks that each sleep M ms, and joins them all. The
// children sleep concurrently on the timer wheel, so the answer comes after about M ms, not
// N x M: {"tasks":N,"ms":M,"joined":N,"elapsed_ms":E}.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"
#include "query.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;
using std::chrono::milliseconds;

// Ten seconds is longer than any demonstration needs; the number of tasks is bounded by the
// max_fanout setting.
constexpr std::int64_t kMaxMs = 10'000;

runtime::Task<void> nap(milliseconds duration) { co_await runtime::sleep(duration); }

// The spawned children. Those still running when it is destroyed (the request was aborted by a
// shutdown) are aborted with it, like Tokio's JoinSet, instead of living on detached.
struct Children {
  std::vector<runtime::JoinHandle<void>> handles;

  Children() = default;
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() {
    for (const auto& handle : handles) handle.abort();
  }
};

runtime::Task<Response> fanout(Request& request, std::int64_t max_tasks) {
  const auto tasks = integer_param(request, "n", 0, max_tasks);
  if (!tasks) co_return tasks.error();
  const auto ms = integer_param(request, "ms", 0, kMaxMs);
  if (!ms) co_return ms.error();

  const auto start = std::chrono::steady_clock::now();
  Children children;
  children.handles.reserve(static_cast<std::size_t>(*tasks));
  for (std::int64_t i = 0; i < *tasks; ++i) {
    children.handles.push_back(runtime::spawn(nap(milliseconds(*ms))));
  }
  std::size_t joined = 0;
  for (auto& child : children.handles) {
    const auto outcome = co_await child;
    if (outcome) ++joined;
  }
  const auto elapsed =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  co_return Response::json(200, R"({"tasks":)" + std::to_string(*tasks) + R"(,"ms":)" +
                                    std::to_string(*ms) + R"(,"joined":)" + std::to_string(joined) +
                                    R"(,"elapsed_ms":)" + std::to_string(elapsed.count()) + "}");
}

}  // namespace

void add_fanout_routes(server::Router& router, std::size_t max_tasks) {
  // Not a coroutine lambda: it only hands the bound to the coroutine by value.
  router.add("GET", "/fanout",
             [max_tasks = static_cast<std::int64_t>(max_tasks)](Request& request) {
               return fanout(request, max_tasks);
             });
}

}  // namespace brigade::handlers::detail
