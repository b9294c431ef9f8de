// The closing comparison of spawn and spawn_blocking, every figure measured here and now.
#include <cstdio>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr int kRounds = 5'000;
constexpr int kWaits = 500;

rt::Task<int> trivial() { co_return 1; }
rt::Task<void> wait_20ms() { co_await rt::sleep(20ms); }
Window block_100ms() {
  Window window{Clock::now(), {}};
  spin_for(100ms);
  window.end = Clock::now();
  return window;
}
rt::Task<Window> block_100ms_in_task() { co_return block_100ms(); }

rt::Task<double> round_trip_us(bool blocking) {
  const auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    auto handle = blocking ? rt::spawn_blocking([] { return 1; }) : rt::spawn(trivial());
    co_await handle;
  }
  co_return ms_since(start) * 1000.0 / kRounds;
}

rt::Task<double> concurrent_waits_ms(bool blocking) {
  const auto start = Clock::now();
  std::vector<rt::JoinHandle<void>> waits;
  for (int i = 0; i < kWaits; ++i) {
    waits.push_back(blocking ? rt::spawn_blocking([] { std::this_thread::sleep_for(20ms); })
                             : rt::spawn(wait_20ms()));
  }
  for (auto& wait : waits) co_await wait;
  co_return ms_since(start);
}

struct Measured {
  double spawn = 0;
  double blocking = 0;
};

rt::Task<void> run(Measured& round_trip, Measured& waits, std::size_t& workers,
                   std::size_t& blocking_threads) {
  round_trip.spawn = co_await round_trip_us(false);
  round_trip.blocking = co_await round_trip_us(true);
  waits.spawn = co_await concurrent_waits_ms(false);
  waits.blocking = co_await concurrent_waits_ms(true);
  const auto metrics = rt::Handle::current().metrics();
  workers = metrics.workers;
  blocking_threads = metrics.blocking_threads;
}

rt::Task<std::pair<TickerEvidence, TickerEvidence>> tickers() {
  auto in_task = ticker_beside([] { return rt::spawn(block_100ms_in_task()); });
  const TickerEvidence beside_task = co_await std::move(in_task);
  auto on_pool = ticker_beside([] { return rt::spawn_blocking(block_100ms); });
  const TickerEvidence beside_pool = co_await std::move(on_pool);
  co_return std::pair(beside_task, beside_pool);
}

}  // namespace

int comparison() {
  Measured round_trip;
  Measured waits;
  std::size_t workers = 0;
  std::size_t blocking_threads = 0;
  {
    auto runtime = rt::Builder::multi_thread().build();
    runtime.block_on(run(round_trip, waits, workers, blocking_threads));
  }
  auto one_worker = rt::Builder::multi_thread().worker_threads(1).build();
  const auto [beside_task, beside_pool] = one_worker.block_on(tickers());

  std::printf("  | | spawn | spawn_blocking |\n  | --- | --- | --- |\n");
  std::printf(
      "  | runs on | %zu async workers (one per core) | a pool that grew to %zu threads "
      "(at most 512) |\n",
      workers, blocking_threads);
  std::printf(
      "  | for | async I/O, timers, waiting | blocking calls, CPU work, sync libraries |\n");
  std::printf("  | spawn + await, one at a time | %.2f us | %.2f us |\n", round_trip.spawn,
              round_trip.blocking);
  std::printf("  | %d concurrent 20 ms waits | %.0f ms | %.0f ms |\n", kWaits, waits.spawn,
              waits.blocking);
  std::printf(
      "  | 10 ms ticker beside 100 ms of CPU (1 worker) | late %.1f ms, %d ticks during it "
      "| late %.1f ms, %d ticks during it |\n",
      beside_task.worst_late_ms, beside_task.ticks_during_call, beside_pool.worst_late_ms,
      beside_pool.ticks_during_call);
  std::printf("  | dropped JoinHandle | detaches | detaches |\n");
  std::printf("  | an exception | JoinError panicked | JoinError panicked |\n");
  return 0;
}

}  // namespace guide
