// The scheduling-latency histograms of RuntimeMetrics: poll duration, schedule delay (runnable to
// polled) and the blocking pool's queue wait. Each test makes a wait of at least 20 ms that the
// runtime cannot avoid (a task spinning on the only worker, a closure spinning on the only pool
// thread) and checks it lands in a bucket of that order. Only lower bounds are asserted: the
// histograms measure real time, and a loaded machine only ever adds to it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>

#include "brigade/runtime/metrics.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

constexpr auto kSpin = 20ms;
// The histograms' clock is the TSC, its rate measured against steady_clock (which times the
// spins) when the process starts: a sum is compared with the spin to within 1 %.
constexpr auto kSpinAsMeasured = kSpin * 99 / 100;

// Keeps the calling thread busy for `duration` without yielding it (what a CPU-bound poll does).
void spin_for(std::chrono::nanoseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// How many durations `after` holds beyond `before` in the buckets that can hold `at_least`.
std::uint64_t counted_from(const rt::DurationHistogram& before, const rt::DurationHistogram& after,
                           std::chrono::nanoseconds at_least) {
  std::uint64_t count = 0;
  const auto first = rt::DurationHistogram::bucket_of(static_cast<std::uint64_t>(at_least.count()));
  for (std::size_t i = first; i < rt::DurationHistogram::kBuckets; ++i) {
    count += after.counts[i] - before.counts[i];
  }
  return count;
}

// One worker, one pool thread, no stall monitor (the spins would be reported as stalls).
rt::Runtime single_worker_runtime(bool latency_histograms = true) {
  return rt::Builder::multi_thread()
      .worker_threads(1)
      .max_blocking_threads(1)
      .stall_threshold(0ms)
      .latency_histograms(latency_histograms)
      .build();
}

TEST(DurationHistogram, BucketsArePowersOfFourFromAMicrosecondToTenSecondsAndMore) {
  using H = rt::DurationHistogram;
  EXPECT_EQ(H::upper_bound(0), 1024ns);
  EXPECT_GE(H::upper_bound(H::kBuckets - 2), 10s);
  for (std::size_t i = 1; i + 1 < H::kBuckets; ++i) {
    EXPECT_EQ(H::upper_bound(i), 4 * H::upper_bound(i - 1));
  }
  // A duration equal to a bound is in that bound's bucket (Prometheus' `le`), one more is not.
  EXPECT_EQ(H::bucket_of(0), 0u);
  EXPECT_EQ(H::bucket_of(1024), 0u);
  EXPECT_EQ(H::bucket_of(1025), 1u);
  for (std::size_t i = 0; i + 1 < H::kBuckets; ++i) {
    const auto bound = static_cast<std::uint64_t>(H::upper_bound(i).count());
    EXPECT_EQ(H::bucket_of(bound), i);
    EXPECT_EQ(H::bucket_of(bound + 1), i + 1);
  }
  EXPECT_EQ(H::bucket_of(std::numeric_limits<std::uint64_t>::max()), H::kBuckets - 1);
}

rt::Task<void> empty_task() { co_return; }

// The task spawned first waits in the worker's LIFO slot while the spawner spins on the only
// worker: its schedule delay is at least the spin, and the spinning poll is at least as long.
rt::Task<void> spawn_then_spin() {
  auto queued = rt::spawn(empty_task());
  spin_for(kSpin);
  co_await queued;
}

TEST(SchedulingLatency, ATaskQueuedBehindABusyWorkerShowsItsDelayAndTheBusyPollItsLength) {
  auto runtime = single_worker_runtime();
  const rt::RuntimeMetrics before = runtime.metrics();
  runtime.block_on(spawn_then_spin());
  const rt::RuntimeMetrics after = runtime.metrics();

  EXPECT_GE(counted_from(before.schedule_delay, after.schedule_delay, kSpin), 1u);
  EXPECT_GE(after.schedule_delay.sum - before.schedule_delay.sum, kSpinAsMeasured);
  EXPECT_GE(counted_from(before.poll_duration, after.poll_duration, kSpin), 1u);
  EXPECT_GE(after.poll_duration.sum - before.poll_duration.sum, kSpinAsMeasured);
  EXPECT_GE(after.poll_duration.count() - before.poll_duration.count(), 2u);  // both tasks ran
}

// Every task run is timed once: the histogram counts what polls_total counts.
TEST(SchedulingLatency, EveryPollIsCountedOnceInThePollDurationHistogram) {
  auto runtime = single_worker_runtime();
  runtime.block_on(spawn_then_spin());
  // Shut down so no worker is polling while the snapshot is taken.
  runtime.shutdown_timeout(10s);
  const rt::RuntimeMetrics metrics = runtime.metrics();
  std::uint64_t polls = 0;
  for (const auto& worker : metrics.worker) polls += worker.polls;
  EXPECT_EQ(metrics.poll_duration.count(), polls);
  EXPECT_EQ(metrics.schedule_delay.count(), polls);
  // A task queued without a wake stamp would count from the clock's origin (boot): +Inf.
  EXPECT_EQ(metrics.schedule_delay.counts.back(), 0u);
}

// Off by default, as in Tokio: no clock is read for them, and the histograms say so by staying
// empty while the polls are counted.
TEST(SchedulingLatency, TheWorkersHistogramsAreEmptyUnlessAskedFor) {
  EXPECT_FALSE(rt::Builder::multi_thread().options().latency_histograms);
  auto runtime = single_worker_runtime(false);
  runtime.block_on(spawn_then_spin());
  runtime.shutdown_timeout(10s);
  const rt::RuntimeMetrics metrics = runtime.metrics();
  std::uint64_t polls = 0;
  for (const auto& worker : metrics.worker) polls += worker.polls;
  EXPECT_GE(polls, 2u);
  EXPECT_EQ(metrics.poll_duration.count(), 0u);
  EXPECT_EQ(metrics.schedule_delay.count(), 0u);
}

rt::Task<void> sleep_for(std::chrono::milliseconds duration) { co_await rt::sleep(duration); }

rt::Task<void> join_a_sleeper(std::chrono::milliseconds duration) {
  co_await rt::spawn(sleep_for(duration));
}

// A worker stamps what it wakes with its last clock reading while that reading is fresh: the
// sleep must make it stale, or the timer's wake-up after the sleep would be stamped with the
// time the sleep began and count the whole sleep as delay (and a poll would count it as length).
TEST(SchedulingLatency, ATaskWokenAfterItsWorkerSleptDoesNotCountTheSleep) {
  constexpr auto kSleep = 300ms;
  auto runtime = single_worker_runtime();
  runtime.block_on(join_a_sleeper(kSleep));
  runtime.shutdown_timeout(10s);
  const rt::RuntimeMetrics metrics = runtime.metrics();

  EXPECT_GE(metrics.schedule_delay.count(), 3u);  // the joiner, the sleeper, its wake-up
  EXPECT_EQ(counted_from({}, metrics.schedule_delay, kSleep), 0u);
  EXPECT_EQ(counted_from({}, metrics.poll_duration, kSleep), 0u);
}

// The busy closure starts its spin only once the second one is queued, so that one waits for
// the whole spin however late the submit comes.
rt::Task<void> two_blocking_jobs(std::atomic<bool>* second_queued) {
  auto busy = rt::spawn_blocking([second_queued] {
    while (!second_queued->load()) std::this_thread::yield();
    spin_for(kSpin);
  });
  auto queued = rt::spawn_blocking([] {});
  second_queued->store(true);
  co_await busy;
  co_await queued;
}

// With one pool thread, the second closure waits in the queue for the first one's spin.
TEST(SchedulingLatency, ABlockingJobQueuedBehindABusyPoolThreadShowsItsWait) {
  auto runtime = single_worker_runtime();
  std::atomic<bool> second_queued{false};
  runtime.block_on(two_blocking_jobs(&second_queued));
  const rt::RuntimeMetrics metrics = runtime.metrics();

  EXPECT_EQ(metrics.blocking_queue_wait.count(), 2u);
  EXPECT_GE(counted_from({}, metrics.blocking_queue_wait, kSpin), 1u);
  // A closure queued without a stamp would count from the clock's origin (boot): +Inf.
  EXPECT_EQ(metrics.blocking_queue_wait.counts.back(), 0u);
  EXPECT_GE(metrics.blocking_queue_wait.sum, kSpinAsMeasured);
}

}  // namespace
