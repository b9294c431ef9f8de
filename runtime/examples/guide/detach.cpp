// Await a JoinHandle when the result matters. Dropping it detaches the task: it runs on, and its
// result is lost; that holds for spawn and spawn_blocking alike. abort() is what stops a task.
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

using Counter = std::shared_ptr<std::atomic<int>>;

rt::Task<int> async_work(Counter finished) {
  co_await rt::sleep(30ms);
  finished->fetch_add(1);
  co_return 42;
}

rt::Task<void> run() {
  auto finished = std::make_shared<std::atomic<int>>(0);

  auto handle = rt::spawn(async_work(finished));
  auto awaited = co_await handle;
  std::printf("  awaited:  the result arrives: %d\n", *awaited);

  finished->store(0);
  {
    auto async_handle = rt::spawn(async_work(finished));
    auto blocking_handle = rt::spawn_blocking([finished] {
      std::this_thread::sleep_for(30ms);
      finished->fetch_add(1);
      return 42;
    });
  }  // both handles dropped here
  std::printf("  dropped:  right after dropping both handles, finished: %d of 2\n",
              finished->load());
  const auto dropped_at = Clock::now();
  auto both_finished = poll_until([finished] { return finished->load() == 2; }, 5s);
  co_await std::move(both_finished);
  std::printf(
      "  dropped:  %.0f ms later, finished: %d of 2 (spawn and spawn_blocking ran on; "
      "their results went nowhere)\n",
      ms_since(dropped_at), finished->load());

  finished->store(0);
  auto aborted = rt::spawn(async_work(finished));
  aborted.abort();
  auto outcome = co_await aborted;
  co_await rt::sleep(100ms);  // beyond the 30 ms it would have taken
  std::printf("  aborted:  the handle gives %s; finished: %d of 1\n",
              !outcome && outcome.error().is_cancelled() ? "JoinError cancelled" : "a value",
              finished->load());
}

}  // namespace

int dropping_a_handle() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
