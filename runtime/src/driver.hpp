#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <vector>

#include "brigade/runtime/detail/io_registration.hpp"
#include "brigade/runtime/detail/timer_node.hpp"
#include "pausable_clock.hpp"
#include "registration_slab.hpp"
#include "timer_wheel.hpp"
#include "unique_fd.hpp"

namespace brigade::runtime::detail {

// What a parked worker waits on: timers now, and I/O readiness from the I/O layer on. One worker
// at a time holds the driver (try_lock) and parks in epoll_wait with the next timer's deadline as
// its timeout; others park on a condition variable. So no thread exists just to drive timers or
// I/O, and a timer that fires wakes its task straight from the worker that will likely run it.
class Driver {
 public:
  using Clock = std::chrono::steady_clock;

  Driver();
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  bool try_lock() noexcept { return !held_.test_and_set(std::memory_order_acquire); }
  void unlock() noexcept { held_.clear(std::memory_order_release); }

  // With the driver held: waits for events, a timer or unpark(), for at most `timeout` (none:
  // until one of those), then dispatches at most `max_events` of the events (1..256; the rest
  // stay ready in the kernel, in their order, for the next call) and fires the timers that are
  // due.
  static constexpr std::size_t kMaxEvents = 256;
  void park(std::optional<std::chrono::milliseconds> timeout, std::size_t max_events = kMaxEvents);
  // Wakes park() from any thread.
  void unpark() noexcept;

  // Arms `node`; it fires (waking its Waiter) at or after node.when. Any thread.
  void add_timer(TimerNode& node);
  // Disarms `node` if it has not fired yet. Any thread.
  void cancel_timer(TimerNode& node) noexcept;
  std::size_t timers() const;

  // The clock the timers run on (paused by time::pause).
  PausableClock& clock() noexcept { return clock_; }
  // time::advance: moves the paused clock forward by `by` and fires the timers now due.
  void advance_clock(Clock::duration by);
  // A spawn_blocking job from its submission to its completion holds auto-advance back, as in
  // Tokio: the job is real time passing that a paused clock cannot see, so a timeout around it
  // must not fire at once. Any thread; the last allow unparks a paused driver so that it looks
  // again.
  void inhibit_auto_advance() noexcept;
  void allow_auto_advance() noexcept;

  // Adds `fd` (non-blocking, owned by the caller) to the epoll set, edge-triggered for both
  // directions. The registration belongs to the driver until deregister_io; null on error.
  IoRegistration* register_io(int fd, std::error_code& error);
  // Removes it from the epoll set (before the caller closes the descriptor). The memory is
  // released only once the next epoll_wait begins: the wait in progress may already hold an
  // event that points to it.
  void deregister_io(IoRegistration& registration) noexcept;

  std::size_t registered_io() const noexcept { return registered_.load(std::memory_order_relaxed); }
  std::uint64_t io_events() const noexcept { return io_events_.load(std::memory_order_relaxed); }

 private:
  std::uint64_t tick_at_or_after(Clock::time_point when) const noexcept;
  std::uint64_t tick_now() const noexcept;
  void fire_due_timers();
  // Paused clock, nothing ready: jump to `wake_tick` (the next timer) instead of sleeping there.
  void auto_advance_to(std::uint64_t wake_tick) noexcept;
  void dispatch(IoRegistration& registration, std::uint32_t events) noexcept;
  void release_deregistered() noexcept;

  UniqueFd epoll_;
  UniqueFd wakeup_;  // an eventfd in the epoll set
  std::atomic_flag held_;
  const Clock::time_point epoch_ = Clock::now();

  mutable std::mutex timers_mutex_;
  TimerWheel wheel_;
  std::mutex io_mutex_;
  RegistrationSlab registrations_;         // guarded by io_mutex_
  std::vector<IoRegistration*> released_;  // guarded by io_mutex_
  std::atomic<std::size_t> registered_{0};
  std::atomic<std::uint64_t> io_events_{0};

  static constexpr std::uint64_t kNotParked = 0;
  static constexpr std::uint64_t kNever = UINT64_MAX;
  // While parked: the tick it wakes at by itself; a timer due earlier must unpark it.
  std::uint64_t parked_until_ = kNotParked;  // guarded by timers_mutex_

  // Last, so that the members above keep the layout they had before it (it is cold unless a
  // test paused the clock).
  PausableClock clock_{epoch_};
  std::atomic<std::size_t> auto_advance_inhibitors_{0};
};

}  // namespace brigade::runtime::detail
