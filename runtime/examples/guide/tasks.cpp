// What a task is: a green thread. Ten thousand tasks that each wait 100 ms share two worker
// threads, and all finish after about 100 ms, not 10,000 x 100 ms.
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

rt::Task<std::string> wait_then_report() {
  co_await rt::sleep(100ms);  // stands in for a network round trip
  co_return thread_name();
}

rt::Task<void> run(std::size_t count) {
  const auto start = Clock::now();
  std::vector<rt::JoinHandle<std::string>> tasks;
  tasks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) tasks.push_back(rt::spawn(wait_then_report()));
  std::set<std::string> threads;
  std::size_t finished = 0;
  for (auto& task : tasks) {
    if (auto thread = co_await task) {
      threads.insert(*thread);
      ++finished;
    }
  }
  std::printf("  %zu tasks, each waiting 100 ms: %zu finished after %.0f ms\n", count, finished,
              ms_since(start));
  std::printf("  worker threads that ran them: %zu (", threads.size());
  for (const auto& name : threads) std::printf(" %s", name.c_str());
  std::printf(" )\n");
}

}  // namespace

int tasks_are_green_threads() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  runtime.block_on(run(10'000));
  return 0;
}

}  // namespace guide
