#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <limits>
#include <memory>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "brigade/runtime/detail/frame_allocator.hpp"
#include "brigade/runtime/detail/frame_room.hpp"
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

// What every spawned coroutine's cell does with its root Task: runs it, stores its outcome,
// destroys it. `Cell` (CRTP) says how the root frame is destroyed (drop_root) and freed.
template <class T, class Cell>
class CoroutineCell : public JoinState<T> {
 public:
  // References: the JoinHandle, the runtime's list of owned tasks, the run queue.
  static constexpr std::uint32_t kInitialRefs = 3;

  CoroutineCell(const TaskVTable* vtable, Scheduler* scheduler,
                std::source_location spawned_at) noexcept
      : JoinState<T>(vtable, scheduler, spawned_at, kInitialRefs) {}

 protected:
  using Root = std::coroutine_handle<TaskPromise<T>>;
  using Base = JoinState<T>;
  using RunResult = typename Base::RunResult;

  void start(Root root) noexcept {
    root_ = root;
    this->queue_start();
  }

  static bool run(TaskHeader* header) noexcept {
    auto* self = static_cast<Cell*>(header);
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
        self->drop_root();
        self->fail(JoinError::Kind::cancelled);
        break;
    }
    self->complete();
    return false;
  }

  Root root_;

 private:
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
    static_cast<Cell*>(this)->drop_root();
  }
};

// A spawned coroutine: the root Task's frame, allocated on its own, run by the scheduler.
template <class T>
class TaskCell final : public CoroutineCell<T, TaskCell<T>> {
 public:
  TaskCell(Task<T>&& task, Scheduler* scheduler, std::source_location spawned_at) noexcept
      : CoroutineCell<T, TaskCell>(&kVTable, scheduler, spawned_at) {
    this->start(task.release());
  }
  TaskCell(const TaskCell&) = delete;
  TaskCell& operator=(const TaskCell&) = delete;
  ~TaskCell() {
    if (this->root_) drop_root();  // never finished: the runtime dropped it at shutdown
  }

 private:
  friend CoroutineCell<T, TaskCell>;

  void drop_root() noexcept { std::exchange(this->root_, {}).destroy(); }

  static void destroy(TaskHeader* header) noexcept { free_cell(static_cast<TaskCell*>(header)); }

  static constexpr TaskVTable kVTable{&TaskCell::run, &TaskCell::destroy};
};

// How a SpawnedCell keeps its callable: a lambda coroutine's captures live in the lambda object,
// which its frame only points to, so the object must last as long as the frame. Constructed with
// the cell and destroyed by hand together with the frame, so that the captures are released as
// soon as the task ends.
template <class Fn, bool kEmpty = std::is_empty_v<Fn> && std::is_trivially_destructible_v<Fn>>
class KeptCallable {
 public:
  template <class F>
  explicit KeptCallable(F&& fn) : fn_(std::forward<F>(fn)) {}
  KeptCallable(const KeptCallable&) = delete;
  KeptCallable& operator=(const KeptCallable&) = delete;
  ~KeptCallable() {}

  Fn& get() noexcept { return fn_; }
  void destroy() noexcept { std::destroy_at(&fn_); }

 private:
  union {
    Fn fn_;
  };
};

// A captureless lambda: nothing to keep, and no byte of the cell spent on it.
template <class Fn>
class KeptCallable<Fn, true> {
 public:
  template <class F>
  explicit KeptCallable(F&& fn) : fn_(std::forward<F>(fn)) {}

  Fn& get() noexcept { return fn_; }
  void destroy() noexcept {}

 private:
  [[no_unique_address]] Fn fn_;
};

// A plain function: it has no state, so the cell need not keep even the pointer.
struct NoCallable {
  void destroy() noexcept {}
};

template <class Fn>
using KeptCallableFor =
    std::conditional_t<std::is_pointer_v<Fn>, NoCallable, KeptCallable<Fn>>;

