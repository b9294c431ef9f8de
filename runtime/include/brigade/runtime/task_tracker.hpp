#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>
#include <source_location>
#include <utility>

#include "brigade/runtime/detail/wait_list.hpp"
#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime {

// Waits for a group of tasks to finish, like tokio_util's TaskTracker: spawn (or track) tasks
// through it, close() it once no more will be added, and wait() completes when it is closed and
// every tracked task has finished (returned, failed or been aborted). Unlike a JoinSet it keeps
// no results and no handles: a tracked task costs a counter, not a slot.
//
//   TaskTracker tracker;
//   while (auto conn = co_await next_connection()) tracker.spawn(serve(std::move(*conn)));
//   tracker.close();
//   co_await tracker.wait();
//
// Copies share one state; thread-safe.
class TaskTracker {
  struct State;

  // Counts a task from its wrapping until its frame is gone (also when it is aborted).
  class Tracked {
   public:
    explicit Tracked(std::shared_ptr<State> state) noexcept;
    Tracked(Tracked&& other) noexcept : state_(std::move(other.state_)) {}
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    Tracked& operator=(Tracked&&) = delete;
    ~Tracked();

   private:
    std::shared_ptr<State> state_;
  };

 public:
  TaskTracker();

  // `task`, counted until it finishes; spawn it or await it as any Task.
  template <class T>
  Task<T> track(Task<T> task) {
    return tracked(std::move(task), Tracked(state_));
  }
  template <class T>
  JoinHandle<T> spawn(Task<T> task, std::source_location where = std::source_location::current()) {
    return runtime::spawn(track(std::move(task)), where);
  }

  // wait() completes once closed and empty; reopen() undoes close().
  void close() noexcept;
  void reopen() noexcept;
  bool is_closed() const noexcept;
  // Tracked tasks that have not finished yet.
  std::size_t len() const noexcept;
  bool is_empty() const noexcept { return len() == 0; }

  // Awaiter of wait(). Destroyed while it waits (abort, select), it leaves the waiters' list.
  // Movable until awaited.
  class [[nodiscard]] Wait {
   public:
    Wait(Wait&& other) noexcept;
    Wait(const Wait&) = delete;
    Wait& operator=(const Wait&) = delete;
    Wait& operator=(Wait&&) = delete;
    ~Wait();

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
    void await_resume() noexcept { suspended_ = false; }

   private:
    friend class TaskTracker;
    explicit Wait(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

    std::shared_ptr<State> state_;
    detail::WaitNode node_;
    bool suspended_ = false;
  };
  Wait wait() const noexcept { return Wait(state_); }

 private:
  template <class T>
  static Task<T> tracked(Task<T> task, Tracked) {
    co_return co_await std::move(task);
  }

  std::shared_ptr<State> state_;
};

}  // namespace brigade::runtime
