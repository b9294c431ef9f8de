#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/wait_list.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime {
namespace watch {

// The sender is gone, and the receiver has already seen its last value.
struct RecvError {
  friend bool operator==(RecvError, RecvError) = default;
};

// Sender::send() found no receiver; the value comes back and was not stored.
template <class T>
struct SendError {
  T value;
};

}  // namespace watch

namespace detail {

// A changed() waiter, with the version its receiver had seen when it parked.
struct WatchNode : WaitNode {
  std::uint64_t seen = 0;
};

// The type-independent half of a watch channel: the version, the sender and receiver counts, and
// the tasks waiting in changed().
//
// version_ and sender_dropped_ are atomics so that has_changed() and the ready check of changed()
// take no lock. The waiters have their own mutex; a change is published (version bumped) before
// it is taken, and changed() re-checks the version under it, so no wake-up can be missed. Since
// the version is read outside that mutex, a receiver may already have seen a change whose
// notification is still on its way; each waiter therefore records the version it has seen, and
// a notification wakes only those behind the current version. So a woken changed() always finds
// a newer version or a dropped sender.
class WatchCore {
 public:
  WatchCore() noexcept = default;
  WatchCore(const WatchCore&) = delete;
  WatchCore& operator=(const WatchCore&) = delete;

  std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  bool sender_dropped() const noexcept { return sender_dropped_.load(std::memory_order_acquire); }
  std::size_t receiver_count() const noexcept { return receivers_.load(std::memory_order_acquire); }
  void add_receiver() noexcept { receivers_.fetch_add(1, std::memory_order_relaxed); }
  void drop_receiver() noexcept { receivers_.fetch_sub(1, std::memory_order_acq_rel); }

  // changed(): returns false (do not suspend) when the version differs from `seen` or the sender
  // is gone; else queues `node` until either happens.
  bool park(WatchNode& node, std::uint64_t seen, std::coroutine_handle<> awaiting) noexcept;
  // For a changed() awaiter destroyed before it was resumed.
  void unpark(WatchNode& node) noexcept;
  // Wakes the changed() waiters that have not seen the current version; call after bumping it.
  void notify_receivers() noexcept;
  void drop_sender() noexcept;
  // Sends the running task to the back of the run queue, to resume `node` on its next turn.
  static void yield_turn(WaitNode& node, std::coroutine_handle<> awaiting) noexcept;

 protected:
  ~WatchCore() = default;

  std::atomic<std::uint64_t> version_{0};  // written under the value's unique lock

 private:
  std::atomic<bool> sender_dropped_{false};
  std::atomic<std::size_t> receivers_{1};
  std::mutex waiters_mutex_;
  WaitList waiters_;  // of WatchNode; guarded by waiters_mutex_
};

template <class T>
class WatchState final : public WatchCore {
 public:
  explicit WatchState(T initial) : value_(std::move(initial)) {}

  // Runs fn(value) under the unique lock; fn returns whether it modified the value, and only then
  // is the version bumped and are the receivers woken.
  template <class F>
  bool modify(F&& fn) {
    {
      std::unique_lock lock(mutex_);
      if (!std::forward<F>(fn)(value_)) return false;
      version_.fetch_add(1, std::memory_order_release);
    }
    notify_receivers();
    return true;
  }

  // The value under a shared lock, with the version it belongs to.
  std::shared_lock<std::shared_mutex> lock_shared() const { return std::shared_lock(mutex_); }
  const T& value() const noexcept { return value_; }

 private:
  mutable std::shared_mutex mutex_;
  T value_;  // guarded by mutex_
};

}  // namespace detail

namespace watch {

template <class T>
class Sender;
template <class T>
class Receiver;

// A single-value channel that always holds the latest value, like tokio::sync::watch: for state
// that many tasks observe (configuration, "serving / draining / stopped").
//
//   auto [tx, rx] = watch::channel(State::serving);
//   tx.send(State::draining);                          // in the signal handler task
//   while (rx.borrow()->... ) co_await rx.changed();   // in each connection
//
// Every send bumps a version. Each receiver remembers the version it has seen, and changed()
// completes once there is a newer one. Receivers see the latest value; values sent in between
// may be skipped.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(T initial) {
  auto state = std::make_shared<detail::WatchState<T>>(std::move(initial));
  return {Sender<T>(state), Receiver<T>(std::move(state), 0)};
}

