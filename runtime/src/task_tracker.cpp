#include "brigade/runtime/task_tracker.hpp"

#include <cassert>

namespace brigade::runtime {

struct TaskTracker::State {
  mutable std::mutex mutex;
  std::size_t tasks = 0;     // guarded by mutex
  bool closed = false;       // guarded by mutex
  detail::WaitList waiters;  // of Wait::node_; guarded by mutex

  bool done_locked() const noexcept { return closed && tasks == 0; }
};

TaskTracker::TaskTracker() : state_(std::make_shared<State>()) {}

TaskTracker::Tracked::Tracked(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {
  std::lock_guard lock(state_->mutex);
  ++state_->tasks;
}

TaskTracker::Tracked::~Tracked() {
  if (!state_) return;  // moved from
  std::lock_guard lock(state_->mutex);
  --state_->tasks;
  if (state_->done_locked()) state_->waiters.wake_all();
}

void TaskTracker::close() noexcept {
  std::lock_guard lock(state_->mutex);
  state_->closed = true;
  if (state_->done_locked()) state_->waiters.wake_all();
}

void TaskTracker::reopen() noexcept {
  std::lock_guard lock(state_->mutex);
  state_->closed = false;
}

bool TaskTracker::is_closed() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

std::size_t TaskTracker::len() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->tasks;
}

TaskTracker::Wait::Wait(Wait&& other) noexcept : state_(other.state_) {
  assert(!other.suspended_ && "a Wait cannot move once awaited");
}

TaskTracker::Wait::~Wait() {
  if (suspended_) state_->waiters.withdraw(node_, state_->mutex);
}

bool TaskTracker::Wait::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  detail::record_wait(WaitReason::tracker);
  std::lock_guard lock(state_->mutex);
  if (state_->done_locked()) return false;
  node_.arm(awaiting);
  state_->waiters.push_back(node_);
  suspended_ = true;
  return true;
}

}  // namespace brigade::runtime
