#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace brigade::runtime {

// One worker's counters. Totals count since the runtime started.
struct WorkerMetrics {
  std::size_t local_queue_depth = 0;
  std::uint64_t polls = 0;   // task runs
  std::uint64_t steals = 0;  // tasks taken from other workers
  std::uint64_t steal_operations = 0;
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
};

}  // namespace brigade::runtime