// A task made by spawn(fn, args...): one allocation holds the root coroutine frame and, right
// behind it, the cell (which keeps `fn` while the frame exists).
//
// The frame's size is known only once `fn` has been invoked, and the cell has to exist before
// that (it holds `fn`); so the room for the frame is sized by what the same kind of spawn needed
// last time (a coroutine's frame has a fixed size), and the frame takes it through FrameRoom.
// The first spawn of a kind, a frame larger than its room or one above 64 KiB gets a frame of its
// own, as a TaskCell does.
template <class T, class Kept>
class SpawnedCell final : public CoroutineCell<T, SpawnedCell<T, Kept>> {
 public:
  static constexpr std::size_t kMaxRoom = std::numeric_limits<std::uint16_t>::max() /
                                          alignof(SpawnedCell) * alignof(SpawnedCell);

  // Allocates room for a frame of up to `frame_bytes` (0 for none) and the cell behind it.
  template <class... KeptArgs>
  static SpawnedCell* make(std::size_t frame_bytes, Scheduler* scheduler,
                           std::source_location spawned_at, KeptArgs&&... kept) {
    static_assert(alignof(SpawnedCell) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    const std::size_t room = frame_bytes > kMaxRoom ? 0 : round_up(frame_bytes);
    auto* block = static_cast<std::byte*>(allocate_frame(room + sizeof(SpawnedCell)));
    try {
      auto* cell = std::construct_at(reinterpret_cast<SpawnedCell*>(block + room), scheduler,
                                     spawned_at, std::forward<KeptArgs>(kept)...);
      cell->frame_room_ = static_cast<std::uint16_t>(room);
      return cell;
    } catch (...) {
      deallocate_frame(block, room + sizeof(SpawnedCell));
      throw;
    }
  }

  SpawnedCell(const SpawnedCell&) = delete;
  SpawnedCell& operator=(const SpawnedCell&) = delete;
  ~SpawnedCell() {
    if (this->root_) drop_root();  // never finished: the runtime dropped it at shutdown
  }

  FrameRoom room() noexcept { return {.memory = block(), .capacity = this->frame_room_}; }
  Kept& kept() noexcept { return kept_; }

  // Takes the root `fn` returned and queues its start.
  void start_root(Task<T>&& task) noexcept { this->start(task.release()); }

  // `fn` could not be invoked: frees the cell, which never became a task.
  void discard() noexcept {
    kept_.destroy();
    free_cell(this);
  }

  // The constructor is public for std::construct_at only; make() is the way in.
  template <class... KeptArgs>
  SpawnedCell(Scheduler* scheduler, std::source_location spawned_at, KeptArgs&&... kept)
      : CoroutineCell<T, SpawnedCell>(&kVTable, scheduler, spawned_at),
        kept_(std::forward<KeptArgs>(kept)...) {}

 private:
  friend CoroutineCell<T, SpawnedCell>;

  static constexpr std::size_t round_up(std::size_t bytes) noexcept {
    return (bytes + alignof(SpawnedCell) - 1) / alignof(SpawnedCell) * alignof(SpawnedCell);
  }

  std::byte* block() noexcept { return reinterpret_cast<std::byte*>(this) - this->frame_room_; }

  // The frame goes first (it may refer to the callable), then the callable.
  void drop_root() noexcept {
    auto root = std::exchange(this->root_, {});
    if (this->frame_room_ != 0 && root.address() == block()) {
      void* outer = std::exchange(frame_kept_by_cell, root.address());
      root.destroy();
      frame_kept_by_cell = outer;
    } else {
      root.destroy();
    }
    kept_.destroy();
  }

  static void free_cell(SpawnedCell* cell) noexcept {
    std::byte* block = cell->block();
    const std::size_t bytes = cell->frame_room_ + sizeof(SpawnedCell);
    std::destroy_at(cell);
    deallocate_frame(block, bytes);
  }

  static void destroy(TaskHeader* header) noexcept {
    free_cell(static_cast<SpawnedCell*>(header));
  }

  static constexpr TaskVTable kVTable{&SpawnedCell::run, &SpawnedCell::destroy};

  [[no_unique_address]] Kept kept_;
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

  static constexpr TaskVTable kVTable{&BlockingCell::run, &BlockingCell::destroy, true};

  std::optional<F> fn_;
};

}  // namespace brigade::runtime::detail
