#pragma once

#include <coroutine>

#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime::detail {

// A Waiter that can sit in a resource's FIFO of waiters (a channel's receivers, a semaphore's
// acquirers). Lives in the awaiter, like the Waiter it wraps.
struct WaitNode {
  Waiter waiter;
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
  bool linked = false;

  // Fills in the running task and the coroutine to resume; call from await_suspend.
  void arm(std::coroutine_handle<> awaiting) noexcept {
    waiter.task = &expect_current_task();
    waiter.handle = awaiting;
  }
};

// An intrusive FIFO of WaitNodes. Not synchronised: the owning resource's lock guards it, and
// the wake-up rules of detail::Waiter apply (wake under that lock).
class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  WaitNode* front() const noexcept { return head_; }

  void push_back(WaitNode& node) noexcept {
    node.prev = tail_;
    node.next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = &node;
    tail_ = &node;
    node.linked = true;
  }

  void remove(WaitNode& node) noexcept {
    if (!node.linked) return;
    (node.prev != nullptr ? node.prev->next : head_) = node.next;
    (node.next != nullptr ? node.next->prev : tail_) = node.prev;
    node.prev = node.next = nullptr;
    node.linked = false;
  }

  WaitNode* pop_front() noexcept {
    WaitNode* node = head_;
    if (node != nullptr) remove(*node);
    return node;
  }

  // Unlinks the first waiter and hands it back to its task. Returns false if there was none.
  bool wake_front() noexcept {
    WaitNode* node = pop_front();
    if (node == nullptr) return false;
    node->waiter.task->wake(node->waiter);
    return true;
  }

  void wake_all() noexcept {
    while (wake_front()) {
    }
  }

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
};

}  // namespace brigade::runtime::detail
