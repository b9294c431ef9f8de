#pragma once

#include <coroutine>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime {
namespace detail {

// The type-independent half of a oneshot channel's shared state: who is still there, and the
// tasks waiting on either end.
class OneshotCore {
 public:
  OneshotCore() noexcept = default;
  OneshotCore(const OneshotCore&) = delete;
  OneshotCore& operator=(const OneshotCore&) = delete;

  // Receiver side. park_receiver() returns false (do not suspend) when a value is there, the
  // sender is gone, or the receiver was closed; else queues `node` to be woken by any of these.
  bool park_receiver(WaitNode& node, std::coroutine_handle<> awaiting) noexcept;
  // For an awaiter destroyed before it was resumed.
  void unpark_receiver(WaitNode& node) noexcept;
  // Refuses any later send; wakes Sender::closed() waiters.
  void close_receiver() noexcept;

  // Sender side.
  bool is_closed() const noexcept;
  bool park_sender(WaitNode& node, std::coroutine_handle<> awaiting) noexcept;
  void unpark_sender(WaitNode& node) noexcept;
  // The sender is gone without sending: wakes the receiver, which then gets RecvError.
  void drop_sender() noexcept;

 protected:
  // With mutex_ held: a value was stored (or the sender gave up); wakes the receiver.
  void finish_sending_locked(bool stored_value) noexcept;

  mutable std::mutex mutex_;
  bool has_value_ = false;        // a value is stored, not yet taken
  bool sender_done_ = false;      // sent or dropped: nothing more will come
  bool receiver_closed_ = false;  // dropped or closed: sends are refused
  WaitList receivers_;            // the receiving task, if it waits
  WaitList senders_;              // tasks in Sender::closed()
};

template <class T>
class OneshotState;

}  // namespace detail

namespace oneshot {

// The sender went away without sending a value.
struct RecvError {
  friend bool operator==(RecvError, RecvError) = default;
};

enum class TryRecvError {
  empty,   // no value yet; the sender may still send one
  closed,  // no value, and none can come: the sender is gone, or the value was already taken
};

template <class T>
class Sender;
template <class T>
class Receiver;

// A channel for exactly one value, like tokio::sync::oneshot: typically a task's reply.
//
//   auto [tx, rx] = oneshot::channel<int>();
//   spawn(compute(std::move(tx)));          // calls tx.send(42)
//   std::expected<int, RecvError> v = co_await rx;
//
// Both ends are move-only and thread-safe to use from the tasks that own them.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  auto state = std::make_shared<detail::OneshotState<T>>();
  return {Sender<T>(state), Receiver<T>(std::move(state))};
}

// The sending end. Dropping it without sending makes the receiver get RecvError.
template <class T>
class Sender {
 public:
  Sender() noexcept = default;
  Sender(Sender&&) noexcept = default;
  Sender& operator=(Sender&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~Sender() { drop(); }

  // Stores `value` for the receiver and wakes it; never waits. Uses up the sender. If the
  // receiver is gone or closed (or this sender was already used), gives `value` back.
  std::expected<void, T> send(T value) {
    std::shared_ptr<detail::OneshotState<T>> state = std::move(state_);
    if (!state) return std::unexpected(std::move(value));
    return state->send(std::move(value));
  }

  // The receiver was dropped or closed (or this sender already sent), so a send would fail.
  bool is_closed() const noexcept { return !state_ || state_->is_closed(); }

  // Awaiter of closed(): completes once the receiver is dropped or closed (lets a producer stop
  // work nobody waits for any more). Movable until awaited.
  class [[nodiscard]] Closed {
   public:
    Closed(Closed&& other) noexcept : state_(other.state_) {}
    Closed(const Closed&) = delete;
    Closed& operator=(const Closed&) = delete;
    Closed& operator=(Closed&&) = delete;
    ~Closed() {
      if (suspended_ && !resumed_) state_->unpark_sender(node_);
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      detail::record_wait(WaitReason::oneshot);
      suspended_ = state_->park_sender(node_, awaiting);
      return suspended_;
    }
    void await_resume() noexcept { resumed_ = true; }

   private:
    friend class Sender;
    explicit Closed(detail::OneshotCore* state) noexcept : state_(state) {}

    detail::OneshotCore* state_;
    detail::WaitNode node_;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  // Requires a sender that has not sent yet; it must outlive the awaiter.
  Closed closed() noexcept { return Closed(state_.get()); }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>();
  explicit Sender(std::shared_ptr<detail::OneshotState<T>> state) noexcept
      : state_(std::move(state)) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_sender();
  }

  std::shared_ptr<detail::OneshotState<T>> state_;
};

// The receiving end: `co_await rx` gives the value, or RecvError if the sender was dropped
// without sending. Dropping the receiver drops a value that was sent and not received.
template <class T>
class Receiver {
 public:
  Receiver() noexcept = default;
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~Receiver() { drop(); }

