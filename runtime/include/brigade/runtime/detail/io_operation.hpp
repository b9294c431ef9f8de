#pragma once

#include <sys/types.h>

#include <coroutine>
#include <cstddef>

#include "brigade/runtime/detail/interest.hpp"
#include "brigade/runtime/detail/io_registration.hpp"
#include "brigade/runtime/detail/wait_list.hpp"
#include "brigade/runtime/net/io_error.hpp"

namespace brigade::runtime::detail {

// One non-blocking socket operation (a recv, a send, a sendmsg, a readiness probe) as a plain
// awaiter, so that a task waiting on a socket holds nothing beyond this object in its own frame:
// no coroutine frame per pending read, which is most of what an idle connection would otherwise
// cost. It is kept small for the same reason (64 bytes before the operation's own arguments).
//
// Awaiting it takes one unit of the task's cooperative budget (yielding first when none is
// left), then makes the system call while the driver says the descriptor is ready. On EAGAIN it
// joins the descriptor's waiters and suspends; when woken, the task calls the Waiter's
// retry hook before resuming, which makes the call again and, if the wake-up was spurious,
// registers again without resuming the coroutine.
//
// Movable only before it is awaited (join and select move their operands into their branches).
class IoOperation : public WaitNode {
 public:
  using Result = net::IoResult<std::size_t>;

  IoOperation(const IoOperation&) = delete;
  IoOperation& operator=(const IoOperation&) = delete;
  IoOperation& operator=(IoOperation&&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
  Result await_resume() noexcept {
    task = nullptr;  // neither the registration nor the ready list holds it any more
    if (outcome_ < 0) return std::unexpected(net::IoError(static_cast<int>(-outcome_)));
    return static_cast<std::size_t>(outcome_);
  }

 protected:
  // Makes the system call once: the bytes moved, or -1 with errno set.
  using Perform = ssize_t (*)(IoOperation& self) noexcept;

  // The retry hook for an operation that waits for `interest` and then calls `perform`: one
  // function per kind of operation, so the awaiter stores neither.
  template <Interest interest, Perform perform>
  static bool attempt_with(Waiter& waiter) noexcept {
    return static_cast<IoOperation&>(waiter).attempt(interest, perform, false);
  }
  // For an operation whose call only confirms the readiness (readable()): an unspent read event
  // is confirmation enough, and the call is skipped.
  template <Interest interest, Perform perform>
  static bool confirm_with(Waiter& waiter) noexcept {
    return static_cast<IoOperation&>(waiter).attempt(interest, perform, true);
  }

  IoOperation(IoRegistration& io, bool (*retry_hook)(Waiter&) noexcept) noexcept : io_(&io) {
    retry = retry_hook;
  }
  IoOperation(IoOperation&& other) noexcept;
  ~IoOperation();

  int fd() const noexcept { return io_->fd; }

 private:
  // Tries until the call completes (true, outcome_ set) or would block (false, registered).
  bool attempt(Interest interest, Perform perform, bool edge_confirms) noexcept;

  // While the Waiter's `task` is set, the registration or the task's ready list may hold it.
  IoRegistration* io_;
  ssize_t outcome_ = 0;  // bytes moved, or -errno
};

}  // namespace brigade::runtime::detail
