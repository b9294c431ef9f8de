// Performance: what spawning costs. spawn puts a small task cell on a worker's queue;
// spawn_blocking hands a closure to another thread, and its first calls start those threads.
// Figures from this machine, printed, never asserted.
#include <cstdio>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr int kRounds = 5'000;
constexpr int kBatch = 1'000;

rt::Task<int> trivial() { co_return 1; }

// One at a time: spawn, then await, kRounds times. Returns microseconds per round trip.
rt::Task<double> one_at_a_time(bool blocking) {
  const auto start = Clock::now();
  int sum = 0;
  for (int i = 0; i < kRounds; ++i) {
    auto handle = blocking ? rt::spawn_blocking([] { return 1; }) : rt::spawn(trivial());
    sum += *co_await handle;
  }
  co_return sum == kRounds ? ms_since(start) * 1000.0 / kRounds : -1.0;
}

// kBatch at once, then await them all. Returns microseconds per job.
rt::Task<double> batch(bool blocking) {
  const auto start = Clock::now();
  std::vector<rt::JoinHandle<int>> handles;
  handles.reserve(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    handles.push_back(blocking ? rt::spawn_blocking([] { return 1; }) : rt::spawn(trivial()));
  }
  for (auto& handle : handles) co_await handle;
  co_return ms_since(start) * 1000.0 / kBatch;
}

rt::Task<void> run() {
  const double cold_blocking = co_await batch(true);  // starts the pool's threads
  const auto after_cold = rt::Handle::current().metrics().blocking_threads;
  const double blocking_one = co_await one_at_a_time(true);
  const double spawn_one = co_await one_at_a_time(false);
  const double blocking_batch = co_await batch(true);
  const double spawn_batch = co_await batch(false);
  std::printf("  %-46s %10s %14s\n", "microseconds per job", "spawn", "spawn_blocking");
  std::printf("  %-46s %10.2f %14.2f\n", "spawn + await, one at a time (5,000)", spawn_one,
              blocking_one);
  std::printf("  %-46s %10.2f %14.2f\n", "1,000 spawned, then all awaited", spawn_batch,
              blocking_batch);
  std::printf("  %-46s %10s %14.2f (it started %zu threads)\n",
              "1,000 spawned on a cold blocking pool", "-", cold_blocking, after_cold);
}

}  // namespace

int spawn_cost() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
