#pragma once

#include <coroutine>
#include <expected>
#include <memory>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "brigade/runtime/detail/frame_allocator.hpp"
#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/join_error.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime::detail {

// A task's header plus the slot its JoinHandle reads the outcome from.
//
// The slot is a bare union whose active member the header's outcome tag names: for a task
// returning void it is one exception_ptr. What a JoinError adds to a failure (task id, spawn
// site) is in the header already, so the error is built only when the handle takes the outcome.
template <class T>
class JoinState : public TaskHeader {
 public:
  using TaskHeader::TaskHeader;
  JoinState(const JoinState&) = delete;
  JoinState& operator=(const JoinState&) = delete;
  ~JoinState() {
    if constexpr (!std::is_void_v<T>) {
      if (outcome_tag_ == kValue) std::destroy_at(&slot_.value);
    }
    if (outcome_tag_ == kPanicked) std::destroy_at(&slot_.panic);
  }

  // Once, after is_finished() (the lock or the acquire in is_finished orders it after the write).
  std::expected<T, JoinError> take_outcome() {
    switch (outcome_tag_) {
      case kValue:
        if constexpr (std::is_void_v<T>) {
          return {};
        } else {
          return std::move(slot_.value);
        }
      case kPanicked:
        return failure(JoinError::Kind::panicked, std::move(slot_.panic));
      case kRejected:
        return failure(JoinError::Kind::rejected);
      default:
        return failure(JoinError::Kind::cancelled);
    }
  }

 protected:
  template <class... Args>
  void succeed(Args&&... value) {
    if constexpr (!std::is_void_v<T>) std::construct_at(&slot_.value, std::forward<Args>(value)...);
    outcome_tag_ = kValue;
  }
  void fail(JoinError::Kind kind) noexcept {
    outcome_tag_ = kind == JoinError::Kind::rejected ? kRejected : kCancelled;
  }
  void panic(std::exception_ptr exception) noexcept {
    std::construct_at(&slot_.panic, std::move(exception));
    outcome_tag_ = kPanicked;
  }

 private:
  enum : std::uint8_t { kRunning, kValue, kCancelled, kPanicked, kRejected };

  std::unexpected<JoinError> failure(JoinError::Kind kind, std::exception_ptr panic = nullptr) {
    return std::unexpected(JoinError(kind, id(), spawned_at(), std::move(panic)));
  }

  struct Empty {};
  union Slot {
    Slot() noexcept {}
    ~Slot() {}
    std::conditional_t<std::is_void_v<T>, Empty, T> value;
    std::exception_ptr panic;
  } slot_;
};

template <class Cell>
void free_cell(Cell* cell) noexcept {
  std::destroy_at(cell);
  deallocate_frame(cell, sizeof(Cell));
}

template <class Cell, class... Args>
Cell* make_cell(Args&&... args) {
  static_assert(alignof(Cell) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  void* memory = allocate_frame(sizeof(Cell));
  try {
    return std::construct_at(static_cast<Cell*>(memory), std::forward<Args>(args)...);
  } catch (...) {
    deallocate_frame(memory, sizeof(Cell));
    throw;
  }
}

// A spawned coroutine: the root Task's frame, run by the scheduler.
template <class T>
class TaskCell final : public JoinState<T> {
 public:
  // References: the JoinHandle, the runtime's list of owned tasks, the run queue.
  static constexpr std::uint32_t kInitialRefs = 3;

  TaskCell(Task<T>&& task, Scheduler* scheduler, std::source_location spawned_at) noexcept
      : JoinState<T>(&kVTable, scheduler, spawned_at, kInitialRefs), root_(task.release()) {
    this->queue_start();
  }
  TaskCell(const TaskCell&) = delete;
  TaskCell& operator=(const TaskCell&) = delete;
  ~TaskCell() {
    if (root_) root_.destroy();  // never finished: the runtime dropped it at shutdown
  }

 private:
  using Base = JoinState<T>;
  using RunResult = typename Base::RunResult;

  static bool run(TaskHeader* header) noexcept {
    auto* self = static_cast<TaskCell*>(header);
    switch (self->run_coroutine(self->root_)) {
      case RunResult::idle:
        return false;
      case RunResult::yielded:
        return true;
      case RunResult::finished:
        self->store_result();
        break;
      case RunResult::cancelled:
        // Destroying the frames runs every destructor on the await chain: awaiters deregister
        // their waiters, locals release what they hold.
        std::exchange(self->root_, {}).destroy();
        self->fail(JoinError::Kind::cancelled);
        break;
    }
    self->complete();
    return false;
  }

  void store_result() noexcept {
    try {
      if constexpr (std::is_void_v<T>) {
        root_.promise().take();
        this->succeed();
      } else {
        this->succeed(root_.promise().take());
      }
    } catch (...) {
      this->panic(std::current_exception());
    }
    std::exchange(root_, {}).destroy();
  }

  static void destroy(TaskHeader* header) noexcept { free_cell(static_cast<TaskCell*>(header)); }

  static constexpr TaskVTable kVTable{&TaskCell::run, &TaskCell::destroy};

  std::coroutine_handle<TaskPromise<T>> root_;
};

// A closure for the blocking pool.
template <class T, class F>
class BlockingCell final : public JoinState<T> {
 public:
  // References: the JoinHandle, the blocking pool's queue.
  static constexpr std::uint32_t kInitialRefs = 2;

  BlockingCell(F&& fn, Scheduler* pool, std::source_location spawned_at)
      : JoinState<T>(&kVTable, pool, spawned_at, kInitialRefs), fn_(std::move(fn)) {}

  // The pool refused the closure: finish at once so the handle reports it.
  void reject() noexcept {
    fn_.reset();
    this->fail(JoinError::Kind::rejected);
    this->complete();
  }

 private:
  static bool run(TaskHeader* header) noexcept {
    auto* self = static_cast<BlockingCell*>(header);
    if (!self->start_blocking()) {
      self->fail(JoinError::Kind::cancelled);
    } else {
      try {
        if constexpr (std::is_void_v<T>) {
          (*self->fn_)();
          self->succeed();
        } else {
          self->succeed((*self->fn_)());
        }
      } catch (...) {
        self->panic(std::current_exception());
      }
    }
    self->fn_.reset();  // release captures now, not when the last handle goes
    self->complete();
    return false;
  }

  static void destroy(TaskHeader* header) noexcept {
    free_cell(static_cast<BlockingCell*>(header));
  }

  static constexpr TaskVTable kVTable{&BlockingCell::run, &BlockingCell::destroy};

  std::optional<F> fn_;
};

}  // namespace brigade::runtime::detail
