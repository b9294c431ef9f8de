#include "brigade/runtime/sync/oneshot.hpp"

namespace brigade::runtime::detail {

bool OneshotCore::park_receiver(WaitNode& node, std::coroutine_handle<> awaiting) noexcept {
  std::lock_guard lock(mutex_);
  if (has_value_ || sender_done_ || receiver_closed_) return false;
  node.arm(awaiting);
  receivers_.push_back(node);
  return true;
}

void OneshotCore::unpark_receiver(WaitNode& node) noexcept {
  receivers_.withdraw(node, mutex_);  // if the sender already woke it, the value stays stored
}

void OneshotCore::close_receiver() noexcept {
  std::lock_guard lock(mutex_);
  receiver_closed_ = true;
  senders_.wake_all();
}

bool OneshotCore::is_closed() const noexcept {
  std::lock_guard lock(mutex_);
  return receiver_closed_;
}

bool OneshotCore::park_sender(WaitNode& node, std::coroutine_handle<> awaiting) noexcept {
  std::lock_guard lock(mutex_);
  if (receiver_closed_) return false;
  node.arm(awaiting);
  senders_.push_back(node);
  return true;
}

void OneshotCore::unpark_sender(WaitNode& node) noexcept { senders_.withdraw(node, mutex_); }

void OneshotCore::drop_sender() noexcept {
  std::lock_guard lock(mutex_);
  if (!sender_done_) finish_sending_locked(false);
}

void OneshotCore::finish_sending_locked(bool stored_value) noexcept {
  has_value_ = stored_value;
  sender_done_ = true;
  receivers_.wake_all();
}

}  // namespace brigade::runtime::detail
