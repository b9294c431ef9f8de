// The checker's stand-ins for std::atomic, std::mutex and std::condition_variable: the same
// interface, but each operation is a scheduling point of the checker (see checker.hpp). Memory
// orders are accepted and ignored: every execution is sequentially consistent. A
// compare_exchange_weak never fails spuriously, and a condition variable never wakes spuriously;
// a timed wait may time out at any point, which is how the checker models the passing of time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <type_traits>

#include "brigade_model/checker.hpp"

namespace brigade::model {

template <class T>
class Atomic {
 public:
  constexpr Atomic() noexcept : value_{} {}
  constexpr Atomic(T value) noexcept : value_(value) {}  // NOLINT: as std::atomic
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order = std::memory_order_seq_cst) const {
    switch_point("load", this);
    return value_;
  }
  void store(T value, std::memory_order = std::memory_order_seq_cst) {
    switch_point("store", this);
    value_ = value;
  }
  T exchange(T value, std::memory_order = std::memory_order_seq_cst) {
    switch_point("exchange", this);
    T old = value_;
    value_ = value;
    return old;
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order = std::memory_order_seq_cst,
                               std::memory_order = std::memory_order_seq_cst) {
    switch_point("compare_exchange", this);
    if (value_ == expected) {
      value_ = desired;
      return true;
    }
    expected = value_;
    return false;
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order success = std::memory_order_seq_cst,
                             std::memory_order failure = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, success, failure);
  }
  T fetch_add(T delta,
              std::memory_order = std::memory_order_seq_cst) requires std::is_integral_v<T> {
    switch_point("fetch_add", this);
    T old = value_;
    value_ = static_cast<T>(old + delta);
    return old;
  }
  T fetch_sub(T delta,
              std::memory_order = std::memory_order_seq_cst) requires std::is_integral_v<T> {
    switch_point("fetch_sub", this);
    T old = value_;
    value_ = static_cast<T>(old - delta);
    return old;
  }

 private:
  T value_;
};

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() {
    switch_point("lock", this);
    while (locked_) detail::block(this, "lock (waits)");
    locked_ = true;
  }
  bool try_lock() {
    switch_point("try_lock", this);
    if (locked_) return false;
    locked_ = true;
    return true;
  }
  void unlock() {
    locked_ = false;
    detail::wake_all(this);
  }

 private:
  bool locked_ = false;
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releasing the lock and starting to wait are one step, as with the real thing.
  void wait(std::unique_lock<Mutex>& lock) {
    lock.mutex()->unlock();
    detail::block(this, "wait");
    lock.mutex()->lock();
  }
  template <class Predicate>
  void wait(std::unique_lock<Mutex>& lock, Predicate ready) {
    while (!ready()) wait(lock);
  }
  // Times out whenever the checker chooses: the deadline itself is not modelled.
  template <class Clock, class Duration>
  std::cv_status wait_until(std::unique_lock<Mutex>& lock,
                            const std::chrono::time_point<Clock, Duration>&) {
    lock.mutex()->unlock();
    const bool woken = detail::block_timed(this, "wait_until");
    lock.mutex()->lock();
    return woken ? std::cv_status::no_timeout : std::cv_status::timeout;
  }
  template <class Clock, class Duration, class Predicate>
  bool wait_until(std::unique_lock<Mutex>& lock,
                  const std::chrono::time_point<Clock, Duration>& deadline, Predicate ready) {
    while (!ready()) {
      if (wait_until(lock, deadline) == std::cv_status::timeout) return ready();
    }
    return true;
  }
  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<Mutex>& lock,
                          const std::chrono::duration<Rep, Period>&) {
    return wait_until(lock, std::chrono::steady_clock::time_point{});
  }
  void notify_one() noexcept { detail::wake_one(this); }
  void notify_all() noexcept { detail::wake_all(this); }
};

}  // namespace brigade::model
