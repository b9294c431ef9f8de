// The closing comparison of spawn and spawn_blocking, every figure measured here and now.
#include <atomic>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
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

rt::Task<std::thread::id> wait_20ms_here() {
  co_await rt::sleep(20ms);
  co_return std::this_thread::get_id();
}

// How long kWaits concurrent 20 ms waits take, and how many threads they ran on.
rt::Task<std::pair<double, std::size_t>> concurrent_waits(bool blocking) {
  const auto start = Clock::now();
  std::vector<rt::JoinHandle<std::thread::id>> waits;
  for (int i = 0; i < kWaits; ++i) {
    waits.push_back(blocking ? rt::spawn_blocking([] {
      std::this_thread::sleep_for(20ms);
      return std::this_thread::get_id();
    })
                             : rt::spawn(wait_20ms_here()));
  }
  std::set<std::thread::id> threads;
  for (auto& wait : waits) {
    if (auto ran_on = co_await wait) threads.insert(*ran_on);
  }
  co_return std::pair(ms_since(start), threads.size());
}

using Flag = std::shared_ptr<std::atomic<bool>>;

rt::Task<void> raise_after_20ms(Flag finished) {
  co_await rt::sleep(20ms);
  finished->store(true);
}

// Drops the handle of a 20 ms task or closure, then looks whether it ran to its end anyway.
rt::Task<const char*> drop_the_handle(bool blocking) {
  auto finished = std::make_shared<std::atomic<bool>>(false);
  if (blocking) {
    auto dropped = rt::spawn_blocking([finished] {
      std::this_thread::sleep_for(20ms);
      finished->store(true);
    });
  } else {
    auto dropped = rt::spawn(raise_after_20ms(finished));
  }
  auto ran_to_its_end = poll_until([finished] { return finished->load(); }, 5s);
  co_return co_await std::move(ran_to_its_end) ? "detaches: ran to its end" : "did not finish";
}

rt::Task<int> throw_after_1ms() {
  co_await rt::sleep(1ms);
  throw std::runtime_error("failed");
}

template <typename Outcome>
const char* failure_kind(const Outcome& outcome) {
  if (outcome) return "a value";
  if (outcome.error().is_panic()) return "JoinError panicked";
  return outcome.error().is_cancelled() ? "JoinError cancelled" : "JoinError rejected";
}

template <typename T>
struct Both {
  T spawn{};
  T blocking{};
};

struct Table {
  Both<double> round_trip_us;
  Both<std::pair<double, std::size_t>> waits;  // ms, threads they ran on
  Both<const char*> dropped;
  Both<const char*> exception;
  std::size_t workers = 0;
  std::size_t blocking_threads = 0;
};

rt::Task<void> run(Table& table) {
  table.round_trip_us.spawn = co_await round_trip_us(false);
  table.round_trip_us.blocking = co_await round_trip_us(true);
  table.waits.spawn = co_await concurrent_waits(false);
  table.waits.blocking = co_await concurrent_waits(true);
  const auto metrics = rt::Handle::current().metrics();
  table.workers = metrics.workers;
  table.blocking_threads = metrics.blocking_threads;
  table.dropped.spawn = co_await drop_the_handle(false);
  table.dropped.blocking = co_await drop_the_handle(true);
  auto task = rt::spawn(throw_after_1ms());
  table.exception.spawn = failure_kind(co_await task);
  auto closure = rt::spawn_blocking([]() -> int { throw std::runtime_error("failed"); });
  table.exception.blocking = failure_kind(co_await closure);
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
  Table table;
  {
    auto runtime = rt::Builder::multi_thread().build();
    runtime.block_on(run(table));
  }
  auto one_worker = rt::Builder::multi_thread().worker_threads(1).build();
  const auto [beside_task, beside_pool] = one_worker.block_on(tickers());

  std::printf("  | | spawn | spawn_blocking |\n  | --- | --- | --- |\n");
  std::printf(
      "  | runs on | %zu async workers (one per core) | a pool that grew to %zu threads "
      "(at most 512) |\n",
      table.workers, table.blocking_threads);
  std::printf(
      "  | for | async I/O, timers, waiting | blocking calls, CPU work, sync libraries |\n");
  std::printf("  | spawn + await, one at a time | %.2f us | %.2f us |\n", table.round_trip_us.spawn,
              table.round_trip_us.blocking);
  std::printf(
      "  | %d concurrent 20 ms waits | %.0f ms on %zu thread(s) | %.0f ms on %zu thread(s) |\n",
      kWaits, table.waits.spawn.first, table.waits.spawn.second, table.waits.blocking.first,
      table.waits.blocking.second);
  std::printf(
      "  | 10 ms ticker beside 100 ms of CPU (1 worker) | late %.1f ms, %d ticks during it "
      "| late %.1f ms, %d ticks during it |\n",
      beside_task.worst_late_ms, beside_task.ticks_during_call, beside_pool.worst_late_ms,
      beside_pool.ticks_during_call);
  std::printf("  | dropped JoinHandle | %s | %s |\n", table.dropped.spawn, table.dropped.blocking);
  std::printf("  | an exception | %s | %s |\n", table.exception.spawn, table.exception.blocking);
  return 0;
}

}  // namespace guide
