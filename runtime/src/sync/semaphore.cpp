#include "brigade/runtime/sync/semaphore.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

namespace brigade::runtime {

SemaphorePermit::SemaphorePermit(SemaphorePermit&& other) noexcept
    : semaphore_(std::exchange(other.semaphore_, nullptr)),
      count_(std::exchange(other.count_, 0)) {}

SemaphorePermit& SemaphorePermit::operator=(SemaphorePermit&& other) noexcept {
  if (this != &other) {
    SemaphorePermit old(std::move(*this));  // gives back what this held, at the end of scope
    semaphore_ = std::exchange(other.semaphore_, nullptr);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

SemaphorePermit::~SemaphorePermit() {
  if (semaphore_ != nullptr && count_ != 0) semaphore_->add_permits(count_);
}

Semaphore::Semaphore(std::size_t permits) : available_(permits) {
  if (permits > kMaxPermits) throw std::invalid_argument("Semaphore: more than kMaxPermits");
}

Semaphore::Acquire::Acquire(Semaphore& semaphore, std::size_t n) noexcept : semaphore_(&semaphore) {
  node_.wanted = n;
}

Semaphore::Acquire::Acquire(Acquire&& other) noexcept : semaphore_(other.semaphore_) {
  assert(!other.suspended_ && "an Acquire cannot move once awaited");
  node_.wanted = other.node_.wanted;
}

Semaphore::Acquire::~Acquire() {
  if (!suspended_ || resumed_) return;
  // Cancelled while queued, or woken and never resumed: whatever was set aside for this acquirer
  // goes to the next ones (close() already took back the permits of closed acquirers).
  Semaphore& sem = *semaphore_;
  sem.waiters_.withdraw(node_, sem.mutex_, [&](bool) noexcept {
    sem.add_permits_locked(std::exchange(node_.assigned, 0));
  });
}

bool Semaphore::Acquire::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  detail::record_wait(WaitReason::semaphore);
  Semaphore& sem = *semaphore_;
  std::lock_guard lock(sem.mutex_);
  if (sem.closed_) {
    node_.outcome = Outcome::closed;
    return false;
  }
  // available_ is 0 while anyone is queued, so this also keeps to arrival order.
  if (sem.available_ >= node_.wanted && sem.waiters_.empty()) {
    sem.available_ -= node_.wanted;
    node_.assigned = node_.wanted;
    node_.outcome = Outcome::granted;
    return false;
  }
  // Take what there is: this acquirer is now the head (or behind one that holds everything).
  node_.assigned = std::exchange(sem.available_, 0);
  node_.arm(awaiting);
  sem.waiters_.push_back(node_);
  suspended_ = true;
  return true;
}

std::expected<SemaphorePermit, AcquireError> Semaphore::Acquire::await_resume() noexcept {
  resumed_ = true;
  // The outcome was written under the semaphore's lock before the wake-up that resumed us.
  if (node_.outcome == Outcome::closed) return std::unexpected(AcquireError{});
  node_.assigned = 0;  // now owned by the permit
  return SemaphorePermit(semaphore_, node_.wanted);
}

std::optional<SemaphorePermit> Semaphore::try_acquire(std::size_t n) noexcept {
  std::lock_guard lock(mutex_);
  if (closed_ || !waiters_.empty() || available_ < n) return std::nullopt;
  available_ -= n;
  return SemaphorePermit(this, n);
}

void Semaphore::add_permits(std::size_t n) noexcept {
  std::lock_guard lock(mutex_);
  add_permits_locked(n);
}

void Semaphore::add_permits_locked(std::size_t n) noexcept {
  if (n > kMaxPermits - available_) {
    std::fputs("brigade: Semaphore permits overflowed kMaxPermits\n", stderr);
    std::terminate();
  }
  available_ += n;
  serve_waiters_locked();
}

void Semaphore::serve_waiters_locked() noexcept {
  while (!waiters_.empty()) {
    auto& head = static_cast<AcquireNode&>(*waiters_.front());
    std::size_t given = std::min(head.wanted - head.assigned, available_);
    head.assigned += given;
    available_ -= given;
    if (head.assigned < head.wanted) return;  // the head holds back everyone behind it
    head.outcome = Outcome::granted;
    waiters_.wake_front();
  }
}

std::size_t Semaphore::available_permits() const noexcept {
  std::lock_guard lock(mutex_);
  return available_;
}

void Semaphore::close() noexcept {
  std::lock_guard lock(mutex_);
  closed_ = true;
  while (!waiters_.empty()) {
    auto& head = static_cast<AcquireNode&>(*waiters_.front());
    available_ += std::exchange(head.assigned, 0);
    head.outcome = Outcome::closed;
    waiters_.wake_front();
  }
}

bool Semaphore::is_closed() const noexcept {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace brigade::runtime
