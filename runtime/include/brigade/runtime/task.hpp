#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <utility>
#include <variant>

#include "brigade/runtime/detail/frame_room.hpp"
#include "brigade/runtime/detail/misuse.hpp"

namespace brigade::runtime {

template <class T = void>
class Task;

namespace detail {

template <class T>
class TaskPromise;

// Resumes whoever awaited the task. Without a continuation it returns to whoever resumed it: a
// spawned (root) task to the scheduler's run loop, which sees `done()`, and a task that finished
// while its awaiter was still starting it (see Task::Awaiter) to that awaiter.
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) const noexcept {
    auto& promise = h.promise();
    if (!promise.continuation) return std::noop_coroutine();
    return promise.continuation;
  }
  void await_resume() const noexcept {}
};

class TaskPromiseBase {
 public:
  static void* operator new(std::size_t size) { return allocate_task_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocate_task_frame(frame, size);
  }

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }

  // Set once the task has suspended for the first time under its awaiter (see Task::Awaiter).
  // Task::start() sets it to the no-op coroutine (control returns to start() as without one):
  // a continuation before any await is how a started task is told from one never run, without
  // a flag that would add eight bytes to every frame.
  std::coroutine_handle<> continuation;
};

template <class T>
class TaskPromise final : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& value) {
    result_.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }

  // The value, or rethrows what escaped the coroutine.
  T take() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class TaskPromise<void> final : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }
  void take() const {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  std::exception_ptr exception_;
};

}  // namespace detail

// A lazy coroutine: nothing runs until the task is awaited (running inside the awaiting task)
// or spawned (becoming a task of its own). Awaiting yields the co_returned value or rethrows
// the exception that escaped.
//
// Parameters of a Task coroutine should be taken by value: the frame outlives the caller's
// full-expression once the task is spawned. A lambda coroutine with captures dangles as soon as
// the lambda object dies; spawn(fn, args...) keeps the lambda alive with its task instead.
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  Task() noexcept = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~Task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Runs the task here, inside the current task, until it first waits; true if it finished.
  // Finished or not, it is then awaited as usual (alone, or as an operand of select or join),
  // which picks it up where it stands. For work that usually finishes at once and only needs
  // company when it does not: a server starts a handler and watches the client only while the
  // handler waits, instead of building that watch for every request. Like an await, only the
  // task that started it may go on to await it; a started task cannot be spawned.
  bool start() noexcept {
    handle_.promise().continuation = std::noop_coroutine();
    handle_.resume();
    return handle_.done();
  }

  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> handle;
      bool await_ready() const noexcept { return false; }
      // Starts the task here rather than by returning its handle (symmetric transfer): GCC 12
      // does not turn that into a tail call at -O0 or under sanitizers, so a loop awaiting tasks
      // that finish at once would grow the stack by a frame per iteration. Started this way, a
      // task that finishes at once just lets the awaiting coroutine continue. Only this task's
      // run loop resumes its coroutines, so nothing can resume the awaited one between its
      // first suspension and the continuation being set.
      bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
        if (!handle.promise().continuation) handle.resume();  // not started yet
        if (handle.done()) return false;
        handle.promise().continuation = awaiting;
        return true;
      }
      T await_resume() { return handle.promise().take(); }
    };
    return Awaiter{handle_};
  }

  // For the runtime: whether the coroutine frame is at `memory`.
  bool is_frame(const void* memory) const noexcept { return handle_.address() == memory; }
  // For the runtime: gives up ownership of the coroutine frame, to spawn it.
  std::coroutine_handle<promise_type> release() noexcept {
    // Its waits are registered with the task that started it, not with the one it would become.
    if (handle_ && handle_.promise().continuation) detail::fail_misuse("spawn of a started Task");
    return std::exchange(handle_, {});
  }

 private:
  friend promise_type;
  explicit Task(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}

  void reset() noexcept {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  std::coroutine_handle<promise_type> handle_;
};

namespace detail {

template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}

inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

}  // namespace detail
}  // namespace brigade::runtime
