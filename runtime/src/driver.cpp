#include "driver.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>

#include "brigade/runtime/detail/socket_calls.hpp"

namespace brigade::runtime::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

Driver::Driver()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wakeup_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!epoll_) throw_errno("epoll_create1");
  if (!wakeup_) throw_errno("eventfd");
  epoll_event event{};
  event.events = EPOLLIN;  // level-triggered: park() drains it, so one write wakes one park
  event.data.ptr = nullptr;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_.get(), &event) != 0) {
    throw_errno("epoll_ctl(eventfd)");
  }
}

// Every handle is gone by now (none may outlive the runtime); the last deregistrations wait here.
Driver::~Driver() { release_deregistered(); }

std::uint64_t Driver::tick_now() const noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - epoch_).count());
}

std::uint64_t Driver::tick_at_or_after(Clock::time_point when) const noexcept {
  if (when <= epoch_) return 0;
  // Round up: a timer fires when tick_now() >= its tick, so never before `when`.
  const auto since = std::chrono::ceil<std::chrono::milliseconds>(when - epoch_);
  return static_cast<std::uint64_t>(since.count());
}

void Driver::park(std::optional<std::chrono::milliseconds> timeout, std::size_t max_events) {
  const std::uint64_t now = tick_now();
  std::uint64_t wake_tick = kNever;
  if (timeout) wake_tick = now + static_cast<std::uint64_t>(timeout->count());
  {
    // Under the timers' lock, so that add_timer either lands in the wheel before we look at it,
    // or sees parked_until_ and unparks us.
    std::lock_guard guard(timers_mutex_);
    if (auto next = wheel_.next_expiration()) wake_tick = std::min(wake_tick, *next);
    parked_until_ = wake_tick;
  }
  // A paused clock does not move while we wait, so a timer never ends the wait: only look, then
  // auto-advance. While a blocking job holds auto-advance back, wait as long as the timer would
  // in real time (Tokio's rule); the job's end unparks us.
  const bool auto_advance =
      clock_.paused() && auto_advance_inhibitors_.load(std::memory_order_acquire) == 0;
  int timeout_ms = -1;
  if (wake_tick != kNever) {
    constexpr std::uint64_t kMaxWaitMs = 60'000;
    const bool look_only = wake_tick <= now || auto_advance;
    timeout_ms = static_cast<int>(look_only ? 0 : std::min(wake_tick - now, kMaxWaitMs));
  }
  release_deregistered();
  epoll_event events[kMaxEvents];
  const int ready = sys::epoll_wait(
      epoll_.get(), events, static_cast<int>(std::clamp<std::size_t>(max_events, 1, kMaxEvents)),
      timeout_ms);
  {
    std::lock_guard guard(timers_mutex_);
    parked_until_ = kNotParked;
  }
  for (int i = 0; i < ready; ++i) {
    if (events[i].data.ptr == nullptr) {
      std::uint64_t count = 0;
      [[maybe_unused]] const auto n = ::read(wakeup_.get(), &count, sizeof count);
    } else {
      dispatch(*static_cast<IoRegistration*>(events[i].data.ptr), events[i].events);
    }
  }
  if (ready > 0) io_events_.fetch_add(static_cast<std::uint64_t>(ready), std::memory_order_relaxed);
  // As Tokio's test-util: time jumps only when nothing at all was ready, no I/O event and no
  // wake-up (a task woken from another thread, a spawn): those run first, at the same instant.
  if (auto_advance && ready == 0 && wake_tick != kNever) [[unlikely]]
    auto_advance_to(wake_tick);
  fire_due_timers();
}

void Driver::auto_advance_to(std::uint64_t wake_tick) noexcept {
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - epoch_);
  const auto ticks = std::min<std::uint64_t>(wake_tick, static_cast<std::uint64_t>(room.count()));
  clock_.advance_to(epoch_ + std::chrono::milliseconds(ticks));
}

void Driver::inhibit_auto_advance() noexcept {
  auto_advance_inhibitors_.fetch_add(1, std::memory_order_relaxed);
}

void Driver::allow_auto_advance() noexcept {
  if (auto_advance_inhibitors_.fetch_sub(1, std::memory_order_acq_rel) == 1 && clock_.paused()) {
    unpark();
  }
}

void Driver::advance_clock(Clock::duration by) {
  clock_.advance(by);
  fire_due_timers();
}

void Driver::dispatch(IoRegistration& io, std::uint32_t events) noexcept {
  std::uint8_t readiness = 0;
  if ((events & (EPOLLIN | EPOLLPRI)) != 0) readiness |= kReadable;
  if ((events & EPOLLOUT) != 0) readiness |= kWritable;
  if ((events & (EPOLLRDHUP | EPOLLHUP)) != 0) readiness |= kReadClosed;
  if ((events & EPOLLHUP) != 0) readiness |= kWriteClosed;
  if ((events & EPOLLERR) != 0) readiness |= kError;
  if ((readiness & (kReadable | kReadClosed | kError)) != 0) readiness |= kReadEdge;
  std::lock_guard guard(io.lock);
  io.readiness |= readiness;
  ++io.tick;
  // Woken under the registration's lock, which the awaiters take to deregister themselves.
  // All of them: those that find nothing left to read (another acceptor took the connection)
  // wait again.
  if ((io.readiness & io.ready_mask(Interest::read)) != 0) io.readers.wake_all();
  if ((io.readiness & io.ready_mask(Interest::write)) != 0) io.writers.wake_all();
}

IoRegistration* Driver::register_io(int fd, std::error_code& error) {
  IoRegistration* io = nullptr;
  {
    std::lock_guard guard(io_mutex_);
    io = std::construct_at(static_cast<IoRegistration*>(registrations_.allocate()), fd, *this);
  }
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
  event.data.ptr = io;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    error = std::error_code(errno, std::generic_category());
    std::lock_guard guard(io_mutex_);
    std::destroy_at(io);
    registrations_.release(io);
    return nullptr;
  }
  registered_.fetch_add(1, std::memory_order_relaxed);
  return io;
}

void Driver::deregister_io(IoRegistration& io) noexcept {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, io.fd, nullptr);
  registered_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard guard(io_mutex_);
  released_.push_back(&io);
}

void Driver::release_deregistered() noexcept {
  std::lock_guard guard(io_mutex_);
  for (IoRegistration* io : released_) {
    std::destroy_at(io);
    registrations_.release(io);
  }
  released_.clear();
}

void Driver::unpark() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wakeup_.get(), &one, sizeof one);
}

void Driver::add_timer(TimerNode& node) {
  const std::uint64_t deadline = tick_at_or_after(node.when);
  bool wake_parked = false;
  {
    std::lock_guard guard(timers_mutex_);
    node.deadline = deadline;
    wheel_.insert(node);
    wake_parked = parked_until_ != kNotParked && node.deadline < parked_until_;
  }
  if (wake_parked) unpark();
}

void Driver::cancel_timer(TimerNode& node) noexcept {
  std::lock_guard guard(timers_mutex_);
  wheel_.remove(node);
}

std::size_t Driver::timers() const {
  std::lock_guard guard(timers_mutex_);
  return wheel_.size();
}

void Driver::fire_due_timers() {
  std::lock_guard guard(timers_mutex_);
  // Woken under the wheel's lock: a Sleep being destroyed takes it before forgetting its waiter.
  wheel_.advance(tick_now(), [](TimerEntry& entry) {
    auto& node = static_cast<TimerNode&>(entry);
    node.waiter.task->wake(node.waiter);
  });
}

}  // namespace brigade::runtime::detail
