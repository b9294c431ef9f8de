// Basic spawn and basic spawn_blocking, and the two pools behind them: a fixed set of async
// workers (one per core unless configured), and a blocking pool that starts threads on demand
// and lets them go after an idle keep-alive.
#include <cstdio>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

rt::Task<std::string> async_job() {
  spin_for(1ms);  // a little work, so the idle worker steals some
  co_return thread_name();
}

void print_pools(const char* when) {
  const auto metrics = rt::Handle::current().metrics();
  std::printf("  %-34s workers %zu, blocking threads %zu (%zu idle)\n", when, metrics.workers,
              metrics.blocking_threads, metrics.blocking_idle_threads);
}

void print_threads(const char* what, const std::set<std::string>& names, std::size_t jobs) {
  std::printf("  %zu %s ran on %zu thread(s):", jobs, what, names.size());
  for (const auto& name : names) std::printf(" %s", name.c_str());
  std::printf("\n");
}

rt::Task<void> run() {
  print_pools("at start:");

  std::vector<rt::JoinHandle<std::string>> async_jobs;
  for (int i = 0; i < 100; ++i) async_jobs.push_back(rt::spawn(async_job()));
  std::set<std::string> async_threads;
  for (auto& job : async_jobs) async_threads.insert(*co_await job);
  print_threads("spawned tasks", async_threads, async_jobs.size());
  print_pools("after 100 spawns:");

  std::promise<void> open_gate;
  const std::shared_future<void> gate = open_gate.get_future().share();
  std::vector<rt::JoinHandle<std::string>> blocking_jobs;
  for (int i = 0; i < 8; ++i) {
    blocking_jobs.push_back(rt::spawn_blocking([gate] {
      gate.wait();  // a blocking wait: each job holds its thread until the gate opens
      return thread_name();
    }));
  }
  print_pools("while 8 blocking jobs run:");
  open_gate.set_value();
  std::set<std::string> blocking_threads;
  for (auto& job : blocking_jobs) blocking_threads.insert(*co_await job);
  print_threads("spawn_blocking closures", blocking_threads, blocking_jobs.size());
  const auto done_at = Clock::now();
  auto all_idle =
      poll_until([] { return rt::Handle::current().metrics().blocking_idle_threads == 8; }, 5s);
  co_await std::move(all_idle);
  print_pools("when they are done:");
  auto all_gone =
      poll_until([] { return rt::Handle::current().metrics().blocking_threads == 0; }, 5s);
  co_await std::move(all_gone);
  std::printf("  all gone after %.0f ms (the keep-alive is 1 s):\n", ms_since(done_at));
  print_pools("");
}

}  // namespace

int two_pools() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).blocking_keep_alive(1s).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
