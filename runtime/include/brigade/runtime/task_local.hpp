#pragma once

#include <stdexcept>
#include <type_traits>
#include <utility>

#include "brigade/runtime/detail/task_header.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime {
namespace detail {

// Binds a value to a key for as long as it lives: in the running task's chain, or on this
// thread alone outside a task (sync_scope). Lives in a scope's frame or on the stack.
class TaskLocalEntry {
 public:
  TaskLocalEntry(const void* key, void* value) noexcept;
  TaskLocalEntry(const TaskLocalEntry&) = delete;
  TaskLocalEntry& operator=(const TaskLocalEntry&) = delete;
  ~TaskLocalEntry();

 private:
  TaskHeader* task_;
  TaskLocalBinding binding_;
};

}  // namespace detail

// A value that each task sets for itself, for the code it awaits (Tokio's task_local! and
// LocalKey). A key is an object with static storage duration:
//
//   inline const TaskLocal<std::string> request_id;
//   co_await request_id.scope("r-42", handle(request));   // handle() and what it awaits see it
//   ... request_id.get() ...                              // anywhere under that scope
//
// The value follows its task across suspensions and workers, and is never seen by another task:
// a task spawned inside a scope starts without it. Reading a key outside any scope of it throws
// std::logic_error, as Tokio panics. Values are bound per task, not per branch: in a join or
// select inside one task, a branch sees the values that a sibling branch's scope set while that
// scope is open.
template <class T>
class TaskLocal {
 public:
  TaskLocal() = default;
  TaskLocal(const TaskLocal&) = delete;
  TaskLocal& operator=(const TaskLocal&) = delete;

  // Runs `inner` with `value` bound to this key; the value lives in the returned task's frame.
  template <class U>
  Task<U> scope(T value, Task<U> inner) const {
    const detail::TaskLocalEntry entry(this, &value);
    if constexpr (std::is_void_v<U>) {
      co_await std::move(inner);
    } else {
      co_return co_await std::move(inner);
    }
  }

  // Calls `fn()` with `value` bound to this key (Tokio's LocalKey::sync_scope).
  template <class F>
  decltype(auto) sync_scope(T value, F&& fn) const {
    const detail::TaskLocalEntry entry(this, &value);
    return std::forward<F>(fn)();
  }

  // The value of the innermost scope of this key; throws std::logic_error outside one.
  T& get() const {
    if (T* value = try_get()) return *value;
    throw std::logic_error("task_local: get() outside any scope of this key");
  }
  // The same, or null outside a scope (Tokio's try_with).
  T* try_get() const noexcept {
    for (auto* binding = detail::current_task_locals; binding != nullptr;
         binding = binding->outer) {
      if (binding->key == this) return static_cast<T*>(binding->value);
    }
    return nullptr;
  }
  // Calls `fn(value)` (Tokio's LocalKey::with).
  template <class F>
  decltype(auto) with(F&& fn) const {
    return std::forward<F>(fn)(get());
  }
};

}  // namespace brigade::runtime
