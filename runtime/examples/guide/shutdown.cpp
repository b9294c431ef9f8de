// Graceful shutdown: a channel tells every task to stop, and each one finishes cleanly where it
// is. A watch channel holds one state that all tasks look at; a broadcast channel delivers the
// message to every subscriber. Either way no task is aborted.
#include <cstdio>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/sync/broadcast.hpp"
#include "brigade/runtime/sync/watch.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr int kWorkers = 4;

// A worker that handles one 10 ms item after another until told to stop; returns the items done.
rt::Task<int> watch_worker(rt::watch::Receiver<bool> stop) {
  int items = 0;
  for (;;) {
    auto item = rt::sleep(10ms);
    auto next = co_await rt::select(std::move(item), stop.changed());
    if (next.index() == 1) co_return items;
    ++items;
  }
}

rt::Task<int> broadcast_worker(rt::broadcast::Receiver<bool> stop) {
  int items = 0;
  for (;;) {
    auto item = rt::sleep(10ms);
    auto next = co_await rt::select(std::move(item), stop.recv());
    if (next.index() == 1) co_return items;
    ++items;
  }
}

rt::Task<void> report(const char* channel, std::vector<rt::JoinHandle<int>>& workers,
                      Clock::time_point signalled) {
  int clean = 0;
  int items = 0;
  for (auto& worker : workers) {
    auto outcome = co_await worker;
    if (outcome) {
      ++clean;
      items += *outcome;
    }
  }
  std::printf(
      "  %s: %d of %d tasks returned on their own %.2f ms after the signal, "
      "after %d items\n",
      channel, clean, kWorkers, ms_since(signalled), items);
}

rt::Task<void> run() {
  {
    auto [stop, receiver] = rt::watch::channel(false);
    std::vector<rt::JoinHandle<int>> workers;
    for (int i = 0; i < kWorkers; ++i) workers.push_back(rt::spawn(watch_worker(receiver)));
    co_await rt::sleep(100ms);
    const auto signalled = Clock::now();
    static_cast<void>(stop.send(true));
    co_await report("watch    ", workers, signalled);
  }
  {
    auto [stop, first] = rt::broadcast::channel<bool>(1);
    std::vector<rt::JoinHandle<int>> workers;
    for (int i = 0; i < kWorkers; ++i)
      workers.push_back(rt::spawn(broadcast_worker(stop.subscribe())));
    co_await rt::sleep(100ms);
    const auto signalled = Clock::now();
    static_cast<void>(stop.send(true));
    co_await report("broadcast", workers, signalled);
  }
}

}  // namespace

int graceful_shutdown() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
