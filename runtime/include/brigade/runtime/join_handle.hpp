#pragma once

#include <coroutine>
#include <cstdint>
#include <expected>
#include <utility>

#include "brigade/runtime/detail/task_cell.hpp"
#include "brigade/runtime/join_error.hpp"

namespace brigade::runtime {

// Owned permission to await a task's outcome. Dropping it detaches the task (it runs on);
// abort() cancels it at its next suspension point. Awaiting gives the task's value, or a
// JoinError saying it was cancelled or panicked. Await it once.
template <class T>
class [[nodiscard]] JoinHandle {
 public:
  JoinHandle() noexcept = default;
  explicit JoinHandle(detail::JoinState<T>* state) noexcept : state_(state) {}
  JoinHandle(JoinHandle&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      release();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  ~JoinHandle() { release(); }

  void abort() const noexcept {
    if (state_ != nullptr) state_->abort();
  }
  bool is_finished() const noexcept { return state_ == nullptr || state_->is_finished(); }
  std::uint64_t id() const noexcept { return state_ != nullptr ? state_->id() : 0; }

  class Awaiter {
   public:
    explicit Awaiter(detail::JoinState<T>* state) noexcept : state_(state) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (registered_) {
        state_->clear_join_waiter(&waiter_);
        waiter_.task->forget(waiter_);
      }
    }

    bool await_ready() const noexcept { return state_->is_finished(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      waiter_.task = &detail::expect_current_task();
      waiter_.handle = awaiting;
      registered_ = state_->set_join_waiter(&waiter_);
      return registered_;
    }
    std::expected<T, JoinError> await_resume() {
      registered_ = false;
      return state_->take_outcome();
    }

   private:
    detail::JoinState<T>* state_;
    detail::Waiter waiter_;
    bool registered_ = false;
  };

  Awaiter operator co_await() const noexcept { return Awaiter(state_); }

 private:
  void release() noexcept {
    if (state_ != nullptr) std::exchange(state_, nullptr)->unref();
  }

  detail::JoinState<T>* state_ = nullptr;
};

}  // namespace brigade::runtime
