#pragma once

#include <coroutine>
#include <cstdint>
#include <expected>
#include <utility>

#include "brigade/runtime/abort_handle.hpp"
#include "brigade/runtime/detail/misuse.hpp"
#include "brigade/runtime/detail/task_cell.hpp"
#include "brigade/runtime/join_error.hpp"

namespace brigade::runtime {

// Owned permission to await a task's outcome. Dropping it detaches the task (it runs on);
// abort() cancels it at its next suspension point. Awaiting gives the task's value, or a
// JoinError saying it was cancelled or panicked, and empties the handle.
//
// As in Tokio, it can be awaited until it completes, by one awaiter at a time: a select or
// timeout may borrow it and, if the other side wins, it can be awaited again. Awaiting it after
// it completed (or after it was moved from), or from two places at once, terminates with a
// message naming the misuse (Tokio panics), instead of hanging.
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
  // The task's id: never 0 (0 once the handle is empty), never reused in the process. Ids grow
  // in spawn order on each thread, not across threads (each takes them in blocks).
  std::uint64_t id() const noexcept { return state_ != nullptr ? state_->id() : 0; }
  // Aborts the task without this handle (which stays the only way to its outcome).
  AbortHandle abort_handle() const noexcept { return AbortHandle(state_); }

  class Awaiter {
   public:
    explicit Awaiter(JoinHandle& handle) noexcept : handle_(handle) {
      if (handle.state_ == nullptr) {
        detail::fail_misuse("a JoinHandle was awaited after it completed or was moved from");
      }
    }
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (registered_) {
        handle_.state_->clear_join_waiter(&waiter_);
        waiter_.task->forget(waiter_);
      }
    }

    bool await_ready() const noexcept { return handle_.state_->is_finished(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      waiter_.task = &detail::expect_current_task();
      waiter_.handle = awaiting;
      waiter_.task->set_wait(
          handle_.state_->is_blocking() ? WaitReason::blocking : WaitReason::join,
          handle_.state_->id());
      registered_ = handle_.state_->set_join_waiter(&waiter_);
      return registered_;
    }
    std::expected<T, JoinError> await_resume() {
      registered_ = false;
      std::expected<T, JoinError> outcome = handle_.state_->take_outcome();
      handle_.release();
      return outcome;
    }

   private:
    JoinHandle& handle_;
    detail::Waiter waiter_;
    bool registered_ = false;
  };

  Awaiter operator co_await() noexcept { return Awaiter(*this); }

 private:
  void release() noexcept {
    if (state_ != nullptr) std::exchange(state_, nullptr)->unref();
  }

  detail::JoinState<T>* state_ = nullptr;
};

}  // namespace brigade::runtime
