#pragma once

#include <cstdint>

namespace brigade::runtime {

// What a task waits on when it last suspended, as a task dump shows it. Each awaiter records its
// reason on its task as it suspends; some carry one detail (TaskInfo says which field).
enum class WaitReason : std::uint8_t {
  none,          // not waiting (never suspended yet, or the awaiter keeps no record)
  read,          // a descriptor becoming readable (a read, an accept): TaskInfo::fd
  write,         // a descriptor becoming writable: TaskInfo::fd
  timer,         // a sleep, an interval tick or a timeout: TaskInfo::due_in
  join,          // the end of another task (its JoinHandle): TaskInfo::joined_task
  blocking,      // the end of a spawn_blocking job: TaskInfo::joined_task
  select,        // the first of several operands (select, timeout): TaskInfo::branches
  join_all,      // every one of several operands (join, join_all): TaskInfo::branches
  oneshot,       // a oneshot channel's value
  mpsc_receive,  // an mpsc channel's next value
  mpsc_send,     // room in a full mpsc channel
  watch,         // a watch channel's change
  broadcast,     // a broadcast channel's next value
  notify,        // a Notify (JoinSet::join_next waits on one)
  semaphore,     // a Semaphore's permits (a Mutex or RwLock waits on one)
  cancellation,  // a CancellationToken
  signal,        // a Unix signal
  tracker,       // a TaskTracker's tasks to end
};

const char* to_string(WaitReason reason) noexcept;

}  // namespace brigade::runtime
