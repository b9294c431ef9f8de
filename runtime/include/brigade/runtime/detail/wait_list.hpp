#pragma once

#include <coroutine>
#include <mutex>

#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime::detail {

// A Waiter that can sit in a resource's list of waiters (a socket's readers, a channel's
// receivers, a semaphore's acquirers). Lives in the awaiter, like the Waiter it is.
struct WaitNode : Waiter {
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;  // null exactly when the node is on no list

  bool linked() const noexcept { return next != nullptr; }

  // Fills in the running task and the coroutine to resume; call from await_suspend.
  void arm(std::coroutine_handle<> awaiting) noexcept {
    task = &expect_current_task();
    handle = awaiting;
  }
};

// Any number of waiters on one resource, oldest first: every resource keeps its waiters in one of
// these and follows the rules of detail::Waiter through it, so that no awaiter has to spell them
// out again:
//  - the resource wakes (wake_front, wake_all, wake_if) while holding its own lock;
//  - an awaiter destroyed before it was resumed calls withdraw() with that same lock.
//
// Intrusive and circular through the nodes, so the list itself is one pointer (an I/O
// registration holds two). Not synchronised: the owning resource's lock guards it.
class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  WaitNode* front() const noexcept { return head_; }
  // The node after `node`, or null at the end.
  WaitNode* next_of(const WaitNode& node) const noexcept {
    return node.next == head_ ? nullptr : node.next;
  }

  void push_back(WaitNode& node) noexcept {
    if (head_ == nullptr) {
      node.prev = node.next = &node;
      head_ = &node;
      return;
    }
    node.prev = head_->prev;
    node.next = head_;
    head_->prev->next = &node;
    head_->prev = &node;
  }

  // Unlinks `node` if it is on this list (the resource may have woken it already). Returns
  // whether it was.
  bool remove(WaitNode& node) noexcept {
    if (!node.linked()) return false;
    if (node.next == &node) {
      head_ = nullptr;
    } else {
      node.prev->next = node.next;
      node.next->prev = node.prev;
      if (head_ == &node) head_ = node.next;
    }
    node.prev = node.next = nullptr;
    return true;
  }

  WaitNode* pop_front() noexcept {
    WaitNode* node = head_;
    if (node != nullptr) remove(*node);
    return node;
  }

  // Unlinks the oldest waiter and hands it back to its task. Returns false if there was none.
  bool wake_front() noexcept {
    WaitNode* node = pop_front();
    if (node == nullptr) return false;
    node->task->wake(*node);
    return true;
  }

  void wake_all() noexcept {
    while (wake_front()) {
    }
  }

  // Wakes, oldest first, every waiter for which `should_wake(node)` holds.
  template <class Predicate>
  void wake_if(Predicate should_wake) noexcept {
    for (WaitNode* node = head_; node != nullptr;) {
      WaitNode* next = next_of(*node);  // read first: `node` may be gone once woken
      if (should_wake(*node)) {
        remove(*node);
        node->task->wake(*node);
      }
      node = next;
    }
  }

  // For an awaiter destroyed before it was resumed (its task was aborted, or it lost a select):
  // takes `node` back from this list under `lock`, the resource's lock, and from its task's
  // ready list, in that order. `under_lock(bool was_linked)` runs inside the same critical
  // section: when the node had been woken already (not linked) it passes on what the wake-up
  // granted it (a permit, a notification), so nothing is lost.
  template <class Lock, class UnderLock>
  void withdraw(WaitNode& node, Lock& lock, UnderLock under_lock) noexcept {
    {
      std::lock_guard guard(lock);
      under_lock(remove(node));
    }
    node.task->forget(node);
  }
  template <class Lock>
  void withdraw(WaitNode& node, Lock& lock) noexcept {
    withdraw(node, lock, [](bool) noexcept {});
  }

 private:
  WaitNode* head_ = nullptr;  // the oldest; head_->prev is the newest
};

}  // namespace brigade::runtime::detail