// Read access to the channel's value: a reference guarded by a shared lock, like Tokio's
// watch::Ref (no copy, so T need not be copyable).
//
// While a Ref lives the sender cannot store a new value: keep it short, never hold it across a
// co_await, and never send on the same channel while holding one (that deadlocks). Copy the value
// out if it is needed for longer.
template <class T>
class Ref {
 public:
  Ref(Ref&&) noexcept = default;
  Ref& operator=(Ref&&) noexcept = default;

  const T& operator*() const noexcept { return *value_; }
  const T* operator->() const noexcept { return value_; }
  const T& get() const noexcept { return *value_; }

  // Whether this value was new to the receiver that borrowed it (always false from the sender).
  bool has_changed() const noexcept { return has_changed_; }

 private:
  friend class Sender<T>;
  friend class Receiver<T>;
  Ref(std::shared_lock<std::shared_mutex> lock, const T& value, bool has_changed) noexcept
      : lock_(std::move(lock)), value_(&value), has_changed_(has_changed) {}

  std::shared_lock<std::shared_mutex> lock_;
  const T* value_;
  bool has_changed_;
};

// The sending end; move-only. Dropping it closes the channel: receivers still read the last
// value, and changed() fails once they have seen it.
template <class T>
class Sender {
 public:
  Sender(Sender&&) noexcept = default;
  Sender& operator=(Sender&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~Sender() { drop(); }

  // Stores `value` and wakes the receivers. As in Tokio, fails without storing anything when
  // there is no receiver (so a receiver subscribed later sees the older value); use
  // send_replace() to store regardless.
  std::expected<void, SendError<T>> send(T value) {
    if (state_->receiver_count() == 0) return std::unexpected(SendError<T>{std::move(value)});
    send_replace(std::move(value));
    return {};
  }

  // Stores `value` even without receivers; returns the value it replaced.
  T send_replace(T value) {
    state_->modify([&value](T& current) {
      std::swap(current, value);
      return true;
    });
    return value;
  }

  // Modifies the value in place with fn(T&), then wakes the receivers. fn runs under the
  // channel's write lock: keep it short. If fn throws, nothing is announced.
  template <class F>
  void send_modify(F&& fn) {
    state_->modify([&fn](T& current) {
      std::forward<F>(fn)(current);
      return true;
    });
  }

  // Like send_modify, but fn returns whether it changed anything; receivers are woken only
  // then. Returns fn's answer.
  template <class F>
  bool send_if_modified(F&& fn) {
    return state_->modify(std::forward<F>(fn));
  }

  // The current value (Ref::has_changed() is false).
  Ref<T> borrow() const { return Ref<T>(state_->lock_shared(), state_->value(), false); }

  // A new receiver that has seen the current value.
  Receiver<T> subscribe() const {
    state_->add_receiver();
    return Receiver<T>(state_, state_->version());
  }

  std::size_t receiver_count() const noexcept { return state_->receiver_count(); }
  // No receiver is left, so send() would fail.
  bool is_closed() const noexcept { return receiver_count() == 0; }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(T);
  explicit Sender(std::shared_ptr<detail::WatchState<T>> state) noexcept
      : state_(std::move(state)) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_sender();
  }

  std::shared_ptr<detail::WatchState<T>> state_;
};

