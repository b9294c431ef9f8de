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
rt::Task<void> block_100ms() {
  spin_for(100ms);
  co_return;
}

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

rt::Task<double> ticker_late_ms(bool blocking) {
  auto ticker = rt::spawn(worst_lateness(10ms, 15));
  co_await rt::sleep(20ms);
  auto blocker = blocking ? rt::spawn_blocking([] { spin_for(100ms); }) : rt::spawn(block_100ms());
  co_await blocker;
  co_return to_ms(*co_await ticker);
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

rt::Task<Measured> tickers() {
  Measured late;
  late.spawn = co_await ticker_late_ms(false);
  late.blocking = co_await ticker_late_ms(true);
  co_return late;
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
  const Measured late = one_worker.block_on(tickers());

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
  std::printf("  | 10 ms ticker beside 100 ms of CPU (1 worker) | late %.1f ms | late %.1f ms |\n",
              late.spawn, late.blocking);
  std::printf("  | dropped JoinHandle | detaches | detaches |\n");
  std::printf("  | an exception | JoinError panicked | JoinError panicked |\n");
  return 0;
}

}  // namespace guide
