#pragma once

#include <chrono>
#include <coroutine>

#include "brigade/runtime/detail/context.hpp"
#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/detail/timer_node.hpp"

namespace brigade::runtime {

using Clock = std::chrono::steady_clock;

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
