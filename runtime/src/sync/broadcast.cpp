#include "brigade/runtime/sync/broadcast.hpp"

#include <stdexcept>

namespace brigade::runtime::detail {

void throw_zero_broadcast_capacity() {
  throw std::invalid_argument("broadcast::channel: capacity must be at least 1");
}

void BroadcastCore::add_sender() noexcept {
  std::lock_guard lock(mutex_);
  ++senders_;
}

void BroadcastCore::drop_sender() noexcept {
  std::lock_guard lock(mutex_);
  if (--senders_ == 0) waiters_.wake_all();
}

std::uint64_t BroadcastCore::add_receiver() noexcept {
  std::lock_guard lock(mutex_);
  ++receivers_;
  return tail_;
}

std::size_t BroadcastCore::receiver_count() const noexcept {
  std::lock_guard lock(mutex_);
  return receivers_;
}

void BroadcastCore::unpark(WaitNode& node) noexcept { waiters_.withdraw(node, mutex_); }

void BroadcastCore::yield_turn(WaitNode& node, std::coroutine_handle<> awaiting) noexcept {
  coop::count_forced_yield();
  node.arm(awaiting);
  node.task->yield_now(node);
}

void BroadcastCore::park_locked(WaitNode& node, std::coroutine_handle<> awaiting) noexcept {
  node.arm(awaiting);
  waiters_.push_back(node);
}

}  // namespace brigade::runtime::detail
