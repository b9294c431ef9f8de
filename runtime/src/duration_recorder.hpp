#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "brigade/runtime/metrics.hpp"

namespace brigade::runtime::detail {

// The live counters behind one DurationHistogram. One writer at a time (a worker for its own
// recorder, or threads that record under a common lock), so recording is a relaxed load and
// store per counter: no locked instruction, no system call. Readers (a metrics snapshot) load
// the counters relaxed without stopping the writer; a snapshot may see a count without its sum
// for one recording, nothing worse.
class DurationRecorder {
 public:
  void record(std::uint64_t ns) noexcept {
    bump(counts_[DurationHistogram::bucket_of(ns)], 1);
    bump(sum_ns_, ns);
  }

  // Adds these counts to `out` (the snapshot sums the workers' recorders).
  void add_to(DurationHistogram& out) const noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      out.counts[i] += counts_[i].load(std::memory_order_relaxed);
    }
    out.sum += std::chrono::nanoseconds(sum_ns_.load(std::memory_order_relaxed));
  }

 private:
  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, DurationHistogram::kBuckets> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace brigade::runtime::detail
