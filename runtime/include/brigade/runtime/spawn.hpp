#pragma once

#include <source_location>
#include <type_traits>
#include <utility>

#include "brigade/runtime/detail/context.hpp"
#include "brigade/runtime/detail/task_cell.hpp"
#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime {
namespace detail {

template <class T>
JoinHandle<T> spawn_on(RuntimeCore& core, Task<T>&& task, std::source_location where) {
  auto* cell = make_cell<TaskCell<T>>(std::move(task), task_scheduler(core), where);
  submit_task(core, cell);
  return JoinHandle<T>(cell);
}

template <class F>
auto spawn_blocking_on(RuntimeCore& core, F&& fn, std::source_location where) {
  using Fn = std::decay_t<F>;
  using T = std::invoke_result_t<Fn&>;
  auto* cell =
      make_cell<BlockingCell<T, Fn>>(Fn(std::forward<F>(fn)), blocking_scheduler(core), where);
  if (!submit_blocking(core, cell)) {
    cell->reject();
    cell->unref();  // the queue's reference, never taken
  }
  return JoinHandle<T>(cell);
}

}  // namespace detail

// Runs `task` as a task of its own on the current runtime (call it from inside a task or
// block_on; use Handle::spawn from other threads). The task owns its coroutine frame: pass it
// everything by value.
template <class T>
JoinHandle<T> spawn(Task<T> task, std::source_location where = std::source_location::current()) {
  return detail::spawn_on(detail::expect_current_runtime(), std::move(task), where);
}

// Runs the synchronous `fn` on the blocking pool, so that blocking reads, synchronous libraries
// and CPU-heavy work never stall the async workers. When the pool's queue is at its limit the
// handle finishes at once with a JoinError whose is_rejected() is true.
template <class F>
auto spawn_blocking(F&& fn, std::source_location where = std::source_location::current()) {
  return detail::spawn_blocking_on(detail::expect_current_runtime(), std::forward<F>(fn), where);
}

}  // namespace brigade::runtime
