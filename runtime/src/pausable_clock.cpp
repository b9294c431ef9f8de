#include "pausable_clock.hpp"

#include "brigade/runtime/detail/misuse.hpp"
#include "brigade/runtime/time.hpp"

namespace brigade::runtime::detail {

std::atomic<unsigned> detached_clocks{0};

PausableClock::~PausableClock() {
  if (detached_.load(std::memory_order_relaxed)) {
    detached_clocks.fetch_sub(1, std::memory_order_relaxed);
  }
}

Clock::time_point PausableClock::detached_now() const noexcept {
  std::lock_guard guard(mutex_);
  if (paused_.load(std::memory_order_relaxed)) return frozen_at_;
  return Clock::now() + ahead_of_real_;
}

void PausableClock::pause() {
  std::lock_guard guard(mutex_);
  if (paused_.load(std::memory_order_relaxed))
    fail_misuse("time::pause: the clock is already paused");
  const Clock::time_point now = Clock::now() + ahead_of_real_;
  frozen_at_ = tick_origin_ + std::chrono::ceil<std::chrono::milliseconds>(now - tick_origin_);
  paused_.store(true, std::memory_order_release);
  if (!detached_.exchange(true, std::memory_order_acq_rel)) {
    detached_clocks.fetch_add(1, std::memory_order_relaxed);
  }
}

void PausableClock::resume() {
  std::lock_guard guard(mutex_);
  if (!paused_.load(std::memory_order_relaxed)) {
    fail_misuse("time::resume: the clock is not paused (call time::pause first)");
  }
  ahead_of_real_ = frozen_at_ - Clock::now();
  paused_.store(false, std::memory_order_release);
}

void PausableClock::advance(Clock::duration by) {
  std::lock_guard guard(mutex_);
  if (!paused_.load(std::memory_order_relaxed)) {
    fail_misuse("time::advance: the clock is not paused (call time::pause first)");
  }
  if (by <= Clock::duration::zero()) return;
  // A huge advance saturates, as a huge sleep does: "for ever", not a wrapped-around past.
  frozen_at_ =
      by >= Clock::time_point::max() - frozen_at_ ? Clock::time_point::max() : frozen_at_ + by;
}

void PausableClock::advance_to(Clock::time_point when) noexcept {
  std::lock_guard guard(mutex_);
  if (paused_.load(std::memory_order_relaxed) && when > frozen_at_) frozen_at_ = when;
}

}  // namespace brigade::runtime::detail
