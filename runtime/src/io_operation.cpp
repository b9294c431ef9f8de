#include "brigade/runtime/detail/io_operation.hpp"

#include <cerrno>
#include <mutex>

#include "brigade/runtime/coop.hpp"
#include "readiness.hpp"

namespace brigade::runtime::detail {
IoOperation::IoOperation(IoOperation&& other) noexcept
    : WaitNode(), io_(other.io_), outcome_(other.outcome_) {
  retry = other.retry;
}

IoOperation::~IoOperation() {
  if (task != nullptr) io_->withdraw(*this);
}

bool IoOperation::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  task = &expect_current_task();
  handle = awaiting;
  // Budget first, before the call: a yield here can be cancelled (by select or timeout) without
  // losing bytes already moved.
  if (!coop::try_consume()) {
    coop::count_forced_yield();
    task->yield_now(*this);  // the retry hook makes the call when the task's turn comes
    return true;
  }
  if (retry(*this)) {
    task = nullptr;  // done without waiting: nothing holds the Waiter
    return false;
  }
  return true;
}

bool IoOperation::attempt(Interest interest, Perform perform, bool edge_confirms) noexcept {
  IoRegistration& io = *io_;
  const std::uint8_t ready = io.ready_mask(interest);
  for (;;) {
    std::uint64_t tick = 0;
    {
      std::lock_guard guard(io.lock);
      if ((io.readiness & ready) == 0) {
        task->set_wait(interest == Interest::read ? WaitReason::read : WaitReason::write,
                       static_cast<std::uint64_t>(io.fd));
        io.waiters(interest).push_back(*this);
        return false;  // the driver wakes us on the next readiness event
      }
      tick = io.tick;
      if (interest == Interest::read && io.spend_read_edge() && edge_confirms) {
        outcome_ = 0;
        return true;
      }
    }
    const ssize_t moved = perform(*this);
    if (moved >= 0) {
      outcome_ = moved;
      return true;
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error != EAGAIN && error != EWOULDBLOCK) {
      outcome_ = -error;
      return true;
    }
    clear_readiness(io, interest, tick);
  }
}

}  // namespace brigade::runtime::detail
