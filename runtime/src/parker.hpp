// Puts one worker to sleep until another thread unparks it.
//
// The protocol. `state_` is the only thing the two sides share outside a lock:
//   kEmpty          nobody parked, no wake-up pending;
//   kNotified       a wake-up arrived that no park() has consumed yet;
//   kParkedCondvar  the owner sleeps on the condition variable;
//   kParkedDriver   the owner sleeps inside the driver (epoll_wait), holding it.
// Only the owning worker calls park() and poll_driver(); any thread calls unpark().
//  - unpark() swaps in kNotified unconditionally, then wakes whatever sleeper the old value names:
//    the condition variable under its mutex, or the driver through its eventfd.
//  - park() first consumes a pending kNotified (returns at once). Otherwise it announces where it
//    will sleep with a compare-and-swap from kEmpty; the swap fails only when unpark() stored
//    kNotified in between, and then park() returns instead of sleeping.
//  - On the condition variable the announcement is made with the mutex held, and unpark() takes
//    that mutex before notifying, so the notification cannot fall between the announcement and
//    the wait. The owner sleeps until it can swap kNotified back to kEmpty itself.
//  - In the driver, a wake-up sent after the announcement is an eventfd write, which
//    epoll_wait sees even when it starts later; the driver returning for an I/O event or a timer
//    is a spurious return, which callers allow for by checking for work again.
// So every unpark() after the owner decided to sleep ends that sleep, and one sent before it
// makes the next park() return at once: no wake-up is lost.
//
// The driver is a parameter so the model checker can run this code with a stand-in for epoll
// (tests/model/idle_parker_model_test.cpp); the runtime uses Parker, on the real Driver.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "brigade/runtime/detail/sync_primitives.hpp"

namespace brigade::runtime::detail {

class Driver;

template <class DriverType>
class BasicParker {
 public:
  explicit BasicParker(DriverType& driver) noexcept : driver_(driver) {}

  // Returns after unpark(), or spuriously when the driver had events; callers re-check for work.
  void park() {
    std::uint8_t notified = kNotified;
    if (state_.compare_exchange_strong(notified, kEmpty, std::memory_order_acquire)) return;
    if (driver_.try_lock()) {
      park_on_driver();
      driver_.unlock();
    } else {
      park_on_condvar();
    }
  }

  // Lets the driver fire due timers and hand out up to `max_events` ready events without
  // sleeping, if no one else is parked in it.
  void poll_driver(std::size_t max_events) {
    if (!driver_.try_lock()) return;
    driver_.park(std::chrono::milliseconds(0), max_events);
    driver_.unlock();
  }

  // Any thread. A wake-up that arrives before park() makes that park() return at once.
  void unpark() noexcept {
    switch (state_.exchange(kNotified, std::memory_order_acq_rel)) {
      case kParkedCondvar: {
        // Taking the lock orders us after the parker's check-then-wait, so the notify is not lost.
        std::lock_guard guard(mutex_);
        condvar_.notify_one();
        break;
      }
      case kParkedDriver:
        driver_.unpark();
        break;
      default:
        break;
    }
  }

 private:
  enum State : std::uint8_t { kEmpty, kParkedCondvar, kParkedDriver, kNotified };

  void park_on_driver() {
    std::uint8_t expected = kEmpty;
    if (!state_.compare_exchange_strong(expected, kParkedDriver, std::memory_order_acq_rel)) {
      state_.store(kEmpty, std::memory_order_release);  // notified in the meantime
      return;
    }
    driver_.park(std::nullopt);
    // Whether it was unpark() or an event that ended the wait, the slate is clean again.
    state_.exchange(kEmpty, std::memory_order_acq_rel);
  }

  void park_on_condvar() {
    std::unique_lock lock(mutex_);
    std::uint8_t expected = kEmpty;
    if (!state_.compare_exchange_strong(expected, kParkedCondvar, std::memory_order_acq_rel)) {
      state_.store(kEmpty, std::memory_order_release);
      return;
    }
    for (;;) {
      condvar_.wait(lock);
      std::uint8_t notified = kNotified;
      if (state_.compare_exchange_strong(notified, kEmpty, std::memory_order_acq_rel)) return;
    }
  }

  DriverType& driver_;
  sync::Atomic<std::uint8_t> state_{kEmpty};
  sync::Mutex mutex_;
  sync::CondVar condvar_;
};

using Parker = BasicParker<Driver>;
extern template class BasicParker<Driver>;

}  // namespace brigade::runtime::detail
