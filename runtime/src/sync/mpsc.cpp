#include "brigade/runtime/sync/mpsc.hpp"

#include <stdexcept>

namespace brigade::runtime::detail {

MpscCore::MpscCore(std::size_t capacity) : capacity_(capacity), permits_(capacity) {
  // Tokio refuses 0 too: a rendezvous channel needs a different design.
  if (capacity == 0) throw std::invalid_argument("mpsc::channel: capacity must be at least 1");
}

void MpscCore::add_sender() noexcept {
  std::lock_guard lock(mutex_);
  ++senders_;
}

void MpscCore::drop_sender() noexcept {
  std::lock_guard lock(mutex_);
  --senders_;
  wake_receiver_if_done_locked();
}

void MpscCore::close() noexcept {
  std::lock_guard lock(mutex_);
  closed_ = true;
  fail_waiting_senders_locked();
  wake_receiver_if_done_locked();
}

bool MpscCore::is_closed() const noexcept {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::size_t MpscCore::available_permits() const noexcept {
  std::lock_guard lock(mutex_);
  return permits_;
}

void MpscCore::cancel_send(MpscSendNode& node) noexcept {
  waiting_senders_.withdraw(node, mutex_, [&](bool was_linked) noexcept {
    if (was_linked || node.outcome != MpscSendNode::Outcome::granted) return;
    --reserved_;
    release_permit_locked();
    wake_receiver_if_done_locked();
  });
}

void MpscCore::release_permit() noexcept {
  std::lock_guard lock(mutex_);
  release_permit_locked();
}

void MpscCore::yield_turn(WaitNode& node, std::coroutine_handle<> awaiting) noexcept {
  coop::count_forced_yield();
  node.arm(awaiting);
  node.task->yield_now(node);
}

void MpscCore::release_permit_locked() noexcept {
  WaitNode* next = waiting_senders_.pop_front();
  if (next == nullptr) {
    ++permits_;
    return;
  }
  static_cast<MpscSendNode*>(next)->outcome = MpscSendNode::Outcome::granted;
  ++reserved_;
  next->task->wake(*next);
}

void MpscCore::wake_receiver_if_done_locked() noexcept {
  if (senders_done_locked()) waiting_receiver_.wake_front();
}

void MpscCore::fail_waiting_senders_locked() noexcept {
  while (WaitNode* node = waiting_senders_.pop_front()) {
    static_cast<MpscSendNode*>(node)->outcome = MpscSendNode::Outcome::closed;
    node->task->wake(*node);
  }
}

}  // namespace brigade::runtime::detail
