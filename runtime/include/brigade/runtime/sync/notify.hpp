#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>

#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime {

// Wakes tasks without sending them data, like tokio::sync::Notify.
//
// notify_one() wakes the longest-waiting task, or, if none waits, stores a single permit that
// the next notified() consumes at once (several calls still store one permit). notify_waiters()
// wakes every task waiting right now and stores nothing.
//
// Thread-safe. The Notify must outlive its Notified awaiters.
class Notify {
  enum class Woken : unsigned char { no, by_notify_one, by_notify_waiters };

  struct NotifyNode : detail::WaitNode {
    Woken woken = Woken::no;
  };

 public:
  Notify() noexcept = default;
  Notify(const Notify&) = delete;
  Notify& operator=(const Notify&) = delete;
  ~Notify() = default;

  // The awaiter of notified(). It counts notify_waiters() calls from the moment it is created,
  // not from when it is first awaited, so this does not miss a wake-up:
  //
  //   auto notified = notify.notified();
  //   if (!condition()) co_await notified;  // a notify_waiters() after the check still counts
  //
  // Destroyed while waiting (abort, select) it leaves the queue; if notify_one() had already
  // picked it, the notification passes to the next waiter (or back to the stored permit), so it
  // is never lost. Movable until awaited.
  class [[nodiscard]] Notified {
   public:
    Notified(Notified&& other) noexcept;
    Notified(const Notified&) = delete;
    Notified& operator=(const Notified&) = delete;
    Notified& operator=(Notified&&) = delete;
    ~Notified();

    bool await_ready() const noexcept;
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
    void await_resume() noexcept { resumed_ = true; }

   private:
    friend class Notify;
    explicit Notified(Notify& notify) noexcept;

    Notify* notify_;
    std::uint64_t waiters_calls_;  // notify_waiters() calls seen at creation
    NotifyNode node_;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  Notified notified() noexcept { return Notified(*this); }
  void notify_one() noexcept;
  void notify_waiters() noexcept;

 private:
  void notify_one_locked() noexcept;

  std::mutex mutex_;
  detail::WaitList waiters_;  // of NotifyNode; guarded by mutex_
  bool permit_ = false;       // guarded by mutex_
  // Written under mutex_; read without it when a Notified is created.
  std::atomic<std::uint64_t> waiters_calls_{0};
};

}  // namespace brigade::runtime
