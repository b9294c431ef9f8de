#pragma once

#include <concepts>
#include <coroutine>
#include <optional>
#include <utility>

#include "brigade/runtime/sync/semaphore.hpp"

namespace brigade::runtime {

template <class T>
class Mutex;

// Exclusive access to a Mutex's value; unlocks when destroyed. Move-only. Unlike a std::mutex
// guard it may be held across co_await (that is what an async mutex is for).
template <class T>
class [[nodiscard]] MutexGuard {
 public:
  MutexGuard(MutexGuard&&) noexcept = default;
  MutexGuard& operator=(MutexGuard&&) noexcept = default;
  ~MutexGuard() = default;  // the permit unlocks

  T& operator*() const noexcept { return mutex_->value_; }
  T* operator->() const noexcept { return &mutex_->value_; }

 private:
  friend class Mutex<T>;
  MutexGuard(Mutex<T>* mutex, SemaphorePermit permit) noexcept
      : mutex_(mutex), permit_(std::move(permit)) {}

  Mutex<T>* mutex_;
  SemaphorePermit permit_;
};

// An async mutex, like tokio::sync::Mutex: lock() suspends the task instead of blocking the
// worker thread. Fair (first come, first served), built on a one-permit Semaphore. Prefer a
// std::mutex for short critical sections that never await; use this one when the guard must be
// held across co_await.
//
// The Mutex must outlive its guards and pending lock() awaiters; share it between tasks through
// a std::shared_ptr that each task owns.
template <class T>
class Mutex {
 public:
  template <class... Args>
  requires std::constructible_from<T, Args...>
  explicit Mutex(Args&&... args) : value_(std::forward<Args>(args)...) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Awaiter of lock(); destroyed while waiting (abort, select) it leaves the queue without
  // taking the lock. Movable until awaited.
  class [[nodiscard]] Lock {
   public:
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      return acquire_.await_suspend(awaiting);
    }
    MutexGuard<T> await_resume() noexcept {
      // The semaphore is never closed, so the acquire always has a permit.
      return MutexGuard<T>(mutex_, std::move(*acquire_.await_resume()));
    }

   private:
    friend class Mutex;
    explicit Lock(Mutex* mutex) noexcept : mutex_(mutex), acquire_(mutex->semaphore_.acquire()) {}

    Mutex* mutex_;
    Semaphore::Acquire acquire_;
  };

  Lock lock() noexcept { return Lock(this); }
  // The guard now, or nullopt if the mutex is locked (or others are queued for it).
  std::optional<MutexGuard<T>> try_lock() noexcept {
    std::optional<SemaphorePermit> permit = semaphore_.try_acquire();
    if (!permit) return std::nullopt;
    return MutexGuard<T>(this, std::move(*permit));
  }

  // Direct access when no other task can reach the mutex (before sharing it, or after joining).
  T& get_mut() noexcept { return value_; }

 private:
  friend class MutexGuard<T>;

  Semaphore semaphore_{1};
  T value_;
};

}  // namespace brigade::runtime
