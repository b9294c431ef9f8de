#include "brigade/runtime/detail/io_operation.hpp"

#include <cerrno>
#include <mutex>

#include "brigade/runtime/coop.hpp"
#include "io_registration.hpp"
#include "readiness.hpp"

namespace brigade::runtime::detail {
namespace {

Waiter*& slot_of(IoRegistration& io, Interest interest) noexcept {
  return interest == Interest::read ? io.reader : io.writer;
}

}  // namespace

IoOperation::IoOperation(IoOperation&& other) noexcept
    : Waiter(),
      io_(other.io_),
      perform_(other.perform_),
      result_(other.result_),
      interest_(other.interest_) {}

IoOperation::~IoOperation() {
  if (!linked_) return;
  IoRegistration& io = io_->registration();
  {
    std::lock_guard guard(io.lock);
    Waiter*& slot = slot_of(io, interest_);
    if (slot == this) slot = nullptr;
  }
  task->forget(*this);
}

bool IoOperation::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  task = &expect_current_task();
  handle = awaiting;
  retry = &IoOperation::retry_after_wake;
  // Budget first, before the call: a yield here can be cancelled (by select or timeout) without
  // losing bytes already moved.
  if (!coop::try_consume()) {
    coop::count_forced_yield();
    linked_ = true;
    task->yield_now(*this);  // retry_after_wake makes the call when the task's turn comes
    return true;
  }
  return !attempt();
}

bool IoOperation::retry_after_wake(Waiter& waiter) noexcept {
  return static_cast<IoOperation&>(waiter).attempt();
}

bool IoOperation::attempt() noexcept {
  IoRegistration& io = io_->registration();
  const std::uint8_t ready = io.ready_mask(interest_);
  for (;;) {
    std::uint64_t tick = 0;
    {
      std::lock_guard guard(io.lock);
      if ((io.readiness & ready) == 0) {
        slot_of(io, interest_) = this;
        linked_ = true;
        return false;  // the driver wakes us on the next readiness event
      }
      tick = io.tick;
    }
    const ssize_t moved = perform_(*this);
    if (moved >= 0) {
      result_ = static_cast<std::size_t>(moved);
      return true;
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error != EAGAIN && error != EWOULDBLOCK) {
      result_ = std::unexpected(std::error_code(error, std::generic_category()));
      return true;
    }
    clear_readiness(io, interest_, tick);
  }
}

}  // namespace brigade::runtime::detail
