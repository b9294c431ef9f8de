#include "parker.hpp"

namespace brigade::runtime::detail {

void Parker::park() {
  std::uint8_t notified = kNotified;
  if (state_.compare_exchange_strong(notified, kEmpty, std::memory_order_acquire)) return;
  if (driver_.try_lock()) {
    park_on_driver();
    driver_.unlock();
  } else {
    park_on_condvar();
  }
}

void Parker::park_on_driver() {
  std::uint8_t expected = kEmpty;
  if (!state_.compare_exchange_strong(expected, kParkedDriver, std::memory_order_acq_rel)) {
    state_.store(kEmpty, std::memory_order_release);  // notified in the meantime
    return;
  }
  driver_.park(std::nullopt);
  // Whether it was unpark() or an event that ended the wait, the slate is clean again.
  state_.exchange(kEmpty, std::memory_order_acq_rel);
}

void Parker::park_on_condvar() {
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

void Parker::poll_driver() {
  if (!driver_.try_lock()) return;
  driver_.park(std::chrono::milliseconds(0));
  driver_.unlock();
}

void Parker::unpark() noexcept {
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

}  // namespace brigade::runtime::detail
