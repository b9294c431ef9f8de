// Common mistakes, each shown going wrong and then fixed:
//  1. a blocking call inside a task (a 10 ms ticker on the same worker goes late);
//  2. a dropped JoinHandle, which loses the task's error;
//  3. unbounded spawn_blocking, one pool thread per job, where a semaphore keeps it to a few.
#include <atomic>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/sync/semaphore.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

// 1. A synchronous 200 ms call: on the worker, or handed to the pool.
Window blocking_call() {
  Window window{Clock::now(), {}};
  spin_for(200ms);
  window.end = Clock::now();
  return window;
}

rt::Task<Window> blocking_call_in_task() { co_return blocking_call(); }

rt::Task<void> show_blocking_call(bool fixed) {
  auto evidence = fixed ? ticker_beside([] { return rt::spawn_blocking(blocking_call); })
                        : ticker_beside([] { return rt::spawn(blocking_call_in_task()); });
  const TickerEvidence seen = co_await std::move(evidence);
  std::printf("  1. %s %s\n",
              fixed ? "fixed, the call in spawn_blocking:" : "wrong, a 200 ms call in a task: ",
              seen.describe().c_str());
}

// 2. A task that fails; the error is seen only by whoever awaits its handle.
rt::Task<void> save_order() {
  co_await rt::sleep(1ms);
  throw std::runtime_error("disk full");
}

rt::Task<void> dropped_error(bool fixed) {
  int errors_seen = 0;
  std::string message;
  if (fixed) {
    auto handle = rt::spawn(save_order());
    auto saved = co_await handle;
    if (!saved) {
      ++errors_seen;
      message = saved.error().message();
    }
  } else {
    static_cast<void>(rt::spawn(save_order()));  // fire and forget
    co_await rt::sleep(50ms);
  }
  std::printf("  2. %s errors seen: %d%s%s\n",
              fixed ? "fixed, the handle awaited:        " : "wrong, the handle dropped:        ",
              errors_seen, message.empty() ? "" : ": ", message.c_str());
}

// 3. 200 jobs of 20 ms handed to the pool at once, or through a semaphore of 8 permits. Each job
// counts how many run at once.
struct Running {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
};

void job(Running& running) {
  const int now = running.now.fetch_add(1) + 1;
  int most = running.most.load();
  while (now > most && !running.most.compare_exchange_weak(most, now)) {
  }
  std::this_thread::sleep_for(20ms);
  running.now.fetch_sub(1);
}

rt::Task<void> limited_job(std::shared_ptr<rt::Semaphore> permits,
                           std::shared_ptr<Running> running) {
  auto permit = co_await permits->acquire();
  // The handle is a local: with a capturing lambda made inside the co_await expression, GCC 12
  // frees the capture before spawn_blocking has copied it (ASan shows the use after free).
  auto handle = rt::spawn_blocking([running] { job(*running); });
  co_await handle;
}

rt::Task<void> many_blocking_jobs(bool fixed) {
  const auto start = Clock::now();
  auto permits = std::make_shared<rt::Semaphore>(8);
  auto running = std::make_shared<Running>();
  std::vector<rt::JoinHandle<void>> jobs;
  for (int i = 0; i < 200; ++i) {
    if (fixed) {
      jobs.push_back(rt::spawn(limited_job(permits, running)));
    } else {
      jobs.push_back(rt::spawn_blocking([running] { job(*running); }));
    }
  }
  for (auto& handle : jobs) co_await handle;
  // Idle threads stay for the 10 s keep-alive, so this is how many were ever started.
  std::printf("  3. %s 200 jobs of 20 ms took %.0f ms, at most %d at once, on %zu threads\n",
              fixed ? "fixed, a semaphore of 8 permits:  " : "wrong, unbounded spawn_blocking:  ",
              ms_since(start), running->most.load(),
              rt::Handle::current().metrics().blocking_threads);
}

}  // namespace

int common_mistakes() {
  for (const bool fixed : {false, true}) {
    auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
    runtime.block_on(show_blocking_call(fixed));
  }
  for (const bool fixed : {false, true}) {
    auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
    runtime.block_on(dropped_error(fixed));
  }
  for (const bool fixed : {false, true}) {
    auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
    runtime.block_on(many_blocking_jobs(fixed));
  }
  return 0;
}

}  // namespace guide
