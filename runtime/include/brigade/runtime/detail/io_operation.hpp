#pragma once

#include <sys/types.h>

#include <coroutine>
#include <cstddef>
#include <expected>
#include <system_error>

#include "brigade/runtime/detail/io_handle.hpp"
#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime::detail {

// One non-blocking socket operation (a recv, a send, a sendmsg) as a plain awaiter, so that a
// task waiting on a socket holds nothing beyond this object in its own frame: no coroutine frame
// per pending read, which is most of what an idle connection would otherwise cost.
//
// Awaiting it takes one unit of the task's cooperative budget (yielding first when none is
// left), then makes the system call while the driver says the descriptor is ready. On EAGAIN it
// registers its Waiter with the descriptor and suspends; when woken, the task calls retry()
// before resuming, which makes the call again and, if the wake-up was spurious, registers again
// without resuming the coroutine.
//
// Movable only before it is awaited (join and select move their operands into their branches).
class IoOperation : public Waiter {
 public:
  using Result = std::expected<std::size_t, std::error_code>;

  IoOperation(const IoOperation&) = delete;
  IoOperation& operator=(const IoOperation&) = delete;
  IoOperation& operator=(IoOperation&&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
  Result await_resume() noexcept {
    linked_ = false;
    return result_;
  }

 protected:
  // Makes the system call once: the bytes moved, or -1 with errno set.
  using Perform = ssize_t (*)(IoOperation& self) noexcept;

  IoOperation(const IoHandle& io, Interest interest, Perform perform) noexcept
      : io_(&io), perform_(perform), interest_(interest) {}
  IoOperation(IoOperation&& other) noexcept;
  ~IoOperation();

  int fd() const noexcept { return io_->fd(); }

 private:
  static bool retry_after_wake(Waiter& waiter) noexcept;
  // Tries until the call completes (true, result_ set) or would block (false, registered).
  bool attempt() noexcept;

  const IoHandle* io_;
  Perform perform_;
  Result result_{0};
  Interest interest_;
  bool linked_ = false;  // this Waiter may be held by the registration or the task's ready list
};

}  // namespace brigade::runtime::detail
