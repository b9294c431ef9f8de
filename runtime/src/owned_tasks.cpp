#include "owned_tasks.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

#include "brigade/runtime/detail/poll_clock.hpp"

namespace brigade::runtime::detail {
namespace {

TaskInfo::State public_state(TaskHeader::State state) noexcept {
  switch (state) {
    case TaskHeader::State::idle:
      return TaskInfo::State::idle;
    case TaskHeader::State::scheduled:
      return TaskInfo::State::scheduled;
    case TaskHeader::State::running:
      return TaskInfo::State::running;
    case TaskHeader::State::complete:
      return TaskInfo::State::complete;
  }
  return TaskInfo::State::complete;
}

// What the task's wait record's detail means for its reason.
void add_wait_detail(TaskInfo& info, std::uint64_t detail,
                     std::chrono::steady_clock::time_point timer_now) noexcept {
  switch (info.wait) {
    case WaitReason::read:
    case WaitReason::write:
      info.fd = static_cast<int>(detail);
      break;
    case WaitReason::timer: {
      const std::chrono::steady_clock::time_point deadline{
          std::chrono::steady_clock::duration(static_cast<std::int64_t>(detail))};
      info.due_in = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - timer_now);
      break;
    }
    case WaitReason::join:
    case WaitReason::blocking:
      info.joined_task = detail;
      break;
    case WaitReason::select:
    case WaitReason::join_all:
      info.branches = static_cast<std::size_t>(detail);
      break;
    default:
      break;
  }
}

}  // namespace

bool OwnedTasks::insert(TaskHeader* task) {
  Shard& shard = shard_of(task);
  std::lock_guard guard(shard.mutex);
  if (shard.closed) return false;
  task->owned_prev = nullptr;
  task->owned_next = shard.head;
  if (shard.head != nullptr) shard.head->owned_prev = task;
  shard.head = task;
  shard.count.store(shard.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return true;
}

void OwnedTasks::remove(TaskHeader* task) noexcept {
  Shard& shard = shard_of(task);
  bool closed = false;
  {
    std::lock_guard guard(shard.mutex);
    // A task refused by insert() (spawned during shutdown) completes without ever being listed.
    if (task->owned_prev == nullptr && shard.head != task) return;
    (task->owned_prev != nullptr ? task->owned_prev->owned_next : shard.head) = task->owned_next;
    if (task->owned_next != nullptr) task->owned_next->owned_prev = task->owned_prev;
    task->owned_prev = task->owned_next = nullptr;
    closed = shard.closed;
    // Under the shard lock, like `closed`: a removal that saw the shard open has decremented
    // before close_and_abort_all() gets the lock, so the waiter's first look at size(), which
    // follows the close on the same thread, counts it; one that saw it closed looks at the total.
    // Decrementing after unlocking lost that wake-up. Sequentially consistent once closed, with
    // size()'s loads: of two last removals in two shards, the one whose store comes second in
    // that order sees both counts at zero, so someone notifies. Open, relaxed is enough, and
    // saves every completion a locked instruction: the fence that ends close_and_abort_all()
    // puts those decrements before any notifying removal's look at size().
    const std::size_t count = shard.count.load(std::memory_order_relaxed) - 1;
    if (closed) {
      shard.count.store(count, std::memory_order_seq_cst);
    } else {
      shard.count.store(count, std::memory_order_relaxed);
    }
  }
  if (closed && size() == 0) {
    std::lock_guard guard(empty_mutex_);
    empty_.notify_all();
  }
}

void OwnedTasks::close_and_abort_all() {
  std::vector<TaskHeader*> tasks;
  for (Shard& shard : shards_) {
    std::lock_guard guard(shard.mutex);
    shard.closed = true;
    for (TaskHeader* task = shard.head; task != nullptr; task = task->owned_next) {
      task->ref();  // keeps it alive between the unlock and abort()
      tasks.push_back(task);
    }
  }
  // Orders the relaxed decrements of removals that saw a shard open (each before this walk took
  // that shard's lock) before the notifying removals' size(): a removal that saw its shard
  // closed and reads another shard's count stale would otherwise leave the waiter unnotified.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (TaskHeader* task : tasks) {
    task->abort();
    task->unref();
  }
}

void OwnedTasks::snapshot(std::vector<TaskInfo>& out, const PausableClock& timers) {
  // Headroom for spawns during the walk, so that the vector rarely grows under a shard lock.
  out.reserve(out.size() + size() + size() / 8 + kShards);
  for (Shard& shard : shards_) {
    std::lock_guard guard(shard.mutex);
    // Read once the shard is locked: every task listed in it stamped its spawn before, and a
    // task that sleeps again while the shard is read is due at most that long after.
    const auto now_ms = static_cast<std::uint32_t>(poll_clock_ns() / 1'000'000);
    const std::chrono::steady_clock::time_point timer_now = timers.now();
    for (TaskHeader* task = shard.head; task != nullptr; task = task->owned_next) {
      const char* annotation = task->annotation();
      const TaskHeader::Observed seen = task->observe();
      TaskInfo& info = out.emplace_back();
      info.id = task->id();
      info.spawned_at = task->spawned_at();
      info.state = public_state(seen.state);
      if (annotation != nullptr) info.annotation = annotation;
      if (seen.worker != TaskHeader::kUnknownWorker) info.worker = seen.worker;
      // Unsigned arithmetic: exact across the 2^32 ms wrap.
      info.age = std::chrono::milliseconds(now_ms - task->spawned_ms());
      info.polls = task->polls();
      info.wait = seen.wait;
      add_wait_detail(info, seen.wait_detail, timer_now);
    }
  }
}

std::size_t OwnedTasks::size() const noexcept {
  std::size_t total = 0;
  for (const Shard& shard : shards_) total += shard.count.load(std::memory_order_seq_cst);
  return total;
}

bool OwnedTasks::wait_empty_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(empty_mutex_);
  return empty_.wait_until(lock, deadline, [this] { return size() == 0; });
}

}  // namespace brigade::runtime::detail
