#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "driver.hpp"

namespace brigade::runtime::detail {

// Puts one worker to sleep until unpark(). A worker that finds the driver free parks inside it
// (so it also waits for timers and I/O); the others wait on a condition variable.
class Parker {
 public:
  explicit Parker(Driver& driver) noexcept : driver_(driver) {}

  // Returns after unpark(), or spuriously when the driver had events; callers re-check for work.
  void park();
  // Lets the driver fire due timers without sleeping, if no one else is parked in it.
  void poll_driver();
  // Any thread. A wake-up that arrives before park() makes that park() return at once.
  void unpark() noexcept;

 private:
  enum State : std::uint8_t { kEmpty, kParkedCondvar, kParkedDriver, kNotified };

  void park_on_condvar();
  void park_on_driver();

  Driver& driver_;
  std::atomic<std::uint8_t> state_{kEmpty};
  std::mutex mutex_;
  std::condition_variable condvar_;
};

}  // namespace brigade::runtime::detail
