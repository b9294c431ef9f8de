// Runtime micro-benchmarks. Each runs its measurement loop inside a runtime task (as a server's
// accept loop would, and as Tokio benchmarks do), takes the worker count as its argument and
// reports items_per_second: one item is one task, or one round trip.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;

namespace {

constexpr int kBatch = 1000;

rt::Runtime make_runtime(const benchmark::State& state, bool latency_histograms = false) {
  return rt::Builder::multi_thread()
      .worker_threads(static_cast<std::size_t>(state.range(0)))
      .latency_histograms(latency_histograms)
      .build();
}

rt::Task<void> empty_task() { co_return; }

rt::Task<void> spawn_join_loop(benchmark::State* state) {
  std::vector<rt::JoinHandle<void>> handles;
  handles.reserve(kBatch);
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) handles.push_back(rt::spawn(empty_task()));
    for (auto& handle : handles) benchmark::DoNotOptimize(co_await handle);
    handles.clear();
  }
  state->SetItemsProcessed(state->iterations() * kBatch);
}

// How the tasks were shared out, per task: on two workers the time depends on it (a task run
// on the worker that did not spawn it is memory the other core wrote last) and varies with it.
void report_sharing(benchmark::State& state, const rt::Runtime& runtime) {
  const rt::RuntimeMetrics metrics = runtime.metrics();
  std::uint64_t steals = 0;
  std::uint64_t parks = 0;
  for (const rt::WorkerMetrics& worker : metrics.worker) {
    steals += worker.steals;
    parks += worker.parks;
  }
  const auto tasks = static_cast<double>(metrics.tasks_spawned);
  state.counters["stolen_per_task"] = static_cast<double>(steals) / tasks;
  state.counters["parks_per_1k_tasks"] = 1000.0 * static_cast<double>(parks) / tasks;
}

void BM_spawn_join(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(spawn_join_loop(&state));
  report_sharing(state, runtime);
}

// With the poll-duration and schedule-delay histograms on, as the server runs: what their clock
// reads cost a task beside BM_spawn_join.
void BM_spawn_join_timed(benchmark::State& state) {
  auto runtime = make_runtime(state, true);
  runtime.block_on(spawn_join_loop(&state));
  report_sharing(state, runtime);
}

// The same with spawn(fn): the task's cell and its frame are one allocation.
rt::Task<void> spawn_fn_join_loop(benchmark::State* state) {
  std::vector<rt::JoinHandle<void>> handles;
  handles.reserve(kBatch);
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) handles.push_back(rt::spawn(empty_task));
    for (auto& handle : handles) benchmark::DoNotOptimize(co_await handle);
    handles.clear();
  }
  state->SetItemsProcessed(state->iterations() * kBatch);
}

void BM_spawn_fn_join(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(spawn_fn_join_loop(&state));
}

rt::Task<void> spawn_blocking_loop(benchmark::State* state) {
  std::vector<rt::JoinHandle<int>> handles;
  handles.reserve(kBatch);
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) handles.push_back(rt::spawn_blocking([i] { return i; }));
    for (auto& handle : handles) benchmark::DoNotOptimize(co_await handle);
    handles.clear();
  }
  state->SetItemsProcessed(state->iterations() * kBatch);
}

void BM_spawn_blocking(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(spawn_blocking_loop(&state));
}

rt::Task<void> spawn_blocking_seq_loop(benchmark::State* state) {
  int i = 0;
  for (auto _ : *state) benchmark::DoNotOptimize(co_await rt::spawn_blocking([i] { return i; }));
  state->SetItemsProcessed(state->iterations());
}

// One closure at a time: the full round trip, including waking a parked pool thread and the
// worker that awaits the result.
void BM_spawn_blocking_seq(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(spawn_blocking_seq_loop(&state));
}

rt::Task<void> yield_many(int count) {
  for (int i = 0; i < count; ++i) co_await rt::yield_now();
}

rt::Task<void> yield_loop(benchmark::State* state, int tasks) {
  std::vector<rt::JoinHandle<void>> handles;
  for (auto _ : *state) {
    for (int i = 0; i < tasks; ++i) handles.push_back(rt::spawn(yield_many(kBatch / tasks)));
    for (auto& handle : handles) co_await handle;
    handles.clear();
  }
  state->SetItemsProcessed(state->iterations() * kBatch);
}

// Tasks that yield over and over: the cost of a trip through the run queue.
void BM_yield(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(yield_loop(&state, 10));
}

rt::Task<void> due_sleep_loop(benchmark::State* state) {
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) co_await rt::sleep(std::chrono::milliseconds(0));
  }
  state->SetItemsProcessed(state->iterations() * kBatch);
}

// Sleeps that are due at once: two reads of the runtime's clock each, no suspension.
void BM_sleep_due(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(due_sleep_loop(&state));
}

rt::Task<void> timer_arm_cancel_loop(benchmark::State* state) {
  for (auto _ : *state) {
    for (int i = 0; i < kBatch; ++i) {
      auto first = co_await rt::select(rt::sleep(std::chrono::hours(1)),
                                       rt::sleep(std::chrono::milliseconds(0)));
      benchmark::DoNotOptimize(first.index());
    }
  }
  state->SetItemsProcessed(state->iterations() * kBatch);
}

// A timer armed, then cancelled when the other branch wins (a timeout whose operation is
// faster): clock reads, the wheel's insert and removal under the driver's lock.
void BM_timer_arm_cancel(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(timer_arm_cancel_loop(&state));
}

rt::Task<void> sleep_an_hour() { co_await rt::sleep(std::chrono::hours(1)); }

// A runtime with `count` tasks asleep on timers, each of them having run up to its sleep.
rt::Runtime runtime_with_sleepers(const benchmark::State& state, std::size_t count) {
  auto runtime = make_runtime(state);
  for (std::size_t i = 0; i < count; ++i) static_cast<void>(runtime.spawn(sleep_an_hour()));
  while (std::ranges::count(runtime.dump_tasks(), rt::TaskInfo::State::idle, &rt::TaskInfo::state) <
         static_cast<std::ptrdiff_t>(count)) {
    std::this_thread::yield();
  }
  return runtime;
}

// Handle::dump_tasks() of range(1) sleeping tasks: copying them out of the task list, shard by
// shard under its lock. One item is one task listed. Destroying the runtime cancels them.
void BM_dump_tasks(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(1));
  auto runtime = runtime_with_sleepers(state, count);
  for (auto _ : state) benchmark::DoNotOptimize(runtime.dump_tasks());
  state.SetItemsProcessed(state.iterations() * state.range(1));
}

// describe() of the same dump: the grouping and text that GET /debug/tasks adds, off any lock.
void BM_describe_tasks(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(1));
  auto runtime = runtime_with_sleepers(state, count);
  const std::vector<rt::TaskInfo> tasks = runtime.dump_tasks();
  for (auto _ : state) benchmark::DoNotOptimize(rt::describe(tasks, 20));
  state.SetItemsProcessed(state.iterations() * state.range(1));
}

}  // namespace

BENCHMARK(BM_spawn_join)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_spawn_join_timed)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_spawn_fn_join)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_spawn_blocking)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_spawn_blocking_seq)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_yield)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_sleep_due)->Arg(1)->UseRealTime();
BENCHMARK(BM_timer_arm_cancel)->Arg(1)->UseRealTime();
BENCHMARK(BM_dump_tasks)->Args({2, 100'000})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_describe_tasks)->Args({2, 100'000})->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
