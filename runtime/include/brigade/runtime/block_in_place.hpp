#pragma once

#include <functional>
#include <utility>

namespace brigade::runtime {
namespace detail {

// Moves the calling worker's queued tasks to the shared queue and wakes another worker for them.
// Throws std::logic_error on a current-thread runtime, or outside a task on a worker.
void hand_off_worker_before_blocking();

}  // namespace detail

// Runs the blocking `fn` right here, in the running task, like Tokio's block_in_place: the tasks
// queued on this worker are first handed to the other workers, so they do not wait behind it.
// For a blocking call that needs the task's own state (borrowed buffers, a non-movable guard);
// otherwise prefer spawn_blocking, which keeps the worker free altogether.
//
// Multi-thread flavor only: on a current-thread runtime the one thread would stop every task, so
// it throws std::logic_error instead (Tokio panics). Tasks woken by `fn` itself, from this thread,
// wait until it returns.
template <class F>
decltype(auto) block_in_place(F&& fn) {
  detail::hand_off_worker_before_blocking();
  return std::invoke(std::forward<F>(fn));
}

}  // namespace brigade::runtime
