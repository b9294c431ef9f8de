#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime {
namespace mpsc {

// send() found the receiver closed or dropped: the value comes back unsent.
template <class T>
struct SendError {
  T value;
};

// try_send() could not send now: the channel is full, or the receiver closed or dropped. Either
// way the value comes back unsent.
template <class T>
struct TrySendError {
  enum class Kind : unsigned char { full, closed };

  Kind kind;
  T value;

  bool is_full() const noexcept { return kind == Kind::full; }
  bool is_closed() const noexcept { return kind == Kind::closed; }
};

enum class TryRecvError : unsigned char {
  empty,         // nothing buffered now, but a sender may still send
  disconnected,  // nothing buffered and nothing can come: every sender is gone, or closed()
};

}  // namespace mpsc

namespace detail {

// What the first step of a send or receive did.
enum class MpscPoll : unsigned char {
  ready,   // completed without waiting
  parked,  // queued; a wake-up resumes it
  yield,   // could complete, but the task's budget is spent (coop.hpp): it lets others run first
};

// A sender waiting for capacity. The receiving side decides its outcome under the channel lock.
struct MpscSendNode : WaitNode {
  enum class Outcome : unsigned char {
    waiting,
    sent,     // sent without waiting
    granted,  // a slot was set aside for it (it waited, or yielded for budget); it pushes its
              // value when it resumes
    closed,   // the receiver closed or dropped; the awaiter keeps its value
  };
  Outcome outcome = Outcome::waiting;
};

// The receiver waiting for a value. A sender hands the value over directly, so the receiver
// never has to look at the queue again after it wakes.
template <class T>
struct MpscRecvNode : WaitNode {
  std::optional<T> value;
  bool holds_permit = false;  // handed while waiting: its slot is freed when the receiver resumes
};

// The type-independent half of a bounded mpsc channel: capacity accounting, who is still there,
// and the waiting tasks. Everything is guarded by mutex_.
//
// Capacity is counted in permits. A sender takes one before its value enters the channel, and the
// value keeps it while buffered or on its way to the waiting receiver; the receiver gives it back
// when it takes the value. A freed permit goes straight to the longest-waiting sender (reserved_
// counts those not yet resumed), so permits_ > 0 only while no sender waits, and a try_send can
// never overtake a waiting sender.
class MpscCore {
 public:
  // Throws std::invalid_argument if `capacity` is 0.
  explicit MpscCore(std::size_t capacity);
  MpscCore(const MpscCore&) = delete;
  MpscCore& operator=(const MpscCore&) = delete;

  void add_sender() noexcept;
  void drop_sender() noexcept;
  // Receiver::close(): fails waiting and later sends; senders already granted a slot still push.
  void close() noexcept;
  bool is_closed() const noexcept;
  std::size_t available_permits() const noexcept;
  std::size_t max_capacity() const noexcept { return capacity_; }

  // For a send awaiter destroyed before it was resumed: leaves the queue, or passes the slot it
  // was granted on to the next sender. Then forgets the waiter.
  void cancel_send(MpscSendNode& node) noexcept;
  // The receiver resumed with a value handed to it while it waited: that value's slot is free.
  void release_permit() noexcept;
  // Sends the running task to the back of the run queue, to resume `node` on its next turn.
  static void yield_turn(WaitNode& node, std::coroutine_handle<> awaiting) noexcept;

 protected:
  ~MpscCore() = default;

  // Gives a freed slot to the longest-waiting sender, or back to the pool.
  void release_permit_locked() noexcept;
  // No value can arrive any more: no slot is granted, and no sender can take one.
  bool senders_done_locked() const noexcept { return reserved_ == 0 && (senders_ == 0 || closed_); }
  // Wakes the waiting receiver empty-handed once no value can arrive. (While the receiver waits
  // the queue is empty: every value sent meanwhile is handed to it.)
  void wake_receiver_if_done_locked() noexcept;
  void fail_waiting_senders_locked() noexcept;

