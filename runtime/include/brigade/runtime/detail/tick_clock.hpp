#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace brigade::runtime::detail {

// The clock of the scheduling-latency histograms: about one read per poll when they are on (see
// WorkStealingScheduler::run_task and worker_now), so it has to be cheap and fine. The
// server times each request with it too (two reads a request).
//
// On x86-64 with an invariant TSC (CPUID 0x80000007, EDX bit 8: constant rate, never stops) it
// is `rdtsc`, converted to nanoseconds with a rate measured against steady_clock once per
// process. On this project's 2-core KVM machine a read costs 17 to 23 ns against 40 to 55 ns
// for steady_clock (vDSO clock_gettime on kvm-clock, which reads the TSC itself and then scales
// it under the pvclock's seqlock), and runtime_bench's CPU time per yield grew by 70 to 90 ns
// with steady_clock against no measurable change with rdtsc (runtime/README.md, "Scheduling
// latency"). Elsewhere it is steady_clock's nanoseconds. rdtsc is not serializing: it may read a
// few dozen cycles early or late, nothing against buckets that start at a microsecond. Stamps from
// two cores are compared (woken on one, polled on another); the kernel keeps their TSCs in step,
// and a difference that comes out negative counts as 0.
class TickClock {
 public:
  // Calibrated on first use (about 2 ms of spinning), then shared.
  static const TickClock& get() noexcept {
    static const TickClock clock;
    return clock;
  }

  std::uint64_t now() const noexcept {
#if defined(__x86_64__)
    if (tsc_) return __rdtsc();
#endif
    return steady_ns();
  }

  // The nanoseconds from `from` to `to`, two now() readings; 0 if `to` is earlier.
  std::uint64_t elapsed_ns(std::uint64_t from, std::uint64_t to) const noexcept {
    if (to <= from) return 0;
    if (!tsc_) return to - from;
    return static_cast<std::uint64_t>(static_cast<double>(to - from) * ns_per_tick_);
  }

 private:
  TickClock() noexcept {
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) == 0 || (edx & (1u << 8)) == 0) return;
    const Reading start = read_both();
    while (steady_ns() - start.ns < kCalibrationNs) {
    }
    const Reading end = read_both();
    if (end.tsc <= start.tsc) return;
    ns_per_tick_ =
        static_cast<double>(end.ns - start.ns) / static_cast<double>(end.tsc - start.tsc);
    tsc_ = true;
#endif
  }

#if defined(__x86_64__)
  struct Reading {
    std::uint64_t tsc = 0;  // the middle of the two TSC reads around `ns`
    std::uint64_t ns = 0;
  };
  // A steady_clock reading and the TSC at the same moment: of a few tries, the one whose
  // bracketing TSC reads are closest, so that a preemption between the reads (which would skew
  // the rate by its length) is left out.
  static Reading read_both() noexcept {
    Reading best;
    std::uint64_t narrowest = ~std::uint64_t{0};
    for (int i = 0; i < 8; ++i) {
      const std::uint64_t before = __rdtsc();
      const std::uint64_t ns = steady_ns();
      const std::uint64_t after = __rdtsc();
      if (after - before < narrowest) {
        narrowest = after - before;
        best = {before + (after - before) / 2, ns};
      }
    }
    return best;
  }
#endif

  static std::uint64_t steady_ns() noexcept {
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch() /
                                      std::chrono::nanoseconds(1));
  }

  static constexpr std::uint64_t kCalibrationNs = 2'000'000;
  bool tsc_ = false;
  double ns_per_tick_ = 1.0;
};

}  // namespace brigade::runtime::detail
