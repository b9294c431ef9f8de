// A task's scheduling state: who may move it, in which order, and why no wake-up is lost and no
// task runs twice at once or is freed twice.
//
// Under the task's lock live `state_` (idle, scheduled, running, complete), the ready list of
// waiters whose events have happened, the cancel and yield requests, and the join waiter.
//  - Any thread may wake(), abort() or yield_now(). Each records what happened on the task (a
//    waiter on the ready list, the cancel flag) and, only when it finds the task idle, makes it
//    scheduled and queues it, with a reference for the queue. A task that is scheduled or running
//    is not queued again: its run loop looks at the ready list and the cancel flag, under the
//    same lock, before it decides to stop, so what was recorded is seen either way.
//  - Only the thread that took the task off a run queue runs it. run_coroutine takes the next
//    waiter (or the first start) under the lock and resumes it outside it; it sets the task idle
//    only in the same critical section that found the ready list empty, so a wake-up after that
//    finds it idle and queues it again (run exactly once per wake-up that found it idle).
//  - complete() sets complete under the lock, drops the ready list and hands the join waiter, if
//    any, to its own task with wake(); set_join_waiter refuses once the task is complete, so the
//    joiner either registers before completion (and is woken, once) or sees the outcome at once.
//    wake() and abort() on a complete task do nothing.
//  - The references (the handle's, the owner list's, one per queued run) are counted in
//    `refs_`; whoever drops the last one frees the cell, exactly once.
// tests/model/task_state_model_test.cpp checks this under every interleaving of a worker, a
// waker, an aborter and a joiner.
#include "brigade/runtime/detail/task_header.hpp"

#include <cstdio>
#include <exception>
#include <mutex>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/misuse.hpp"
#include "brigade/runtime/detail/poll_clock.hpp"

