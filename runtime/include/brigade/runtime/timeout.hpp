#pragma once

#include <chrono>
#include <expected>
#include <type_traits>
#include <utility>

#include "brigade/runtime/detail/branch.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade/runtime/time.hpp"

namespace brigade::runtime {

// The error of timeout(): the deadline passed before the operation finished.
struct Elapsed {
  friend bool operator==(Elapsed, Elapsed) = default;
};

namespace detail {

// timeout() keeps its operation in the task it returns, which may outlive the caller's
// full-expression: rvalues only.
template <class Op>
concept OwnedOperand = Operand<Op> && !std::is_lvalue_reference_v<Op>;

template <class Op>
using TimeoutValue = std::conditional_t<std::is_void_v<AwaitResult<Op&&>>, void,
                                        std::remove_cvref_t<AwaitResult<Op&&>>>;

// Races the operand (first, so a tie goes to it, as in Tokio) against the timer.
template <class Op>
Task<std::expected<TimeoutValue<Op>, Elapsed>> run_with_deadline(Sleep deadline, Op operand) {
  auto outcome = co_await select(std::move(operand), std::move(deadline));
  if (outcome.index() == 1) co_return std::unexpected(Elapsed{});
  if constexpr (std::is_void_v<TimeoutValue<Op>>) {
    co_return std::expected<void, Elapsed>();
  } else {
    co_return std::move(std::get<0>(outcome));
  }
}

}  // namespace detail

// Awaits `operation` for at most `duration`, like tokio::time::timeout: gives its value, or
// Elapsed once the deadline passed first; the operation is then cancelled (its frame destroyed,
// its destructors run). An exception from the operation propagates. The operation runs inside
// the awaiting task (see select()), and is moved in: pass an rvalue (a Task<T>, a JoinHandle<T>,
// a channel receive, ...).
//
//   std::expected<Response, Elapsed> r = co_await timeout(2s, fetch(url));
//   if (!r) co_return gateway_timeout();
//
// The deadline is fixed when timeout() is called, not when the returned task first runs.
template <class Rep, class Period, detail::OwnedOperand Op>
Task<std::expected<detail::TimeoutValue<Op>, Elapsed>> timeout(
    std::chrono::duration<Rep, Period> duration, Op&& operation) {
  return detail::run_with_deadline<Op>(sleep(duration), std::move(operation));
}

// timeout() with an absolute deadline.
template <detail::OwnedOperand Op>
Task<std::expected<detail::TimeoutValue<Op>, Elapsed>> timeout_at(Clock::time_point deadline,
                                                                  Op&& operation) {
  return detail::run_with_deadline<Op>(sleep_until(deadline), std::move(operation));
}

}  // namespace brigade::runtime
