#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>

#include "brigade/runtime/detail/context.hpp"
#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/detail/timer_node.hpp"

namespace brigade::runtime {

namespace detail {

// How many runtimes have a clock a test paused (time::pause) at some point; while none has, the
// runtime's clock is exactly steady_clock.
extern std::atomic<unsigned> detached_clocks;
// The current runtime's clock (paused, or running ahead after a resume); steady_clock off runtimes.
std::chrono::steady_clock::time_point detached_clock_now() noexcept;

}  // namespace detail

// The runtime's clock (Tokio's time::Instant): std::chrono::steady_clock, with the same time
// points, unless a test paused the current runtime's clock (time::pause below).
struct Clock {
  using rep = std::chrono::steady_clock::rep;
  using period = std::chrono::steady_clock::period;
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    if (detail::detached_clocks.load(std::memory_order_relaxed) != 0) [[unlikely]] {
      return detail::detached_clock_now();
    }
    return std::chrono::steady_clock::now();
  }
};

// Completes at or after its deadline (never before: the timer wheel rounds up to the next
// millisecond). Awaiting it suspends the task; destroying it unawaited or while suspended
// disarms the timer.
class [[nodiscard]] Sleep {
 public:
  explicit Sleep(Clock::time_point deadline) noexcept;
  // A Sleep can move until it is awaited (so it can be stored or passed to select/timeout).
  Sleep(Sleep&& other) noexcept;
  Sleep& operator=(Sleep&&) = delete;
  ~Sleep();

  Clock::time_point deadline() const noexcept { return node_.when; }

  bool await_ready() const noexcept;
  bool await_suspend(std::coroutine_handle<> awaiting);
  void await_resume() noexcept { core_ = nullptr; }

 private:
  detail::TimerNode node_;
  detail::RuntimeCore* core_ = nullptr;  // set while armed and not yet resumed
};

inline Sleep sleep_until(Clock::time_point deadline) noexcept { return Sleep(deadline); }

namespace detail {

// `now + duration`, rounded up to the clock's tick, or the farthest time point the clock has when
// that would overflow: as in Tokio, a huge duration means "never", not a wrapped-around past.
template <class Rep, class Period>
Clock::time_point saturating_deadline(Clock::time_point now,
                                      std::chrono::duration<Rep, Period> duration) noexcept {
  using Duration = std::chrono::duration<Rep, Period>;
  // In `duration`'s own unit, so that the comparison itself cannot overflow.
  const auto room = std::chrono::duration_cast<Duration>(Clock::time_point::max() - now);
  if (duration >= room) return Clock::time_point::max();
  return now + std::chrono::ceil<Clock::duration>(duration);
}

}  // namespace detail

template <class Rep, class Period>
Sleep sleep(std::chrono::duration<Rep, Period> duration) noexcept {
  return Sleep(detail::saturating_deadline(Clock::now(), duration));
}

// Lets the other tasks queued on this worker run before this one continues.
class [[nodiscard]] YieldNow {
 public:
  YieldNow() noexcept = default;
  YieldNow(const YieldNow&) = delete;
  YieldNow& operator=(const YieldNow&) = delete;
  ~YieldNow();

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept;
  void await_resume() noexcept { armed_ = false; }

 private:
  detail::Waiter waiter_;
  bool armed_ = false;
};

inline YieldNow yield_now() noexcept { return {}; }

// A clock tests can pause (Tokio's test-util: tokio::time::pause, advance, resume). Current-thread
// flavor only, called from one of the runtime's tasks; misuse terminates with a message. While
// paused, Clock::now() stands still, and whenever the runtime has no task to run and no I/O event
// or wake-up is ready, the driver moves the clock straight to the next timer instead of sleeping
// (auto-advance): a one-hour sleep completes at once, and timers still fire in deadline order.
namespace time {

// Freezes the current runtime's clock (on a whole millisecond of the timer wheel).
void pause();
// Lets the clock run at the real rate again, from the instant it was left at.
void resume();

// Awaiting it moves the paused clock forward by `by`, fires every timer that became due (in
// deadline order) and lets the tasks they woke run before it completes. Timers due later than
// the new instant do not fire.
class [[nodiscard]] Advance {
 public:
  explicit Advance(Clock::duration by) noexcept : by_(by) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting);
  void await_resume() noexcept { yield_.await_resume(); }

 private:
  Clock::duration by_;
  YieldNow yield_;
};

template <class Rep, class Period>
Advance advance(std::chrono::duration<Rep, Period> by) noexcept {
  // Saturates like sleep(): an advance too large for the clock's unit goes as far as it can.
  const auto most = std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
      Clock::duration::max() - Clock::duration(1));
  if (by >= most) return Advance(Clock::duration::max());
  return Advance(std::chrono::ceil<Clock::duration>(by));
}

}  // namespace time

// What an Interval does when ticks were missed because the task was busy (as in Tokio).
enum class MissedTickBehavior {
  burst,  // fire the missed ticks back to back until caught up
  delay,  // the next tick is one period after the late one
  skip,   // skip to the next multiple of the period from the start
};

// Ticks every `period`; the first tick completes at once.
class Interval {
 public:
  explicit Interval(Clock::duration period,
                    MissedTickBehavior behavior = MissedTickBehavior::burst) noexcept;

  class [[nodiscard]] Tick {
   public:
    Tick(Interval& interval, Clock::time_point when) noexcept : interval_(interval), sleep_(when) {}
    bool await_ready() const noexcept { return sleep_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> awaiting) { return sleep_.await_suspend(awaiting); }
    // The instant this tick was scheduled for.
    Clock::time_point await_resume() noexcept;

   private:
    Interval& interval_;
    Sleep sleep_;
  };

  // Awaiting it completes at the next tick.
  Tick tick() noexcept { return Tick(*this, next_); }
  Clock::duration period() const noexcept { return period_; }

 private:
  Clock::time_point advance(Clock::time_point now) noexcept;

  Clock::duration period_;
  MissedTickBehavior behavior_;
  Clock::time_point next_;
};

template <class Rep, class Period>
Interval interval(std::chrono::duration<Rep, Period> period,
                  MissedTickBehavior behavior = MissedTickBehavior::burst) noexcept {
  return Interval(std::chrono::ceil<Clock::duration>(period), behavior);
}

}  // namespace brigade::runtime
