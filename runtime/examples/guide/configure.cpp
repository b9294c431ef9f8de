// Configuring the blocking pool: at most 2 threads, at most 3 jobs waiting for one, and a name
// for its threads. Six 30 ms jobs submitted at once: two run, three wait, the sixth is refused.
#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

rt::Task<void> run() {
  const auto start = Clock::now();
  std::promise<void> open_gate;
  const std::shared_future<void> gate = open_gate.get_future().share();
  auto holding = std::make_shared<std::atomic<int>>(0);
  std::vector<rt::JoinHandle<std::string>> jobs;
  for (int i = 0; i < 6; ++i) {
    jobs.push_back(rt::spawn_blocking([gate, holding] {
      holding->fetch_add(1);
      gate.wait();  // all six are submitted before any runs
      std::this_thread::sleep_for(30ms);
      return thread_name();
    }));
  }
  // A job handed to a thread that has not yet picked it up still counts as queued: once both
  // threads hold theirs, what the queue holds is what truly waits for a thread.
  auto both_held = poll_until([holding] { return holding->load() == 2; }, 5s);
  const bool held = co_await std::move(both_held);
  const auto busy = rt::Handle::current().metrics();
  std::printf(
      "  after submitting 6 jobs: blocking threads %zu, running %d%s, queued %zu, rejected %llu\n",
      busy.blocking_threads, holding->load(), held ? "" : " (gave up waiting for 2)",
      busy.blocking_queue_depth, static_cast<unsigned long long>(busy.blocking_tasks_rejected));
  open_gate.set_value();
  std::set<std::string> threads;
  int done = 0;
  int refused = 0;
  for (auto& job : jobs) {
    auto outcome = co_await job;
    if (outcome) {
      threads.insert(*outcome);
      ++done;
    } else if (outcome.error().is_rejected()) {
      ++refused;
    }
  }
  std::printf("  done: %d jobs, refused: %d (JoinError rejected), after %.0f ms, on threads named:",
              done, refused, ms_since(start));
  for (const auto& name : threads) std::printf(" %s", name.c_str());
  std::printf("\n");
}

}  // namespace

int configure_pool() {
  auto runtime = rt::Builder::multi_thread()
                     .worker_threads(1)
                     .max_blocking_threads(2)     // Tokio: max_blocking_threads(2)
                     .blocking_queue_limit(3)     // Tokio has no bound: the queue grows
                     .blocking_keep_alive(100ms)  // Tokio: thread_keep_alive
                     .thread_name("guide")        // the pool's threads: guide-blk
                     .build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
