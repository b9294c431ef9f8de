#include "brigade/runtime/time.hpp"

#include "brigade/runtime/detail/misuse.hpp"
#include "runtime_core.hpp"

namespace brigade::runtime {

namespace detail {

Clock::time_point detached_clock_now() noexcept {
  RuntimeCore* core = current_runtime();
  if (core == nullptr) return std::chrono::steady_clock::now();
  return core->driver().clock().now();
}

}  // namespace detail

Sleep::Sleep(Clock::time_point deadline) noexcept { node_.when = deadline; }

Sleep::Sleep(Sleep&& other) noexcept { node_.when = other.node_.when; }

Sleep::~Sleep() {
  if (core_ == nullptr) return;
  // Cancelled while waiting: disarm under the wheel's lock, which also orders us after a firing
  // that already handed the waiter to the task; then take it back from the task.
  core_->driver().cancel_timer(node_);
  node_.waiter.task->forget(node_.waiter);
}

bool Sleep::await_ready() const noexcept { return Clock::now() >= node_.when; }

bool Sleep::await_suspend(std::coroutine_handle<> awaiting) {
  core_ = &detail::expect_current_runtime();
  node_.waiter.task = &detail::expect_current_task();
  node_.waiter.handle = awaiting;
  node_.waiter.task->set_wait(WaitReason::timer,
                              static_cast<std::uint64_t>(node_.when.time_since_epoch().count()));
  core_->driver().add_timer(node_);
  return true;
}

YieldNow::~YieldNow() {
  if (armed_) waiter_.task->forget(waiter_);
}

void YieldNow::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  waiter_.task = &detail::expect_current_task();
  waiter_.handle = awaiting;
  armed_ = true;
  waiter_.task->yield_now(waiter_);
}

namespace time {
namespace {

detail::RuntimeCore& expect_pausable_runtime(const char* what) {
  detail::RuntimeCore& core = detail::expect_current_runtime();
  if (core.flavor() != RuntimeOptions::Flavor::current_thread) detail::fail_misuse(what);
  return core;
}

}  // namespace

void pause() {
  expect_pausable_runtime(
      "time::pause needs a current-thread runtime (on the multi-thread flavor, workers would "
      "auto-advance the clock while others still have work)")
      .driver()
      .clock()
      .pause();
}

void resume() {
  expect_pausable_runtime("time::resume needs a current-thread runtime").driver().clock().resume();
}

void Advance::await_suspend(std::coroutine_handle<> awaiting) {
  detail::RuntimeCore& core =
      expect_pausable_runtime("time::advance needs a current-thread runtime");
  // The woken tasks queue in deadline order, as when the driver fires them; this task then
  // yields behind them, so they have run by the time it continues.
  core.scheduler().wake_as_driver([&] { core.driver().advance_clock(by_); });
  yield_.await_suspend(awaiting);
}

}  // namespace time

Interval::Interval(Clock::duration period, MissedTickBehavior behavior) noexcept
    : period_(period), behavior_(behavior), next_(Clock::now()) {
  // Every tick would be due at once, for ever (Tokio panics too).
  if (period <= Clock::duration::zero()) {
    detail::fail_misuse("an Interval with a zero period never waits");
  }
}

Clock::time_point Interval::Tick::await_resume() noexcept {
  sleep_.await_resume();
  return interval_.advance(Clock::now());
}

Clock::time_point Interval::advance(Clock::time_point now) noexcept {
  // As in Tokio, a tick counts as missed only when it is taken more than this late; wake-up
  // latency below it must not move the schedule.
  constexpr auto kLateAfter = std::chrono::milliseconds(5);
  const Clock::time_point scheduled = next_;
  next_ = scheduled + period_;
  if (now <= scheduled + kLateAfter) return scheduled;
  switch (behavior_) {
    case MissedTickBehavior::burst:
      break;
    case MissedTickBehavior::delay:
      next_ = now + period_;
      break;
    case MissedTickBehavior::skip: {
      const auto missed = (now - scheduled) / period_;
      next_ = scheduled + (missed + 1) * period_;
      break;
    }
  }
  return scheduled;
}

}  // namespace brigade::runtime
