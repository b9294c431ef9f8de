#pragma once

#include <coroutine>

#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime {
namespace detail::coop {

// Operations a task may complete without suspending (a read that finds data, a receive that
// finds a message) before it must yield: one connection that always has data cannot then starve
// the others on its worker. Tokio uses the same figure.
constexpr int kTaskBudget = 128;
constexpr int kUnconstrained = -1;

// The running task's remaining budget; reset each time the scheduler runs a task.
inline thread_local int budget = kUnconstrained;

inline bool try_consume() noexcept {
  if (budget == kUnconstrained) return true;
  if (budget == 0) return false;
  --budget;
  return true;
}

// Counts a forced yield in the current runtime's metrics.
void count_forced_yield() noexcept;

}  // namespace detail::coop

// Completes at once while the task has budget left, and otherwise yields to the other tasks of
// the worker first. Awaited by every operation that can complete without waiting.
class [[nodiscard]] ConsumeBudget {
 public:
  ConsumeBudget() noexcept = default;
  ConsumeBudget(const ConsumeBudget&) = delete;
  ConsumeBudget& operator=(const ConsumeBudget&) = delete;
  ~ConsumeBudget() {
    if (armed_) waiter_.task->forget(waiter_);
  }

  bool await_ready() const noexcept { return detail::coop::try_consume(); }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    detail::coop::count_forced_yield();
    waiter_.task = &detail::expect_current_task();
    waiter_.handle = awaiting;
    armed_ = true;
    waiter_.task->yield_now(waiter_);
  }
  void await_resume() noexcept { armed_ = false; }

 private:
  detail::Waiter waiter_;
  bool armed_ = false;
};

inline ConsumeBudget consume_budget() noexcept { return {}; }

}  // namespace brigade::runtime
