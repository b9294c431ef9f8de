// Never block inside a task. A 10 ms ticker shares one worker with a task that waits 200 ms:
// waiting with a blocking call holds the worker, so no tick runs until it ends and the ticker
// is late by about the whole wait; an async sleep, or the blocking call moved to
// spawn_blocking, leaves the worker free and the ticker on time.
#include <cstdio>
#include <string>
#include <thread>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

rt::Task<Window> blocking_call_in_task() {
  Window window{Clock::now(), {}};
  std::this_thread::sleep_for(200ms);  // the mistake: the worker thread sleeps
  window.end = Clock::now();
  co_return window;
}

rt::Task<Window> async_sleep_in_task() {
  Window window{Clock::now(), {}};
  co_await rt::sleep(200ms);  // the task sleeps; the worker runs others
  window.end = Clock::now();
  co_return window;
}

// A blocking call that must stay blocking goes to the pool.
Window blocking_call() {
  Window window{Clock::now(), {}};
  std::this_thread::sleep_for(200ms);
  window.end = Clock::now();
  return window;
}

rt::Task<void> run() {
  auto blocked = ticker_beside([] { return rt::spawn(blocking_call_in_task()); });
  const TickerEvidence blocked_evidence = co_await std::move(blocked);
  std::printf("  std::this_thread::sleep_for in a task: %s\n", blocked_evidence.describe().c_str());
  auto slept = ticker_beside([] { return rt::spawn(async_sleep_in_task()); });
  const TickerEvidence slept_evidence = co_await std::move(slept);
  std::printf("  co_await rt::sleep in a task:          %s\n", slept_evidence.describe().c_str());
  auto offloaded = ticker_beside([] { return rt::spawn_blocking(blocking_call); });
  const TickerEvidence offloaded_evidence = co_await std::move(offloaded);
  std::printf("  sleep_for inside spawn_blocking:       %s\n",
              offloaded_evidence.describe().c_str());
}

}  // namespace

int never_block() {
  // One worker makes the effect plain: with more, only the tasks queued behind the blocked
  // worker wait (until another worker steals them).
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
