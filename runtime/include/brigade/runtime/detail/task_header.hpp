#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <source_location>

#include "brigade/runtime/detail/spin_lock.hpp"
#include "brigade/runtime/detail/sync_primitives.hpp"
#include "brigade/runtime/wait_reason.hpp"

namespace brigade::runtime::detail {

class TaskHeader;

// Task ids are unique for the life of the process, and increase in spawn order on each thread;
// a thread takes them this many at a time (so ids from two threads interleave by blocks).
inline constexpr std::uint64_t kTaskIdBlock = 64;

// A suspended coroutine waiting for something: a timer, a channel, another task.
//
// A Waiter lives inside an awaiter, so inside a coroutine frame. Two rules keep it from ever being
// touched after its frame is gone (detail::WaitList implements them for every resource with a
// list of waiters):
//  - a resource hands a Waiter back to its task with TaskHeader::wake() while it still holds the
//    resource's own lock (and unlinks it from the resource in the same critical section);
//  - an awaiter destroyed before it was resumed (its task was aborted, or it lost a select) first
//    unlinks its Waiter from the resource under that same lock, then calls TaskHeader::forget().
//
// A waiter may set `retry`: the task then calls it before resuming `handle`, and resumes only if
// it returns true. A socket operation uses it to make its system call once woken, and to wait
// again, without resuming anything, when the wake-up turns out to be spurious (Tokio's leaf
// futures do the same when polled). That keeps the operation a plain awaiter instead of a
// coroutine with a frame of its own.
struct Waiter {
  TaskHeader* task = nullptr;
  std::coroutine_handle<> handle;
  bool (*retry)(Waiter&) noexcept = nullptr;
  // The next waiter on the task's (circular) ready list; null when not on it. Guarded by the
  // task's lock.
  Waiter* ready_next = nullptr;
};

// One task-local value bound by TaskLocal::scope (or sync_scope): `value` is what `key` gives
// while the binding is in its task's chain. Bindings live in the scopes' frames; the chain runs
// from the innermost to the outermost.
struct TaskLocalBinding {
  const void* key = nullptr;
  void* value = nullptr;
  TaskLocalBinding* outer = nullptr;
};

// The task-local chain of the task running on this thread (null outside a task or scope). The
// run loop sets it from the task's own chain each time it runs the task, so values follow the
// task from worker to worker and never show in another task.
inline constinit thread_local TaskLocalBinding* current_task_locals = nullptr;

// What the scheduler does with tasks. Both the async scheduler and the blocking pool implement it.
class Scheduler {
 public:
  // Queues `task` to run; the caller hands over one reference.
  virtual void schedule(TaskHeader* task) noexcept = 0;
  // `task` has its outcome; called once, on the thread that completed it.
  virtual void task_completed(TaskHeader* task) noexcept = 0;

 protected:
  ~Scheduler() = default;
};

// The per-kind behaviour of a task (async coroutine or blocking closure), as function pointers so
// the header stays a standard-layout prefix of every task without a vtable per template instance.
struct TaskVTable {
  // Runs the task. Returns true when it yielded with work left and must be queued again (the
  // caller keeps its reference for that); false when the caller's reference can be dropped.
  bool (*run)(TaskHeader*) noexcept;
  // Frees the task's memory once the last reference is gone.
  void (*destroy)(TaskHeader*) noexcept;
  // A spawn_blocking closure: a task joining it waits on a blocking job, not on a task.
  bool blocking = false;
};

// The type-independent part of every task: reference count, scheduling state, the list of
// waiters whose events have happened (the "ready list"), and the join waiter.
//
// Scheduling state lives under a small per-task lock rather than in one atomic word as in Tokio:
// every transition is then a few plain lines, and the lock is never contended for longer than
// a list splice.
class TaskHeader {
 public:
  enum class State : std::uint8_t { idle, scheduled, running, complete };

  TaskHeader(const TaskVTable* vtable, Scheduler* scheduler, std::source_location spawned_at,
             std::uint32_t initial_refs) noexcept;
  TaskHeader(const TaskHeader&) = delete;
  TaskHeader& operator=(const TaskHeader&) = delete;

