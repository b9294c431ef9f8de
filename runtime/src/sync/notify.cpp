#include "brigade/runtime/sync/notify.hpp"

#include <cassert>

namespace brigade::runtime {

Notify::Notified::Notified(Notify& notify) noexcept
    : notify_(&notify), waiters_calls_(notify.waiters_calls_.load(std::memory_order_acquire)) {}

Notify::Notified::Notified(Notified&& other) noexcept
    : notify_(other.notify_), waiters_calls_(other.waiters_calls_) {
  assert(!other.suspended_ && "a Notified cannot move once awaited");
}

Notify::Notified::~Notified() {
  if (!suspended_ || resumed_) return;
  Notify& notify = *notify_;
  notify.waiters_.withdraw(node_, notify.mutex_, [&](bool was_linked) noexcept {
    // Picked by notify_one() but never resumed: someone else must get that notification.
    if (!was_linked && node_.woken == Woken::by_notify_one) notify.notify_one_locked();
  });
}

bool Notify::Notified::await_ready() const noexcept {
  // A notify_waiters() since creation completes this without taking the lock.
  return notify_->waiters_calls_.load(std::memory_order_acquire) != waiters_calls_;
}

bool Notify::Notified::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  detail::record_wait(WaitReason::notify);
  Notify& notify = *notify_;
  std::lock_guard lock(notify.mutex_);
  if (notify.waiters_calls_.load(std::memory_order_relaxed) != waiters_calls_) return false;
  if (notify.permit_) {
    notify.permit_ = false;
    return false;
  }
  node_.arm(awaiting);
  notify.waiters_.push_back(node_);
  suspended_ = true;
  return true;
}

void Notify::notify_one() noexcept {
  std::lock_guard lock(mutex_);
  notify_one_locked();
}

void Notify::notify_one_locked() noexcept {
  if (waiters_.empty()) {
    permit_ = true;
    return;
  }
  static_cast<NotifyNode&>(*waiters_.front()).woken = Woken::by_notify_one;
  waiters_.wake_front();
}

void Notify::notify_waiters() noexcept {
  std::lock_guard lock(mutex_);
  waiters_calls_.fetch_add(1, std::memory_order_release);
  while (!waiters_.empty()) {
    static_cast<NotifyNode&>(*waiters_.front()).woken = Woken::by_notify_waiters;
    waiters_.wake_front();
  }
}

}  // namespace brigade::runtime
