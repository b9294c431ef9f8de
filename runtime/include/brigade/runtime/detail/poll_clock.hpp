#pragma once

#include <time.h>

#include <cstdint>

namespace brigade::runtime::detail {

// The clock a worker reads once per poll, to stamp when the poll started. CLOCK_MONOTONIC_COARSE
// is the kernel's last tick read from the vDSO: no system call, about 5 ns on this project's
// machine against 40 ns for CLOCK_MONOTONIC. Its resolution is the tick (clock_getres: 4 ms
// here), so a poll's measured length is within one tick of the truth: good enough to tell a
// 10 ms stall, not to time a 10 µs poll. Never 0 (it counts from boot), so 0 can mean "idle".
inline std::int64_t poll_clock_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// The poll_clock_ns() stamp of the poll running on this thread, 0 outside one. Set by the worker
// as each poll starts.
inline constinit thread_local std::int64_t this_thread_poll_ns = 0;

// "Now" to within a tick and a poll's length, for stamps that need no finer: inside a poll, the
// stamp read as it started, so that spawning a task reads no clock.
inline std::int64_t poll_or_clock_ns() noexcept {
  return this_thread_poll_ns != 0 ? this_thread_poll_ns : poll_clock_ns();
}

}  // namespace brigade::runtime::detail
