#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <utility>

#include "brigade/runtime/sync/semaphore.hpp"

namespace brigade::runtime {

// An async reader-writer lock, like tokio::sync::RwLock: many readers or one writer, and the
// awaiting task suspends instead of blocking its worker. Fair, as Tokio's is: built on a
// Semaphore of kMaxReaders permits, a reader takes one and a writer all of them, in arrival order,
// so a waiting writer holds back readers that come after it and cannot starve.
//
// The RwLock must outlive its guards and pending awaiters; share it through a std::shared_ptr.
template <class T>
class RwLock {
 public:
  static constexpr std::size_t kMaxReaders = std::size_t{1} << 32;

  // Shared access; unlocks when destroyed.
  class [[nodiscard]] ReadGuard {
   public:
    const T& operator*() const noexcept { return lock_->value_; }
    const T* operator->() const noexcept { return &lock_->value_; }

   private:
    friend class RwLock;
    ReadGuard(const RwLock* lock, SemaphorePermit permit) noexcept
        : lock_(lock), permit_(std::move(permit)) {}
    const RwLock* lock_;
    SemaphorePermit permit_;
  };
  // Exclusive access; unlocks when destroyed.
  class [[nodiscard]] WriteGuard {
   public:
    T& operator*() const noexcept { return lock_->value_; }
    T* operator->() const noexcept { return &lock_->value_; }

   private:
    friend class RwLock;
    WriteGuard(RwLock* lock, SemaphorePermit permit) noexcept
        : lock_(lock), permit_(std::move(permit)) {}
    RwLock* lock_;
    SemaphorePermit permit_;
  };

  // Awaiter of read() (Guard = ReadGuard) and write() (WriteGuard); destroyed while waiting
  // (abort, select) it leaves the queue without taking the lock. Movable until awaited.
  template <class Guard>
  class [[nodiscard]] Lock {
   public:
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      return acquire_.await_suspend(awaiting);
    }
    Guard await_resume() noexcept {
      // The semaphore is never closed, so the acquire always has its permits.
      return Guard(lock_, std::move(*acquire_.await_resume()));
    }

   private:
    friend class RwLock;
    Lock(RwLock* lock, std::size_t permits) noexcept
        : lock_(lock), acquire_(lock->semaphore_.acquire(permits)) {}
    RwLock* lock_;
    Semaphore::Acquire acquire_;
  };

  template <class... Args>
  requires std::constructible_from<T, Args...>
  explicit RwLock(Args&&... args) : value_(std::forward<Args>(args)...) {}
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  Lock<ReadGuard> read() noexcept { return Lock<ReadGuard>(this, 1); }
  Lock<WriteGuard> write() noexcept { return Lock<WriteGuard>(this, kMaxReaders); }
  // The guard now, or nullopt if it would have to wait.
  std::optional<ReadGuard> try_read() noexcept { return try_lock<ReadGuard>(1); }
  std::optional<WriteGuard> try_write() noexcept { return try_lock<WriteGuard>(kMaxReaders); }

 private:
  template <class Guard>
  std::optional<Guard> try_lock(std::size_t permits) noexcept {
    std::optional<SemaphorePermit> permit = semaphore_.try_acquire(permits);
    if (!permit) return std::nullopt;
    return Guard(this, std::move(*permit));
  }

  Semaphore semaphore_{kMaxReaders};
  T value_;
};

}  // namespace brigade::runtime