  void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref() noexcept;

  // Hands `w` back to this task and schedules the task if it is idle. Call it with the lock of
  // the resource that held `w`; `w` is not touched once the resource lock is released.
  void wake(Waiter& w) noexcept;
  // From the running task itself: queues `w` and sends the task to the back of the run queue, so
  // that others get a turn before `w` is resumed.
  void yield_now(Waiter& w) noexcept;
  // `w`'s awaiter is being destroyed without having been resumed: take it off the ready list.
  void forget(Waiter& w) noexcept;
  // Cancels the task at its next suspension point (or before it starts).
  void abort() noexcept;
  bool is_finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  // --- What a task dump shows of the task (task_dump.hpp) --------------------------------------
  // The running task records what it waits on as it suspends. Relaxed stores and no lock: the
  // dump reads the record under the task's lock and only while the task is idle, so after the
  // run that wrote it and before the next one.
  void set_wait(WaitReason reason, std::uint64_t detail = 0) noexcept {
    if ((wait_reason_.load(std::memory_order_relaxed) & kCombinedWait) != 0) return;
    wait_detail_.store(detail, std::memory_order_relaxed);
    wait_reason_.store(static_cast<std::uint8_t>(reason), std::memory_order_relaxed);
  }
  // select/join: the combinator is the reason for as long as it waits, whatever its operands
  // record meanwhile. Returns false, recording nothing, inside a combinator that already did.
  bool begin_combined_wait(WaitReason reason, std::size_t operands) noexcept {
    if ((wait_reason_.load(std::memory_order_relaxed) & kCombinedWait) != 0) return false;
    wait_detail_.store(operands, std::memory_order_relaxed);
    wait_reason_.store(static_cast<std::uint8_t>(reason) | kCombinedWait,
                       std::memory_order_relaxed);
    return true;
  }
  void end_combined_wait() noexcept {
    wait_reason_.store(static_cast<std::uint8_t>(WaitReason::none), std::memory_order_relaxed);
  }
  // The worker about to poll the task: counts the poll (the task runs on one worker at a time,
  // so a plain increment) and says where it runs.
  void note_poll(std::size_t worker) noexcept {
    polls_.store(polls_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    running_on_.store(worker < kUnknownWorker ? static_cast<std::uint8_t>(worker) : kUnknownWorker,
                      std::memory_order_relaxed);
  }
  static constexpr std::uint8_t kUnknownWorker = 0xFF;  // also: index 255 or above
  // The task as a dump sees it, read under the task's lock: the wait record while it is idle, the
  // worker while it runs. Call it with no resource lock held (the owned-tasks shard lock is fine:
  // never taken under this one).
  struct Observed {
    State state = State::idle;
    WaitReason wait = WaitReason::none;
    std::uint64_t wait_detail = 0;
    std::uint8_t worker = kUnknownWorker;
  };
  Observed observe() noexcept;
  std::uint32_t polls() const noexcept { return polls_.load(std::memory_order_relaxed); }
  // When the task was spawned, in milliseconds of the coarse poll clock, modulo 2^32 (49.7 days).
  std::uint32_t spawned_ms() const noexcept { return spawned_ms_; }
  bool is_blocking() const noexcept { return vtable_->blocking; }

  // The single join waiter. Returns false when the task has already finished.
  bool set_join_waiter(Waiter* w) noexcept;
  void clear_join_waiter(Waiter* w) noexcept;

  // The task's task-local chain: kept in a side table (task_local.cpp), not in the header, so
  // that tasks without task-locals pay nothing for them. Called by the task itself, or while
  // its frames are destroyed.
  void set_task_locals(TaskLocalBinding* innermost) noexcept;
  TaskLocalBinding* task_locals() const noexcept;

  bool run() noexcept { return vtable_->run(this); }
  std::uint64_t id() const noexcept { return id_; }
  const std::source_location& spawned_at() const noexcept { return spawned_at_; }
  Scheduler* scheduler() const noexcept { return scheduler_; }
  // What the task says it is doing (TaskAnnotation), or null. Written only by the task itself,
  // read by diagnostics on other threads.
  const char* annotation() const noexcept { return annotation_.load(std::memory_order_relaxed); }
  void set_annotation(const char* what) noexcept {
    annotation_.store(what, std::memory_order_relaxed);
  }

  // Intrusive links owned by whichever queue or list holds the task.
  TaskHeader* queue_next = nullptr;
  TaskHeader* owned_prev = nullptr;
  TaskHeader* owned_next = nullptr;

  // When the task was last made runnable (spawned, woken, yielded; a blocking closure: submitted),
  // in TickClock ticks: the schedule-delay and blocking-queue-wait histograms measure from here
  // to the start of its run. Written by whoever queues the task, read by whoever takes it from
  // the queue (the queue orders the two).
  std::uint64_t runnable_since = 0;

 protected:
  enum class RunResult : std::uint8_t { idle, yielded, finished, cancelled };

  // Resumes ready waiters of the coroutine rooted at `root` until none is left (idle), it used its
  // share of the worker (yielded), the root finished, or the task was aborted (cancelled).
  RunResult run_coroutine(std::coroutine_handle<> root) noexcept;
  // Marks the task complete after its outcome was stored: wakes the joiner, tells the scheduler.
  void complete() noexcept;
  // For blocking tasks: moves a queued task to running; false if it was aborted first.
  bool start_blocking() noexcept;
  // The first run resumes the root coroutine (a new task is scheduled without a waiter).
  void queue_start() noexcept;

  // Which outcome JoinState holds (0 while running). Kept here, in the header's padding, so that
  // the outcome itself needs no discriminant of its own.
  std::uint8_t outcome_tag_ = 0;
  // Task dump: the worker polling the task (see note_poll), in the padding.
  std::atomic<std::uint8_t> running_on_{kUnknownWorker};
  // For a cell whose root frame shares its allocation (SpawnedCell): the bytes in front of the
  // cell set aside for that frame, 0 when the cell was allocated alone. Also in the padding.
  std::uint16_t frame_room_ = 0;

 private:
  Waiter* pop_ready_locked() noexcept;
  void push_ready_locked(Waiter& w) noexcept;

  sync::Atomic<std::uint32_t> refs_;
  sync::Atomic<bool> finished_{false};
  SpinLock lock_;
  State state_ = State::scheduled;  // a new task is queued by its spawner
  bool cancel_requested_ = false;
  bool yield_requested_ = false;
  bool start_pending_ = false;    // the root has not run yet
  bool has_task_locals_ = false;  // the side table holds a chain for this task
  // Task dump: the last wait's reason, with kCombinedWait while a select or join holds it; in
  // the padding.
  static constexpr std::uint8_t kCombinedWait = 0x80;
  std::atomic<std::uint8_t> wait_reason_{0};
  // The ready list is circular through Waiter::ready_next, so the tail alone gives both ends.
  Waiter* ready_tail_ = nullptr;
  Waiter* join_waiter_ = nullptr;
  const TaskVTable* vtable_;
  Scheduler* scheduler_;
  std::uint64_t id_;
  std::source_location spawned_at_;
  std::atomic<const char*> annotation_{nullptr};
  // Task dump: the last wait's detail (a descriptor, a deadline, a task id, a count of operands),
  // the spawn time and the polls so far. 16 bytes.
  std::atomic<std::uint64_t> wait_detail_{0};
  const std::uint32_t spawned_ms_;
  std::atomic<std::uint32_t> polls_{0};
};

// The task being run on this thread, for awaiters that need to register a Waiter.
inline thread_local TaskHeader* current_task = nullptr;

// Returns the running task, or terminates with a message: awaiting a runtime awaitable outside a
// task (instead of inside block_on or a spawned task) is a programming error.
TaskHeader& expect_current_task() noexcept;

// From an awaiter's await_suspend: what the running task is about to wait on, for task dumps.
inline void record_wait(WaitReason reason, std::uint64_t detail = 0) noexcept {
  expect_current_task().set_wait(reason, detail);
}

}  // namespace brigade::runtime::detail
