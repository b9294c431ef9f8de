#pragma once

#include <atomic>
#include <coroutine>
#include <memory>
#include <mutex>
#include <vector>

#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime {

// Cooperative cancellation shared by many tasks, like tokio_util's CancellationToken: one side
// calls cancel(), every task awaiting cancelled() wakes, and every token derived from it with
// child_token() is cancelled too (a child's cancel() leaves its parent alone).
//
//   auto next = co_await select(listener.accept(), token.cancelled());
//   if (next.index() == 1) co_return;  // shutting down
//
// Copies share one state; thread-safe.
class CancellationToken {
  struct State;

 public:
  CancellationToken();

  // Cancelled when this token is (at once if it already is); cancelling it does not touch this.
  CancellationToken child_token() const;
  void cancel() const noexcept;
  bool is_cancelled() const noexcept;

  // Awaiter of cancelled(): completes once the token is cancelled. It keeps the token's state
  // alive, so it may outlive the token it came from. Destroyed while it waits (abort, select),
  // it leaves the waiters' list. Movable until awaited.
  class [[nodiscard]] Cancelled {
   public:
    Cancelled(Cancelled&& other) noexcept;
    Cancelled(const Cancelled&) = delete;
    Cancelled& operator=(const Cancelled&) = delete;
    Cancelled& operator=(Cancelled&&) = delete;
    ~Cancelled();

    bool await_ready() const noexcept;
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
    void await_resume() noexcept { suspended_ = false; }

   private:
    friend class CancellationToken;
    explicit Cancelled(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

    std::shared_ptr<State> state_;
    detail::WaitNode node_;
    bool suspended_ = false;  // in the waiters' list or woken, and not resumed yet
  };
  Cancelled cancelled() const noexcept { return Cancelled(state_); }

 private:
  explicit CancellationToken(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<State> state_;
};

}  // namespace brigade::runtime
