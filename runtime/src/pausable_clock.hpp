#pragma once

// The time a runtime's driver and its tasks see: std::chrono::steady_clock until a test pauses it
// (time::pause, Tokio's test-util clock), and from then on the paused instant, moved only by
// time::advance and by the driver's auto-advance. Once resumed it runs at the real rate again,
// but from where it was left, so it never goes back.
//
// Until the first pause, now() is one relaxed load and a predictable branch in front of
// steady_clock::now(). The first pause also counts the clock in detail::detached_clocks, which is
// what lets Clock::now() skip looking for the current runtime when no clock anywhere is paused.

#include <atomic>
#include <chrono>
#include <mutex>

namespace brigade::runtime::detail {

class PausableClock {
 public:
  using Clock = std::chrono::steady_clock;

  // `tick_origin`: the driver's epoch. A pause lands on a whole millisecond after it, so that
  // whole-millisecond sleeps and advances meet the timer wheel's ticks exactly.
  explicit PausableClock(Clock::time_point tick_origin) noexcept : tick_origin_(tick_origin) {}
  ~PausableClock();
  PausableClock(const PausableClock&) = delete;
  PausableClock& operator=(const PausableClock&) = delete;

  Clock::time_point now() const noexcept {
    if (!detached_.load(std::memory_order_acquire)) [[likely]]
      return Clock::now();
    return detached_now();
  }
  bool paused() const noexcept { return paused_.load(std::memory_order_acquire); }

  // Each terminates with a message on misuse: pausing twice, advancing or resuming a running clock.
  void pause();
  void resume();
  void advance(Clock::duration by);
  // Auto-advance: moves a paused clock to `when` if that is later. No-op when not paused.
  void advance_to(Clock::time_point when) noexcept;

 private:
  Clock::time_point detached_now() const noexcept;

  const Clock::time_point tick_origin_;
  std::atomic<bool> detached_{false};
  std::atomic<bool> paused_{false};
  mutable std::mutex mutex_;         // guards the two below
  Clock::time_point frozen_at_{};    // while paused
  Clock::duration ahead_of_real_{};  // while running after a pause
};

}  // namespace brigade::runtime::detail