  // Awaiter of `co_await rx`. Destroyed while waiting (abort, select) it leaves without taking
  // anything: a value sent meanwhile stays in the channel for a later receive.
  class [[nodiscard]] Recv {
   public:
    Recv(Recv&& other) noexcept : state_(other.state_) {}
    Recv(const Recv&) = delete;
    Recv& operator=(const Recv&) = delete;
    Recv& operator=(Recv&&) = delete;
    ~Recv() {
      if (suspended_ && !resumed_) state_->unpark_receiver(node_);
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      detail::record_wait(WaitReason::oneshot);
      suspended_ = state_->park_receiver(node_, awaiting);
      return suspended_;
    }
    std::expected<T, RecvError> await_resume() {
      resumed_ = true;
      std::expected<T, TryRecvError> value = state_->try_take();
      if (!value) return std::unexpected(RecvError{});
      return std::move(*value);
    }

   private:
    friend class Receiver;
    explicit Recv(detail::OneshotState<T>* state) noexcept : state_(state) {}

    detail::OneshotState<T>* state_;
    detail::WaitNode node_;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  // Receive once; the receiver must outlive the awaiter. Awaiting again after a value was
  // received gives RecvError.
  Recv operator co_await() & noexcept { return Recv(state_.get()); }
  Recv operator co_await() && noexcept { return Recv(state_.get()); }

  // The value if it was sent; TryRecvError::empty if it may still come, ::closed if it cannot.
  std::expected<T, TryRecvError> try_recv() {
    if (!state_) return std::unexpected(TryRecvError::closed);
    return state_->try_take();
  }

  // Refuses any later send (the sender gets its value back) while keeping a value that was
  // already sent for try_recv or co_await.
  void close() noexcept {
    if (state_) state_->close_receiver();
  }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>();
  explicit Receiver(std::shared_ptr<detail::OneshotState<T>> state) noexcept
      : state_(std::move(state)) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_receiver();
  }

  std::shared_ptr<detail::OneshotState<T>> state_;
};

}  // namespace oneshot

namespace detail {

// The shared state: the core plus the slot for the value.
template <class T>
class OneshotState final : public OneshotCore {
 public:
  std::expected<void, T> send(T&& value) {
    std::lock_guard lock(mutex_);
    if (receiver_closed_) return std::unexpected(std::move(value));
    try {
      value_.emplace(std::move(value));
    } catch (...) {
      finish_sending_locked(false);  // the sender is used up: the receiver must not wait for ever
      throw;
    }
    finish_sending_locked(true);
    return {};
  }

  std::expected<T, oneshot::TryRecvError> try_take() {
    std::lock_guard lock(mutex_);
    if (!has_value_) {
      bool closed = sender_done_ || receiver_closed_;
      return std::unexpected(closed ? oneshot::TryRecvError::closed : oneshot::TryRecvError::empty);
    }
    std::expected<T, oneshot::TryRecvError> out(std::in_place, std::move(*value_));
    has_value_ = false;
    value_.reset();
    return out;
  }

  // The receiver is gone: a value nobody will receive is dropped now rather than with the
  // sender's last reference.
  void drop_receiver() noexcept {
    {
      std::lock_guard lock(mutex_);
      has_value_ = false;
      value_.reset();
    }
    close_receiver();
  }

 private:
  std::optional<T> value_;  // guarded by mutex_
};

}  // namespace detail
}  // namespace brigade::runtime
