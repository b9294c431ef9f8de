#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/task_dump.hpp"
#include "pausable_clock.hpp"

namespace brigade::runtime::detail {

// Every async task that has not completed yet, so that shutdown can cancel them. Sharded by task
// id block: two workers spawning or completing at once rarely touch the same lock. Each shard
// counts its own tasks, and size() adds them up: one counter for all would be a cache line every
// spawn and every completion pulls from the other cores (a third of spawn + join on two workers).
class OwnedTasks {
 public:
  // Returns false once closed: the runtime is shutting down and the task must not start.
  bool insert(TaskHeader* task);
  void remove(TaskHeader* task) noexcept;

  // Refuses new tasks and aborts every task in the list.
  void close_and_abort_all();
  // After close, on the thread that closed: waits until every task has completed, or the
  // deadline passes.
  bool wait_empty_until(std::chrono::steady_clock::time_point deadline);
  // Appends every listed task to `out`. One shard at a time, under its lock (which keeps each
  // listed task alive), copying plain data only: tasks spawned or completed meanwhile in another
  // shard may or may not show, but every task shown was alive while its shard was read.
  // `timers` is the timers' clock, for how long until a sleeping task's timer is due.
  void snapshot(std::vector<TaskInfo>& out, const PausableClock& timers);
  std::size_t size() const noexcept;

 private:
  struct alignas(64) Shard {
    SpinLock mutex;  // held for a list splice only
    bool closed = false;
    TaskHeader* head = nullptr;
    // Written under `mutex` (so a plain load and store, no read-modify-write), read without it.
    std::atomic<std::size_t> count{0};
  };
  static constexpr std::size_t kShards = 32;

  // By id block: the tasks one thread spawns in a row share a shard (its line stays in that
  // core's cache), while two threads' blocks rarely do.
  Shard& shard_of(const TaskHeader* task) noexcept {
    return shards_[task->id() / kTaskIdBlock % kShards];
  }

  std::array<Shard, kShards> shards_;
  std::mutex empty_mutex_;
  std::condition_variable empty_;
};

}  // namespace brigade::runtime::detail
