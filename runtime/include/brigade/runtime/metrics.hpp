#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace brigade::runtime {

// Durations counted in fixed buckets, as a Prometheus histogram counts them: counts[i] holds the
// durations in (upper_bound(i - 1), upper_bound(i)], the last bucket those above every bound
// (+Inf). The bounds are powers of 4 from 2^10 ns (1.024 µs) to 2^34 ns (17.2 s), so a
// duration's bucket is a bit scan of its nanosecond count, not a search through the bounds.
struct DurationHistogram {
  static constexpr std::size_t kBuckets = 14;  // 13 bounds and +Inf

  // Of buckets 0 .. kBuckets - 2 (the last has none).
  static constexpr std::chrono::nanoseconds upper_bound(std::size_t bucket) noexcept {
    return std::chrono::nanoseconds(std::int64_t{1} << (10 + 2 * bucket));
  }
  static constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
    // ns <= 2^b exactly when ns - 1 < 2^b, i.e. bit_width(ns - 1) <= b; below 2^10 is bucket 0.
    const std::uint64_t below = ns > 0 ? ns - 1 : 0;
    const auto bits = static_cast<std::size_t>(std::bit_width(below | 1023u));
    return std::min((bits - 9) / 2, kBuckets - 1);
  }

  std::uint64_t count() const noexcept {
    return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
  }

  std::array<std::uint64_t, kBuckets> counts{};  // not cumulative
  std::chrono::nanoseconds sum{0};
};

// One worker's counters. Totals count since the runtime started.
struct WorkerMetrics {
  std::size_t local_queue_depth = 0;
  std::uint64_t polls = 0;   // task runs
  std::uint64_t steals = 0;  // tasks taken from other workers
  std::uint64_t steal_operations = 0;
  std::uint64_t overflows = 0;  // times its full local queue sent tasks to the injection queue
  std::uint64_t parks = 0;
  std::chrono::nanoseconds busy{0};
  std::uint64_t stalls = 0;  // polls that ran stall_threshold or longer (counted as they end)
};

// A snapshot in the spirit of Tokio's RuntimeMetrics. Taking one reads relaxed per-worker
// counters and queue lengths: it never stops the workers.
struct RuntimeMetrics {
  std::size_t workers = 0;
  std::size_t injection_queue_depth = 0;
  std::vector<WorkerMetrics> worker;
  std::uint64_t tasks_spawned = 0;
  std::uint64_t tasks_alive = 0;
  std::uint64_t budget_forced_yields = 0;  // tasks made to yield by the cooperative budget
  std::size_t io_registered = 0;           // descriptors registered with the I/O driver
  std::uint64_t io_events = 0;             // readiness events the driver received
  std::size_t blocking_threads = 0;
  std::size_t blocking_idle_threads = 0;
  std::size_t blocking_queue_depth = 0;
  std::uint64_t blocking_tasks_spawned = 0;
  std::uint64_t blocking_tasks_rejected = 0;
  // What the scheduler does, summed over the workers (runtime/README.md: "Scheduling latency");
  // the first two only with Builder::latency_histograms(true), empty without.
  DurationHistogram poll_duration;  // one task run on a worker, start to return
  // A task made runnable (woken, spawned) to its poll; made runnable by a running poll, from
  // that poll's start.
  DurationHistogram schedule_delay;
  DurationHistogram blocking_queue_wait;  // a spawn_blocking closure submitted to started
};

}  // namespace brigade::runtime
