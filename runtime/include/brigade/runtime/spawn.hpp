#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "brigade/runtime/detail/context.hpp"
#include "brigade/runtime/detail/frame_room.hpp"
#include "brigade/runtime/detail/misuse.hpp"
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

template <class R>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<Task<T>> = true;

// What spawn(fn, args...) accepts: `fn` invoked with the decayed arguments returns a Task.
template <class F, class... Args>
concept TaskFunction = std::invocable<std::decay_t<F>&, std::decay_t<Args>...> &&
                       is_task_v<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>...>>;

// The root frame size the last spawn of this kind needed: the next one sets that much room aside
// in front of its cell (see SpawnedCell). A data race on it would only cost an allocation.
template <class Fn, class... Args>
inline std::atomic<std::uint32_t> root_frame_bytes{0};

// Invokes `fn` with `room` offered to the first coroutine frame it creates. Returns the Task.
template <class Fn, class... Args>
auto invoke_into(FrameRoom& room, Fn& fn, Args&&... args) {
  FrameRoom* outer_room = std::exchange(pending_frame_room, &room);
  // A frame freed during the call (a parameter's constructor threw) must not free the room.
  void* outer_kept = std::exchange(frame_kept_by_cell, room.memory);
  struct Restore {
    FrameRoom* room;
    void* kept;
    ~Restore() {
      pending_frame_room = room;
      frame_kept_by_cell = kept;
    }
  } restore{outer_room, outer_kept};
  // Decayed copies, moved into the coroutine's parameters: nothing refers to the caller's objects.
  return std::invoke(fn, std::decay_t<Args>(std::forward<Args>(args))...);
}

template <class F, class... Args>
auto spawn_fn_on(RuntimeCore& core, std::source_location where, F&& fn, Args&&... args) {
  using Fn = std::decay_t<F>;
  using TaskT = std::invoke_result_t<Fn&, std::decay_t<Args>...>;
  using T = typename TaskT::value_type;
  using Kept = KeptCallableFor<Fn>;
  using Cell = SpawnedCell<T, Kept>;
  auto& hint = root_frame_bytes<Fn, std::decay_t<Args>...>;

  Cell* cell = nullptr;
  if constexpr (std::is_same_v<Kept, NoCallable>) {
    cell = Cell::make(hint.load(std::memory_order_relaxed), task_scheduler(core), where);
  } else {
    cell = Cell::make(hint.load(std::memory_order_relaxed), task_scheduler(core), where,
                      std::forward<F>(fn));
  }
  FrameRoom room = cell->room();
  std::optional<TaskT> task;
  try {
    if constexpr (std::is_same_v<Kept, NoCallable>) {
      task.emplace(invoke_into(room, fn, std::forward<Args>(args)...));
    } else {
      task.emplace(invoke_into(room, cell->kept().get(), std::forward<Args>(args)...));
    }
  } catch (...) {
    cell->discard();
    throw;
  }
  if (room.served) {
    // The room is the cell's to free: a frame in it other than the root would be freed twice.
    if (!task->is_frame(room.memory)) {
      fail_misuse(
          "spawn(fn, args...): fn created another coroutine before the one it returned; use "
          "spawn(fn(args...))");
    }
  } else if (room.frames == 1 && task->is_frame(room.first)) {
    // Only a call that made its root and nothing else teaches the size (with more frames, a
    // freed one's address may have been reused).
    hint.store(static_cast<std::uint32_t>(room.requested), std::memory_order_relaxed);
  }
  cell->start_root(std::move(*task));
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

// Invokes the coroutine function `fn` with `args` and runs the Task it returns as a task of its
// own, like spawn(fn(args...)), but safer and cheaper:
//  - the arguments are decayed (copied or moved, as std::thread does) into the coroutine's
//    by-value parameters, and `fn` itself lives as long as the task: a lambda's captures cannot
//    dangle. (Parameters taken by reference still refer to temporaries: take them by value.)
//  - the task's cell and its root frame are one allocation instead of two.
// `fn` should be the coroutine itself, or return the Task of the first coroutine it calls. One that
// creates another coroutine first gets two allocations, and terminates with a message if it did
// not on an earlier spawn of the same kind (its frame would be in the room of the one returned).
// Errors name this header as the spawn site: a default argument cannot follow `args`.
template <class F, class... Args>
  requires detail::TaskFunction<F, Args...>
auto spawn(F&& fn, Args&&... args) {
  return detail::spawn_fn_on(detail::expect_current_runtime(), std::source_location::current(),
                             std::forward<F>(fn), std::forward<Args>(args)...);
}

// Runs the synchronous `fn` on the blocking pool, so that blocking reads, synchronous libraries
// and CPU-heavy work never stall the async workers. When the pool's queue is at its limit the
// handle finishes at once with a JoinError whose is_rejected() is true.
template <class F>
auto spawn_blocking(F&& fn, std::source_location where = std::source_location::current()) {
  return detail::spawn_blocking_on(detail::expect_current_runtime(), std::forward<F>(fn), where);
}

}  // namespace brigade::runtime
