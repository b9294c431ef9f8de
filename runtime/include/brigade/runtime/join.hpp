#pragma once

#include <coroutine>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "brigade/runtime/detail/branch.hpp"

namespace brigade::runtime {

// Runs awaitables concurrently inside the current task, like Tokio's join!, and gives all their
// results. Unlike spawn(), nothing runs in parallel: the operands take turns on the task's thread
// whenever one of them waits, so they may share the task's locals without synchronisation, and
// one that blocks the thread blocks them all (use spawn or spawn_blocking for parallel work).
//
//   auto [user, prefs] = co_await join(load_user(id), load_prefs(id));
//
// Operands: a Task<T> (moved in: pass an rvalue), a JoinHandle<T>, a sleep, a channel receive, a
// nested join or select: anything co_await accepts. An rvalue operand is moved into the join. An
// lvalue is borrowed and must outlive the awaiting (awaiting the join at once ensures that); only
// an awaitable that makes its awaiter through operator co_await can be borrowed (a JoinHandle, a
// channel receiver), while an awaiter such as a Sleep must be moved in (see detail::Operand).
//
// Awaiting gives std::tuple<R0, R1, ...> in operand order, where Ri is what awaiting operand i
// gives (std::monostate for void). If operands throw, the join still waits for all of them, then
// rethrows the exception of the first to fail; the other results are dropped. Destroying a join
// that is being awaited (the task was aborted) cancels the operands still pending.
//
// The awaitable is movable until it is awaited; await it once.
template <class... Ops>
class [[nodiscard]] Join {
 public:
  using result_type = std::tuple<detail::BranchValue<Ops&&>...>;

  explicit Join(detail::Branch<detail::BranchValue<Ops&&>>... branches) noexcept
      : branches_(std::move(branches)...) {}
  Join(Join&& other) noexcept : branches_(std::move(other.branches_)) {}
  Join& operator=(Join&&) = delete;

  bool await_ready() const noexcept { return sizeof...(Ops) == 0; }

  bool await_suspend(std::coroutine_handle<> parent) noexcept {
    group_.begin_start(parent, sizeof...(Ops));
    std::apply(
        [this](auto&... branch) {
          std::size_t index = 0;
          (branch.start(group_, index++), ...);
        },
        branches_);
    return group_.end_start();
  }

  result_type await_resume() { return take(std::index_sequence_for<Ops...>{}); }

 private:
  template <std::size_t... I>
  result_type take(std::index_sequence<I...>) {
    if (group_.first_failure() != detail::BranchGroup::npos) {
      ((I == group_.first_failure() ? std::get<I>(branches_).rethrow_if_failed() : void()), ...);
    }
    result_type results{std::get<I>(branches_).take()...};
    (std::get<I>(branches_).reset(), ...);  // free the frames now, not at the end of the statement
    return results;
  }

  std::tuple<detail::Branch<detail::BranchValue<Ops&&>>...> branches_;
  detail::BranchGroup group_{detail::BranchGroup::Policy::all};
};

template <detail::Operand... Ops>
Join<Ops...> join(Ops&&... operands) {
  return Join<Ops...>(detail::make_branch<Ops>(std::forward<Ops>(operands))...);
}

// join() over a run-time number of operands of one type (Tokio's join_all): awaiting gives a
// std::vector of their results in operand order, or nothing (void) when the operands give void.
// Same rules as join(): all run concurrently inside the current task; if some throw, the first
// failure is rethrown once all have finished.
//
//   std::vector<Task<int>> tasks;
//   for (int i = 0; i < n; ++i) tasks.push_back(fetch(i));
//   std::vector<int> values = co_await join_all(std::move(tasks));
template <class Op>
class [[nodiscard]] JoinAll {
 public:
  using value_type = detail::AwaitResult<Op&&>;
  using result_type =
      std::conditional_t<std::is_void_v<value_type>, void, std::vector<detail::BranchValue<Op&&>>>;

  explicit JoinAll(std::vector<Op> operands) {
    branches_.reserve(operands.size());
    for (Op& operand : operands) branches_.push_back(detail::make_branch<Op>(std::move(operand)));
  }
  JoinAll(JoinAll&& other) noexcept : branches_(std::move(other.branches_)) {}
  JoinAll& operator=(JoinAll&&) = delete;

  bool await_ready() const noexcept { return branches_.empty(); }

  bool await_suspend(std::coroutine_handle<> parent) noexcept {
    group_.begin_start(parent, branches_.size());
    for (std::size_t i = 0; i < branches_.size(); ++i) branches_[i].start(group_, i);
    return group_.end_start();
  }

  result_type await_resume() {
    if (group_.first_failure() != detail::BranchGroup::npos) {
      branches_[group_.first_failure()].rethrow_if_failed();
    }
    if constexpr (std::is_void_v<result_type>) {
      branches_.clear();
    } else {
      result_type results;
      results.reserve(branches_.size());
      for (auto& branch : branches_) {
        results.push_back(branch.take());
        branch.reset();
      }
      return results;
    }
  }

 private:
  std::vector<detail::Branch<detail::BranchValue<Op&&>>> branches_;
  detail::BranchGroup group_{detail::BranchGroup::Policy::all};
};

template <detail::Operand Op>
JoinAll<Op> join_all(std::vector<Op> operands) {
  return JoinAll<Op>(std::move(operands));
}

}  // namespace brigade::runtime