// A receiving end. Copyable: each copy remembers the version it has seen, starting from the one
// its original had seen. Each receiver is used by one task at a time.
template <class T>
class Receiver {
 public:
  Receiver(const Receiver& other) noexcept : state_(other.state_), seen_(other.seen_) {
    if (state_) state_->add_receiver();
  }
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(const Receiver& other) noexcept {
    if (this != &other) *this = Receiver(other);
    return *this;
  }
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::move(other.state_);
      seen_ = other.seen_;
    }
    return *this;
  }
  ~Receiver() { drop(); }

  // The latest value, without marking it seen. Ref::has_changed() tells whether it is newer
  // than the last one seen.
  Ref<T> borrow() const {
    auto lock = state_->lock_shared();
    // Under the lock, the version is the one of the value we hold.
    const bool changed = state_->version() != seen_;
    return Ref<T>(std::move(lock), state_->value(), changed);
  }

  // The latest value, marking it seen: changed() then waits for a newer one.
  Ref<T> borrow_and_update() {
    auto lock = state_->lock_shared();
    const std::uint64_t version = state_->version();
    const bool changed = version != seen_;
    seen_ = version;
    return Ref<T>(std::move(lock), state_->value(), changed);
  }

  // Whether a value newer than the last one seen was sent. Like Tokio, fails once the sender is
  // gone (even if that last value was not seen; changed() still delivers it).
  std::expected<bool, RecvError> has_changed() const noexcept {
    if (state_->sender_dropped()) return std::unexpected(RecvError{});
    return state_->version() != seen_;
  }

  // Marks the current value seen without reading it.
  void mark_unchanged() noexcept { seen_ = state_->version(); }

  // Awaiter of changed(). Destroyed while it waits (abort, select) it just leaves: nothing is
  // consumed, so a later changed() still sees the change. Movable until awaited; the Receiver
  // must outlive it.
  class [[nodiscard]] Changed {
   public:
    Changed(Changed&& other) noexcept : receiver_(other.receiver_) {}
    Changed(const Changed&) = delete;
    Changed& operator=(const Changed&) = delete;
    Changed& operator=(Changed&&) = delete;
    ~Changed() {
      if (suspended_ && !resumed_) receiver_->state_->unpark(node_);
    }

    bool await_ready() const noexcept { return ready() && detail::coop::try_consume(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      detail::record_wait(WaitReason::watch);
      if (ready()) {
        // Ready but out of budget (or it just became ready). Readiness only goes away through
        // this receiver, so it still holds after the yield.
        if (detail::coop::try_consume()) return false;
        detail::WatchCore::yield_turn(node_, awaiting);
        suspended_ = true;
        return true;
      }
      suspended_ = receiver_->state_->park(node_, receiver_->seen_, awaiting);
      return suspended_;
    }
    // A wake-up (or the end of a yield) means a new version or a dropped sender, so one of the
    // two holds here. A new version wins, so the last value sent before the sender went is still
    // announced.
    std::expected<void, RecvError> await_resume() noexcept {
      resumed_ = true;
      const std::uint64_t version = receiver_->state_->version();
      if (version == receiver_->seen_) return std::unexpected(RecvError{});
      receiver_->seen_ = version;
      return {};
    }

   private:
    friend class Receiver;
    explicit Changed(Receiver* receiver) noexcept : receiver_(receiver) {}

    bool ready() const noexcept {
      return receiver_->state_->version() != receiver_->seen_ ||
             receiver_->state_->sender_dropped();
    }

    Receiver* receiver_;
    detail::WatchNode node_;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  // Completes once a value newer than the last one seen was sent, and marks it seen; at once if
  // there already is one. Fails when the sender is gone and its last value was seen.
  Changed changed() noexcept { return Changed(this); }

  // Waits until pred(value) holds for the latest value (checking the current one first) and
  // returns it, marked seen. Fails when the sender is gone and no value satisfied pred. pred
  // runs under the shared lock. The receiver must outlive the returned task.
  template <class Pred>
  Task<std::expected<Ref<T>, RecvError>> wait_for(Pred pred) {
    for (;;) {
      {
        Ref<T> current = borrow_and_update();
        if (pred(*current)) co_return std::move(current);
      }
      if (!co_await changed()) co_return std::unexpected(RecvError{});
    }
  }

 private:
  friend class Sender<T>;
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(T);
  Receiver(std::shared_ptr<detail::WatchState<T>> state, std::uint64_t seen) noexcept
      : state_(std::move(state)), seen_(seen) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_receiver();
  }

  std::shared_ptr<detail::WatchState<T>> state_;
  std::uint64_t seen_ = 0;
};

}  // namespace watch
}  // namespace brigade::runtime