namespace brigade::runtime::detail {
namespace {

// Ids start at 1 so that 0 can mean "no task" in diagnostics. A thread takes them in blocks of
// kTaskIdBlock: one shared increment per block instead of one per spawn (a locked instruction on a
// line every spawning core pulls), and the tasks a thread spawns share an owned-list shard.
std::atomic<std::uint64_t> next_id_block{1};
constinit thread_local std::uint64_t next_id = 0;
constinit thread_local std::uint64_t id_block_end = 0;

std::uint64_t take_task_id() noexcept {
  if (next_id == id_block_end) [[unlikely]] {
    next_id = next_id_block.fetch_add(kTaskIdBlock, std::memory_order_relaxed);
    id_block_end = next_id + kTaskIdBlock;
  }
  return next_id++;
}

// A task resumed this many times in one run goes to the back of the queue, so that a task woken
// over and over (a ping-pong partner on the same worker) cannot monopolise its worker.
constexpr unsigned kMaxResumesPerRun = 64;

}  // namespace

TaskHeader::TaskHeader(const TaskVTable* vtable, Scheduler* scheduler,
                       std::source_location spawned_at, std::uint32_t initial_refs) noexcept
    : refs_(initial_refs),
      vtable_(vtable),
      scheduler_(scheduler),
      id_(take_task_id()),
      spawned_at_(spawned_at),
      // The coarse clock, as the running poll read it when it started (a spawn inside a task
      // reads none). Modulo 2^32 ms, so an age is exact below 49.7 days.
      spawned_ms_(static_cast<std::uint32_t>(poll_or_clock_ns() / 1'000'000)) {}

void TaskHeader::unref() noexcept {
  // acq_rel: the thread that frees the task must see every write made under other references.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) vtable_->destroy(this);
}

void TaskHeader::wake(Waiter& w) noexcept {
  {
    std::lock_guard guard(lock_);
    if (state_ == State::complete || w.ready_next != nullptr) return;
    push_ready_locked(w);
    if (state_ != State::idle) return;  // queued or running: the run loop will see `w`
    state_ = State::scheduled;
  }
  ref();  // the run queue's reference
  scheduler_->schedule(this);
}

void TaskHeader::yield_now(Waiter& w) noexcept {
  std::lock_guard guard(lock_);
  push_ready_locked(w);
  yield_requested_ = true;
}

void TaskHeader::push_ready_locked(Waiter& w) noexcept {
  if (ready_tail_ == nullptr) {
    w.ready_next = &w;
  } else {
    w.ready_next = ready_tail_->ready_next;
    ready_tail_->ready_next = &w;
  }
  ready_tail_ = &w;
}

void TaskHeader::forget(Waiter& w) noexcept {
  std::lock_guard guard(lock_);
  // A completed task has dropped its list (its waiters' awaiters are gone by then anyway).
  if (w.ready_next == nullptr || ready_tail_ == nullptr) return;
  Waiter* prev = ready_tail_;
  while (prev->ready_next != &w) prev = prev->ready_next;  // `w` is on the list: this ends
  if (prev == &w) {
    ready_tail_ = nullptr;  // it was the only one
  } else {
    prev->ready_next = w.ready_next;
    if (ready_tail_ == &w) ready_tail_ = prev;
  }
  w.ready_next = nullptr;
}

void TaskHeader::abort() noexcept {
  {
    std::lock_guard guard(lock_);
    if (state_ == State::complete || cancel_requested_) return;
    cancel_requested_ = true;
    if (state_ != State::idle) return;  // the run loop checks the flag before each resume
    state_ = State::scheduled;
  }
  ref();
  scheduler_->schedule(this);
}

bool TaskHeader::set_join_waiter(Waiter* w) noexcept {
  std::lock_guard guard(lock_);
  if (state_ == State::complete) return false;
  if (join_waiter_ != nullptr) fail_misuse("a JoinHandle was awaited from two places at once");
  join_waiter_ = w;
  return true;
}

void TaskHeader::clear_join_waiter(Waiter* w) noexcept {
  std::lock_guard guard(lock_);
  if (join_waiter_ == w) join_waiter_ = nullptr;
}

Waiter* TaskHeader::pop_ready_locked() noexcept {
  if (ready_tail_ == nullptr) return nullptr;
  Waiter* head = ready_tail_->ready_next;
  if (head == ready_tail_) {
    ready_tail_ = nullptr;
  } else {
    ready_tail_->ready_next = head->ready_next;
  }
  head->ready_next = nullptr;
  return head;
}

void TaskHeader::queue_start() noexcept { start_pending_ = true; }

TaskHeader::RunResult TaskHeader::run_coroutine(std::coroutine_handle<> root) noexcept {
  // Each run starts with a fresh cooperative budget.
  // The task's own task-local chain replaces whatever the thread had.
  struct CurrentTaskScope {
    TaskHeader* outer;
    int outer_budget;
    TaskLocalBinding* outer_locals;
    explicit CurrentTaskScope(TaskHeader* task) noexcept
        : outer(current_task), outer_budget(coop::budget), outer_locals(current_task_locals) {
      current_task = task;
      coop::budget = coop::kTaskBudget;
      current_task_locals = task->has_task_locals_ ? task->task_locals() : nullptr;
    }
    ~CurrentTaskScope() {
      current_task = outer;
      coop::budget = outer_budget;
      current_task_locals = outer_locals;
    }
  } scope(this);
  for (unsigned resumed = 0;; ++resumed) {
    Waiter* next = nullptr;
    {
      std::lock_guard guard(lock_);
      if (cancel_requested_) return RunResult::cancelled;
      if (!start_pending_ && ready_tail_ == nullptr) {
        state_ = State::idle;
        return RunResult::idle;
      }
      if (resumed == kMaxResumesPerRun || yield_requested_) {
        yield_requested_ = false;
        state_ = State::scheduled;
        return RunResult::yielded;
      }
      next = start_pending_ ? nullptr : pop_ready_locked();
      start_pending_ = false;
      state_ = State::running;
    }
    if (next == nullptr) {
      root.resume();
    } else if (next->retry == nullptr || next->retry(*next)) {
      next->handle.resume();
    } else {
      continue;  // the operation is waiting again
    }
    if (root.done()) return RunResult::finished;
  }
}

TaskHeader::Observed TaskHeader::observe() noexcept {
  std::lock_guard guard(lock_);
  Observed seen;
  seen.state = state_;
  if (state_ == State::idle) {
    seen.wait = static_cast<WaitReason>(wait_reason_.load(std::memory_order_relaxed) &
                                        static_cast<std::uint8_t>(~kCombinedWait));
    seen.wait_detail = wait_detail_.load(std::memory_order_relaxed);
  } else if (state_ == State::running) {
    seen.worker = running_on_.load(std::memory_order_relaxed);
  }
  return seen;
}

bool TaskHeader::start_blocking() noexcept {
  std::lock_guard guard(lock_);
  if (cancel_requested_) return false;
  state_ = State::running;
  return true;
}

void TaskHeader::complete() noexcept {
  {
    std::lock_guard guard(lock_);
    state_ = State::complete;
    ready_tail_ = nullptr;
    finished_.store(true, std::memory_order_release);
    if (join_waiter_ != nullptr) {
      // Our lock is the joiner's resource lock: its awaiter clears join_waiter_ under it.
      Waiter* joiner = join_waiter_;
      join_waiter_ = nullptr;
      joiner->task->wake(*joiner);
    }
  }
  scheduler_->task_completed(this);
}

TaskHeader& expect_current_task() noexcept {
  if (current_task == nullptr) {
    std::fputs("brigade: a runtime awaitable was awaited outside a runtime task\n", stderr);
    std::terminate();
  }
  return *current_task;
}

}  // namespace brigade::runtime::detail
