// Never block inside a task. A 10 ms ticker shares one worker with a task that waits 200 ms:
// waiting with a blocking call holds the worker, and the ticker's wake-up is late by about the
// whole wait; an async sleep, or the blocking call moved to spawn_blocking, leaves it on time.
#include <cstdio>
#include <thread>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

enum class Wait { blocking_call, async_sleep, spawn_blocking };

rt::Task<void> wait_200ms(Wait how) {
  switch (how) {
    case Wait::blocking_call:
      std::this_thread::sleep_for(200ms);  // the mistake: the worker thread sleeps
      break;
    case Wait::async_sleep:
      co_await rt::sleep(200ms);  // the task sleeps; the worker runs others
      break;
    case Wait::spawn_blocking:  // a blocking call that must stay blocking goes to the pool
      co_await rt::spawn_blocking([] { std::this_thread::sleep_for(200ms); });
      break;
  }
}

rt::Task<double> ticker_beside(Wait how) {
  auto ticker = rt::spawn(worst_lateness(10ms, 30));
  co_await rt::sleep(20ms);  // let it tick first
  co_await rt::spawn(wait_200ms(how));
  co_return to_ms(*co_await ticker);
}

rt::Task<void> run() {
  const double blocked = co_await ticker_beside(Wait::blocking_call);
  std::printf("  std::this_thread::sleep_for in a task: ticker late by %.1f ms at worst\n",
              blocked);
  const double slept = co_await ticker_beside(Wait::async_sleep);
  std::printf("  co_await rt::sleep in a task:          ticker late by %.1f ms at worst\n", slept);
  const double offloaded = co_await ticker_beside(Wait::spawn_blocking);
  std::printf("  sleep_for inside spawn_blocking:       ticker late by %.1f ms at worst\n",
              offloaded);
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