  mutable std::mutex mutex_;
  const std::size_t capacity_;
  std::size_t permits_;       // free slots nobody was granted
  std::size_t reserved_ = 0;  // slots set aside for senders that have not pushed yet
  std::size_t senders_ = 1;   // live Sender objects
  bool closed_ = false;       // close() was called, or the receiver is gone
  bool receiver_dropped_ = false;
  WaitList waiting_senders_;   // of MpscSendNode, oldest first
  WaitList waiting_receiver_;  // of MpscRecvNode<T>; at most one
};

template <class T>
class MpscState final : public MpscCore {
 public:
  using MpscCore::MpscCore;
  using RecvNode = MpscRecvNode<T>;

  // The send awaiter's first step; node.outcome says what happened to the value.
  MpscPoll send_or_park(MpscSendNode& node, T& value, std::coroutine_handle<> awaiting) {
    std::lock_guard lock(mutex_);
    if (closed_) {
      node.outcome = MpscSendNode::Outcome::closed;
      return MpscPoll::ready;
    }
    if (permits_ > 0) {
      if (!coop::try_consume()) {
        // Keep the slot as a granted sender would, and send it after the yield.
        --permits_;
        ++reserved_;
        node.outcome = MpscSendNode::Outcome::granted;
        return MpscPoll::yield;
      }
      push_locked(std::move(value));
      --permits_;  // after the push: a throwing push keeps the permit
      node.outcome = MpscSendNode::Outcome::sent;
      return MpscPoll::ready;
    }
    node.arm(awaiting);
    waiting_senders_.push_back(node);
    return MpscPoll::parked;
  }

  // A sender granted a slot while it waited pushes its value. Only a dropped receiver refuses
  // it: after close() the receiver still drains what granted senders push, as in Tokio.
  std::expected<void, mpsc::SendError<T>> push_granted(T&& value) {
    std::lock_guard lock(mutex_);
    if (receiver_dropped_) {
      --reserved_;
      return std::unexpected(mpsc::SendError<T>{std::move(value)});
    }
    try {
      push_locked(std::move(value));
    } catch (...) {
      give_back_granted_locked();
      throw;
    }
    --reserved_;
    return {};
  }

  std::expected<void, mpsc::TrySendError<T>> try_send(T&& value) {
    using Kind = typename mpsc::TrySendError<T>::Kind;
    std::lock_guard lock(mutex_);
    if (closed_) return std::unexpected(mpsc::TrySendError<T>{Kind::closed, std::move(value)});
    if (permits_ == 0) return std::unexpected(mpsc::TrySendError<T>{Kind::full, std::move(value)});
    push_locked(std::move(value));
    --permits_;
    return {};
  }

  // The receive awaiter's first step. When ready, node.value holds the next value, or is empty
  // when no value can come any more. A yield takes nothing: the receiver is the only one taking
  // values, so what is ready now is still ready on its next turn.
  MpscPoll recv_or_park(RecvNode& node, std::coroutine_handle<> awaiting) {
    std::lock_guard lock(mutex_);
    if (queue_.empty() && !senders_done_locked()) {
      node.arm(awaiting);
      waiting_receiver_.push_back(node);
      return MpscPoll::parked;
    }
    if (!coop::try_consume()) return MpscPoll::yield;
    if (!queue_.empty()) {
      node.value.emplace(std::move(queue_.front()));
      queue_.pop_front();
      release_permit_locked();
    }
    return MpscPoll::ready;
  }

  // For a receive awaiter destroyed before it was resumed: a value already handed to it goes
  // back to the front of the queue (it is the oldest), keeping its permit.
  void cancel_recv(RecvNode& node) noexcept {
    waiting_receiver_.withdraw(node, mutex_, [&](bool) noexcept {
      if (node.value.has_value() && node.holds_permit) {
        queue_.push_front(std::move(*node.value));
        node.value.reset();
      }
    });
  }

