#include "brigade/runtime/sync/cancellation_token.hpp"

#include <cassert>
#include <utility>

namespace brigade::runtime {

struct CancellationToken::State {
  std::mutex mutex;
  std::atomic<bool> cancelled{false};          // written under mutex
  detail::WaitList waiters;                    // of Cancelled::node_; guarded by mutex
  std::vector<std::weak_ptr<State>> children;  // guarded by mutex
};

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

CancellationToken CancellationToken::child_token() const {
  auto child = std::make_shared<State>();
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->cancelled.load(std::memory_order_relaxed)) {
      // Children that are gone are dropped here, so a long-lived parent does not accumulate them.
      std::erase_if(state_->children, [](const std::weak_ptr<State>& c) { return c.expired(); });
      state_->children.push_back(child);
      return CancellationToken(std::move(child));
    }
  }
  child->cancelled.store(true, std::memory_order_release);
  return CancellationToken(std::move(child));
}

void CancellationToken::cancel() const noexcept {
  std::vector<std::weak_ptr<State>> children;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->cancelled.load(std::memory_order_relaxed)) return;
    state_->cancelled.store(true, std::memory_order_release);
    state_->waiters.wake_all();
    children = std::move(state_->children);
  }
  // One lock at a time, parent before child: no lock order to get wrong.
  for (const auto& weak : children) {
    if (auto child = weak.lock()) CancellationToken(std::move(child)).cancel();
  }
}

bool CancellationToken::is_cancelled() const noexcept {
  return state_->cancelled.load(std::memory_order_acquire);
}

CancellationToken::Cancelled::Cancelled(Cancelled&& other) noexcept : state_(other.state_) {
  assert(!other.suspended_ && "a Cancelled cannot move once awaited");
}

CancellationToken::Cancelled::~Cancelled() {
  if (suspended_) state_->waiters.withdraw(node_, state_->mutex);
}

bool CancellationToken::Cancelled::await_ready() const noexcept {
  return state_->cancelled.load(std::memory_order_acquire);
}

bool CancellationToken::Cancelled::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  detail::record_wait(WaitReason::cancellation);
  std::lock_guard lock(state_->mutex);
  if (state_->cancelled.load(std::memory_order_relaxed)) return false;
  node_.arm(awaiting);
  state_->waiters.push_back(node_);
  suspended_ = true;
  return true;
}

}  // namespace brigade::runtime
