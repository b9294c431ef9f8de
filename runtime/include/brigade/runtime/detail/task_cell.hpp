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
template <class T>
class JoinState : public TaskHeader {
 public:
  using TaskHeader::TaskHeader;

  // Once, after is_finished() (the lock or the acquire in is_finished orders it after the write).
  std::expected<T, JoinError> take_outcome() {
    auto& outcome = *outcome_;
    if (!outcome) {
      return std::unexpected(
          JoinError(outcome.error().kind, id(), spawned_at(), std::move(outcome.error().panic)));
    }
    if constexpr (std::is_void_v<T>) {
      return {};
    } else {
      return std::move(*outcome);
    }
  }

 protected:
  void fail(JoinError::Kind kind, std::exception_ptr panic = nullptr) noexcept {
    outcome_.emplace(std::unexpect, Failure{kind, std::move(panic)});
  }

  // What a JoinError adds to this is in the header already (task id, spawn site): it is built
  // when the handle takes the outcome, which keeps every task cell smaller.
  struct Failure {
    JoinError::Kind kind;
    std::exception_ptr panic;
  };
  std::optional<std::expected<T, Failure>> outcome_;
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
        this->outcome_.emplace();
      } else {
        this->outcome_.emplace(std::in_place, root_.promise().take());
      }
    } catch (...) {
      this->fail(JoinError::Kind::panicked, std::current_exception());
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
          self->outcome_.emplace();
        } else {
          self->outcome_.emplace(std::in_place, (*self->fn_)());
        }
      } catch (...) {
        self->fail(JoinError::Kind::panicked, std::current_exception());
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