  std::expected<T, mpsc::TryRecvError> try_recv() {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      return std::unexpected(senders_done_locked() ? mpsc::TryRecvError::disconnected
                                                   : mpsc::TryRecvError::empty);
    }
    std::expected<T, mpsc::TryRecvError> value(std::in_place, std::move(queue_.front()));
    queue_.pop_front();
    release_permit_locked();
    return value;
  }

  // The receiver is gone: fail every sender, and drop what is buffered (outside the lock, since
  // a value's destructor may do anything).
  void drop_receiver() noexcept {
    std::deque<T> dropped;
    std::lock_guard lock(mutex_);
    closed_ = true;
    receiver_dropped_ = true;
    fail_waiting_senders_locked();
    permits_ += queue_.size();
    dropped.swap(queue_);
  }

 private:
  // Hands `value` to the waiting receiver, or buffers it. The caller holds a permit for it.
  void push_locked(T&& value) {
    if (!waiting_receiver_.empty()) {
      auto& receiver = static_cast<RecvNode&>(*waiting_receiver_.front());
      receiver.value.emplace(std::move(value));
      receiver.holds_permit = true;
      waiting_receiver_.wake_front();
    } else {
      queue_.push_back(std::move(value));
    }
  }

  void give_back_granted_locked() noexcept {
    --reserved_;
    release_permit_locked();
    wake_receiver_if_done_locked();
  }

  std::deque<T> queue_;
};

}  // namespace detail

namespace mpsc {

template <class T>
class Sender;
template <class T>
class Receiver;

// A bounded multi-producer, single-consumer queue, like tokio::sync::mpsc::channel.
//
//   auto [tx, rx] = mpsc::channel<Job>(64);
//   spawn(produce(tx));                                  // co_await tx.send(job)
//   while (std::optional<Job> job = co_await rx.recv()) handle(*job);
//
// At most `capacity` values are buffered; send() then waits (backpressure). Waiting senders are
// served in the order they started waiting, and values from one sender arrive in the order it
// sent them. recv() gives nullopt once every sender is gone (or close() was called) and all
// buffered values were received. Throws std::invalid_argument if `capacity` is 0.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  auto state = std::make_shared<detail::MpscState<T>>(capacity);
  return {Sender<T>(state), Receiver<T>(std::move(state))};
}

// The sending end. Copy it to get more producers; the channel counts live senders, and the
// receiver sees the end of the stream once all are gone.
template <class T>
class Sender {
 public:
  Sender(const Sender& other) noexcept : state_(other.state_) {
    if (state_) state_->add_sender();
  }
  Sender(Sender&&) noexcept = default;
  Sender& operator=(const Sender& other) noexcept {
    if (this != &other) *this = Sender(other);
    return *this;
  }
  Sender& operator=(Sender&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~Sender() { drop(); }

  // Awaiter of send(). Owns the value until it is sent. Destroyed while it waits (its task was
  // aborted, or it lost a select) it sends nothing and gives up its place in line: a slot that
  // was already granted to it passes to the next waiting sender, so no capacity is lost.
  // Movable until awaited; the Sender must outlive it.
  class [[nodiscard]] Send {
   public:
    Send(Send&& other) noexcept : state_(other.state_), value_(std::move(other.value_)) {}
    Send(const Send&) = delete;
    Send& operator=(const Send&) = delete;
    Send& operator=(Send&&) = delete;
    ~Send() {
      if (suspended_ && !resumed_) state_->cancel_send(node_);
    }

    bool await_ready() const noexcept { return false; }
    // Sends at once when there is room (no suspension), else waits in line.
    bool await_suspend(std::coroutine_handle<> awaiting) {
      detail::record_wait(WaitReason::mpsc_send);
      const detail::MpscPoll poll = state_->send_or_park(node_, value_, awaiting);
      if (poll == detail::MpscPoll::yield) detail::MpscCore::yield_turn(node_, awaiting);
      suspended_ = poll != detail::MpscPoll::ready;
      return suspended_;
    }
    std::expected<void, SendError<T>> await_resume() {
      resumed_ = true;
      switch (node_.outcome) {
        case Outcome::sent:
          return {};
        case Outcome::granted:
          return state_->push_granted(std::move(value_));
        case Outcome::waiting:
        case Outcome::closed:
          break;
      }
      return std::unexpected(SendError<T>{std::move(value_)});
    }

   private:
    friend class Sender;
    using Outcome = detail::MpscSendNode::Outcome;
    Send(detail::MpscState<T>* state, T&& value) noexcept
        : state_(state), value_(std::move(value)) {}

    detail::MpscState<T>* state_;
    T value_;
    detail::MpscSendNode node_;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  // Sends `value`, waiting while the channel is full. Fails (giving the value back) if the
  // receiver is closed or dropped.
  Send send(T value) { return Send(state_.get(), std::move(value)); }

  // Sends `value` if there is room right now. Never waits; does not jump ahead of waiting senders.
  std::expected<void, TrySendError<T>> try_send(T value) {
    return state_->try_send(std::move(value));
  }

  // The receiver closed or dropped: every send fails from now on.
  bool is_closed() const noexcept { return state_->is_closed(); }
  // Free slots right now (0 while senders wait).
  std::size_t capacity() const noexcept { return state_->available_permits(); }
  std::size_t max_capacity() const noexcept { return state_->max_capacity(); }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  explicit Sender(std::shared_ptr<detail::MpscState<T>> state) noexcept
      : state_(std::move(state)) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_sender();
  }

  std::shared_ptr<detail::MpscState<T>> state_;
};

// The receiving end; move-only, used by one task at a time. Dropping it fails every sender and
// drops the values still buffered.
template <class T>
class Receiver {
 public:
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~Receiver() { drop(); }

