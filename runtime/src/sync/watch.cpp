#include "brigade/runtime/sync/watch.hpp"

namespace brigade::runtime::detail {

bool WatchCore::park(WatchNode& node, std::uint64_t seen,
                     std::coroutine_handle<> awaiting) noexcept {
  std::lock_guard lock(waiters_mutex_);
  // A sender bumps the version before it takes this lock to wake us, so a change made before we
  // got here is visible now, and one made after finds us queued.
  if (version() != seen || sender_dropped()) return false;
  node.seen = seen;
  node.arm(awaiting);
  waiters_.push_back(node);
  return true;
}

void WatchCore::unpark(WatchNode& node) noexcept { waiters_.withdraw(node, waiters_mutex_); }

void WatchCore::yield_turn(WaitNode& node, std::coroutine_handle<> awaiting) noexcept {
  coop::count_forced_yield();
  node.arm(awaiting);
  node.task->yield_now(node);
}

void WatchCore::notify_receivers() noexcept {
  std::lock_guard lock(waiters_mutex_);
  // A waiter that parked after seeing this very version stays: its wake-up is the next change.
  const std::uint64_t current = version();
  waiters_.wake_if(
      [current](WaitNode& node) { return static_cast<WatchNode&>(node).seen != current; });
}

void WatchCore::drop_sender() noexcept {
  sender_dropped_.store(true, std::memory_order_release);
  std::lock_guard lock(waiters_mutex_);
  waiters_.wake_all();
}

}  // namespace brigade::runtime::detail
