#pragma once

#include <coroutine>
#include <cstdint>
#include <mutex>

#include "brigade/runtime/detail/io_registration.hpp"
#include "brigade/runtime/detail/task_header.hpp"

namespace brigade::runtime::detail {

// Waits until `io` is ready for `interest` (at once if the driver already said so) and yields the
// event tick observed, for clear_readiness().
class ReadinessAwaiter {
 public:
  ReadinessAwaiter(IoRegistration& io, Interest interest) noexcept : io_(io), interest_(interest) {}
  ReadinessAwaiter(const ReadinessAwaiter&) = delete;
  ReadinessAwaiter& operator=(const ReadinessAwaiter&) = delete;
  ~ReadinessAwaiter() {
    if (registered_) io_.waiters(interest_).withdraw(node_, io_.lock);
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
    std::lock_guard guard(io_.lock);
    if ((io_.readiness & io_.ready_mask(interest_)) != 0) {
      tick_ = io_.tick;
      return false;
    }
    node_.arm(awaiting);
    node_.task->set_wait(interest_ == Interest::read ? WaitReason::read : WaitReason::write,
                         static_cast<std::uint64_t>(io_.fd));
    io_.waiters(interest_).push_back(node_);
    registered_ = true;
    return true;
  }
  std::uint64_t await_resume() noexcept {
    if (registered_) {
      registered_ = false;
      std::lock_guard guard(io_.lock);
      tick_ = io_.tick;
    }
    return tick_;
  }

 private:
  IoRegistration& io_;
  Interest interest_;
  WaitNode node_;
  std::uint64_t tick_ = 0;
  bool registered_ = false;
};

inline ReadinessAwaiter ready(IoRegistration& io, Interest interest) noexcept {
  return ReadinessAwaiter(io, interest);
}

// The operation hit EAGAIN (or emptied the socket): forget the readiness seen at `tick`, unless a
// newer event came in since (then the operation is simply retried).
inline void clear_readiness(IoRegistration& io, Interest interest, std::uint64_t tick) noexcept {
  std::lock_guard guard(io.lock);
  if (io.tick != tick) return;
  io.readiness &= static_cast<std::uint8_t>(interest == Interest::read ? ~(kReadable | kReadEdge)
                                                                       : ~kWritable);
}

}  // namespace brigade::runtime::detail