  // Awaiter of recv(). Destroyed while it waits it takes nothing: a value handed to it meanwhile
  // goes back to the front of the queue for the next recv(). Movable until awaited; the Receiver
  // must outlive it.
  class [[nodiscard]] Recv {
   public:
    Recv(Recv&& other) noexcept : state_(other.state_) {}
    Recv(const Recv&) = delete;
    Recv& operator=(const Recv&) = delete;
    Recv& operator=(Recv&&) = delete;
    ~Recv() {
      if (suspended_ && !resumed_) state_->cancel_recv(node_);
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      detail::record_wait(WaitReason::mpsc_receive);
      const detail::MpscPoll poll = state_->recv_or_park(node_, awaiting);
      yielded_ = poll == detail::MpscPoll::yield;
      if (yielded_) detail::MpscCore::yield_turn(node_, awaiting);
      suspended_ = poll != detail::MpscPoll::ready;
      return suspended_;
    }
    std::optional<T> await_resume() {
      resumed_ = true;
      if (yielded_) {
        // Ready before the yield, so a value or the end (never "empty").
        std::expected<T, TryRecvError> value = state_->try_recv();
        if (!value) return std::nullopt;
        return std::move(*value);
      }
      if (node_.holds_permit) state_->release_permit();
      return std::move(node_.value);
    }

   private:
    friend class Receiver;
    explicit Recv(detail::MpscState<T>* state) noexcept : state_(state) {}

    detail::MpscState<T>* state_;
    detail::MpscRecvNode<T> node_;
    bool suspended_ = false;
    bool yielded_ = false;
    bool resumed_ = false;
  };

  // The next value, waiting for one if none is buffered; nullopt once every sender is gone (or
  // close() was called) and nothing is left.
  Recv recv() noexcept { return Recv(state_.get()); }

  std::expected<T, TryRecvError> try_recv() { return state_->try_recv(); }

  // Refuses further sends (waiting and later senders get their value back) while the values
  // already buffered can still be received.
  void close() noexcept { state_->close(); }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  explicit Receiver(std::shared_ptr<detail::MpscState<T>> state) noexcept
      : state_(std::move(state)) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_receiver();
  }

  std::shared_ptr<detail::MpscState<T>> state_;
};

}  // namespace mpsc
}  // namespace brigade::runtime
