#pragma once

#include <coroutine>
#include <cstddef>
#include <tuple>
#include <utility>
#include <variant>

#include "brigade/runtime/detail/branch.hpp"

namespace brigade::runtime {

// Waits for the first of several awaitables inside the current task and cancels the rest, like
// Tokio's select!. Awaiting gives std::variant<R0, R1, ...> holding the winner's result at the
// winner's index (Ri is what awaiting operand i gives, std::monostate for void; equal types are
// fine: look at index()). If the winner threw, its exception is rethrown.
//
//   auto next = co_await select(listener.accept(), shutdown.changed());
//   if (next.index() == 1) co_return;  // draining
//   auto stream = std::get<0>(std::move(next));
//
// Operands are started in order, each running until it first waits, and the first to finish
// wins: biased, like `select! { biased; ... }`. An operand that finishes at once wins before
// the later ones are even started (they are dropped unstarted). When the winner is known, the
// losers are cancelled before the awaiting coroutine goes on: their frames are destroyed, which
// runs their destructors (RAII guards, awaiters leaving wait queues), exactly as if their task
// had been aborted at that point. So a loser must tolerate being cancelled where it waits: a
// channel receive leaves any value in the channel; a dropped JoinHandle operand detaches its
// task (the task itself is not aborted). Operands are taken like join()'s: rvalues are moved in,
// lvalues are borrowed (handy for a receiver awaited in a loop).
//
// The awaitable is movable until it is awaited; await it once.
template <class... Ops>
class [[nodiscard]] Select {
  static_assert(sizeof...(Ops) > 0, "select() needs at least one operand");

 public:
  using result_type = std::variant<detail::BranchValue<Ops&&>...>;

  explicit Select(detail::Branch<detail::BranchValue<Ops&&>>... branches) noexcept
      : branches_(std::move(branches)...) {}
  Select(Select&& other) noexcept : branches_(std::move(other.branches_)) {}
  Select& operator=(Select&&) = delete;

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> parent) noexcept {
    group_.begin_start(parent, sizeof...(Ops));
    std::apply(
        [this](auto&... branch) {
          std::size_t index = 0;
          // Stops at the first branch that finishes while starting: the rest stay unstarted.
          ((branch.start(group_, index++), !group_.done()) && ...);
        },
        branches_);
    return group_.end_start();
  }

  result_type await_resume() {
    cancel_losers(std::index_sequence_for<Ops...>{});
    return take_winner<0>();
  }

 private:
  template <std::size_t... I>
  void cancel_losers(std::index_sequence<I...>) noexcept {
    ((I != group_.winner() ? std::get<I>(branches_).reset() : void()), ...);
  }

  template <std::size_t I>
  result_type take_winner() {
    if constexpr (I + 1 < sizeof...(Ops)) {
      if (I != group_.winner()) return take_winner<I + 1>();
    }
    return result_type(std::in_place_index<I>, std::get<I>(branches_).take());
  }

  std::tuple<detail::Branch<detail::BranchValue<Ops&&>>...> branches_;
  detail::BranchGroup group_{detail::BranchGroup::Policy::first};
};

template <detail::Operand First, detail::Operand... Rest>
Select<First, Rest...> select(First&& first, Rest&&... rest) {
  return Select<First, Rest...>(detail::make_branch<First>(std::forward<First>(first)),
                                detail::make_branch<Rest>(std::forward<Rest>(rest))...);
}

}  // namespace brigade::runtime
