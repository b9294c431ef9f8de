#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime {
namespace broadcast {

// send() found no receiver: the value comes back and was not stored.
template <class T>
struct SendError {
  T value;
};

// Why recv() has no value: every sender is gone and nothing is left (closed), or the receiver
// fell so far behind that `missed()` messages were overwritten before it read them (lagged). After
// lagged the receiver continues with the oldest message still held.
class RecvError {
 public:
  enum class Kind : unsigned char { closed, lagged };

  static constexpr RecvError closed() noexcept { return RecvError(Kind::closed, 0); }
  static constexpr RecvError lagged(std::uint64_t missed) noexcept {
    return RecvError(Kind::lagged, missed);
  }

  constexpr Kind kind() const noexcept { return kind_; }
  constexpr bool is_closed() const noexcept { return kind_ == Kind::closed; }
  constexpr bool is_lagged() const noexcept { return kind_ == Kind::lagged; }
  // How many messages were skipped (0 unless lagged).
  constexpr std::uint64_t missed() const noexcept { return missed_; }

  friend constexpr bool operator==(const RecvError&, const RecvError&) = default;

 private:
  constexpr RecvError(Kind kind, std::uint64_t missed) noexcept : kind_(kind), missed_(missed) {}

  Kind kind_;
  std::uint64_t missed_;
};

// try_recv()'s errors: RecvError's, plus empty (no new message yet, senders still there).
class TryRecvError {
 public:
  enum class Kind : unsigned char { empty, closed, lagged };

  static constexpr TryRecvError empty() noexcept { return TryRecvError(Kind::empty, 0); }
  static constexpr TryRecvError closed() noexcept { return TryRecvError(Kind::closed, 0); }
  static constexpr TryRecvError lagged(std::uint64_t missed) noexcept {
    return TryRecvError(Kind::lagged, missed);
  }

  constexpr Kind kind() const noexcept { return kind_; }
  constexpr bool is_empty() const noexcept { return kind_ == Kind::empty; }
  constexpr bool is_closed() const noexcept { return kind_ == Kind::closed; }
  constexpr bool is_lagged() const noexcept { return kind_ == Kind::lagged; }
  constexpr std::uint64_t missed() const noexcept { return missed_; }

  friend constexpr bool operator==(const TryRecvError&, const TryRecvError&) = default;

 private:
  constexpr TryRecvError(Kind kind, std::uint64_t missed) noexcept : kind_(kind), missed_(missed) {}

  Kind kind_;
  std::uint64_t missed_;
};

}  // namespace broadcast

namespace detail {

// What the first step of a receive did.
enum class BroadcastPoll : unsigned char {
  ready,   // completed without waiting
  parked,  // queued; a wake-up resumes it
  yield,   // could complete, but the task's budget is spent (coop.hpp): it lets others run first
};

// The type-independent half of a broadcast channel: positions, counts, and waiting receivers.
// Everything is guarded by mutex_.
//
// Messages are numbered from 0; tail_ is the number the next one gets. A receiver only keeps the
// number of the next message it reads, so subscribing and dropping cost O(1) in the common case.
class BroadcastCore {
 public:
  BroadcastCore() noexcept = default;
  BroadcastCore(const BroadcastCore&) = delete;
  BroadcastCore& operator=(const BroadcastCore&) = delete;

  void add_sender() noexcept;
  // The last sender wakes every waiting receiver: they drain what is left, then see closed.
  void drop_sender() noexcept;
  // A new receiver; returns the number of the next message, where it starts.
  std::uint64_t add_receiver() noexcept;
  std::size_t receiver_count() const noexcept;
  // For a recv awaiter destroyed before it was resumed. Nothing was handed to it (it reads the
  // ring itself when resumed), so leaving the queue is all there is to do.
  void unpark(WaitNode& node) noexcept;
  // Sends the running task to the back of the run queue, to resume `node` on its next turn.
  static void yield_turn(WaitNode& node, std::coroutine_handle<> awaiting) noexcept;

 protected:
  ~BroadcastCore() = default;

  void park_locked(WaitNode& node, std::coroutine_handle<> awaiting) noexcept;

  mutable std::mutex mutex_;
  std::uint64_t tail_ = 0;
  std::size_t senders_ = 1;
  std::size_t receivers_ = 1;
  WaitList waiters_;  // receivers that have read everything and wait for more
};

template <class T>
class BroadcastState final : public BroadcastCore {
 public:
  using TryResult = std::expected<T, broadcast::TryRecvError>;

  // Throws std::invalid_argument if `capacity` is 0.
  explicit BroadcastState(std::size_t capacity) : slots_(checked_capacity(capacity)) {}

  // Stores a copy for every current receiver, overwriting the oldest message when the ring is
  // full, and wakes the waiting receivers. Returns how many receivers will see it.
  std::expected<std::size_t, broadcast::SendError<T>> send(T&& value) {
    std::optional<T> evicted;  // destroyed after the unlock: its destructor may do anything
    std::lock_guard lock(mutex_);
    if (receivers_ == 0) return std::unexpected(broadcast::SendError<T>{std::move(value)});
    Slot& slot = slot_for(tail_);
    if (slot.value) evicted.emplace(std::move(*slot.value));
    slot.value.emplace(std::move(value));
    slot.pos = tail_;
    slot.remaining = receivers_;
    ++tail_;
    waiters_.wake_all();
    return receivers_;
  }

  // The recv awaiter's first step: parks when the receiver has read everything; when ready, `out`
  // holds the value or the error. A yield reads nothing: positions only grow and senders never
  // come back, so what is ready now is still ready (perhaps as a lag) on the next turn.
  BroadcastPoll recv_or_park(std::uint64_t& next, WaitNode& node, std::optional<TryResult>& out,
                             std::coroutine_handle<> awaiting) {
    std::lock_guard lock(mutex_);
    if (next == tail_ && senders_ > 0) {
      park_locked(node, awaiting);
      return BroadcastPoll::parked;
    }
    if (!coop::try_consume()) return BroadcastPoll::yield;
    out.emplace(try_recv_locked(next));
    return BroadcastPoll::ready;
  }

  TryResult try_recv(std::uint64_t& next) {
    std::lock_guard lock(mutex_);
    return try_recv_locked(next);
  }

  // A receiver positioned at `next` is gone: it no longer counts for the messages it has not
  // read, so those are freed once everyone else has read them.
  void drop_receiver(std::uint64_t next) noexcept {
    std::lock_guard lock(mutex_);
    --receivers_;
    for (std::uint64_t pos = std::max(next, oldest_locked()); pos < tail_; ++pos) {
      Slot& slot = slot_for(pos);
      if (slot.pos == pos && --slot.remaining == 0) slot.value.reset();
    }
  }

 private:
  struct Slot {
    std::optional<T> value;     // empty once every receiver counted in `remaining` read it
    std::uint64_t pos = 0;      // number of the message held
    std::size_t remaining = 0;  // receivers that still have to read it
  };

  static std::size_t checked_capacity(std::size_t capacity);

  Slot& slot_for(std::uint64_t pos) noexcept { return slots_[pos % slots_.size()]; }
  std::uint64_t oldest_locked() const noexcept {
    return tail_ > slots_.size() ? tail_ - slots_.size() : 0;
  }

  TryResult try_recv_locked(std::uint64_t& next) {
    using broadcast::TryRecvError;
    if (next == tail_) {
      return std::unexpected(senders_ == 0 ? TryRecvError::closed() : TryRecvError::empty());
    }
    Slot& slot = slot_for(next);
    if (slot.pos != next) {
      // Overwritten: the ring holds only the last slots_.size() messages. Skip to the oldest.
      const std::uint64_t oldest = oldest_locked();
      const std::uint64_t missed = oldest - next;
      next = oldest;
      return std::unexpected(TryRecvError::lagged(missed));
    }
    // The last reader takes the value instead of copying it. A throwing copy changes nothing.
    TryResult result = slot.remaining == 1 ? TryResult(std::move(*slot.value))
                                           : TryResult(std::in_place, *slot.value);
    if (--slot.remaining == 0) slot.value.reset();
    ++next;
    return result;
  }

  std::vector<Slot> slots_;
};

// Non-template so the header need not include <stdexcept>.
[[noreturn]] void throw_zero_broadcast_capacity();

template <class T>
std::size_t BroadcastState<T>::checked_capacity(std::size_t capacity) {
  if (capacity == 0) throw_zero_broadcast_capacity();
  return capacity;
}

}  // namespace detail

namespace broadcast {

template <class T>
class Sender;
template <class T>
class Receiver;

// A multi-producer, multi-consumer channel where every receiver sees every message, like
// tokio::sync::broadcast: events fanned out to many listeners.
//
//   auto [tx, rx] = broadcast::channel<Event>(128);
//   auto rx2 = tx.subscribe();          // sees messages sent from now on
//   tx.send(Event{...});                // never waits
//   std::expected<Event, RecvError> e = co_await rx.recv();
//
// The channel holds the last `capacity` messages. Senders never wait: a receiver that falls
// further behind gets RecvError::lagged(n), n being how many messages it lost, and then continues
// with the oldest one still held. T must be copyable (each receiver gets its own copy; the last
// one to read a message gets the original). Throws std::invalid_argument if `capacity` is 0.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  auto state = std::make_shared<detail::BroadcastState<T>>(capacity);
  return {Sender<T>(state), Receiver<T>(std::move(state), 0)};
}

// The sending end. Copy it for more producers; once every sender is gone, receivers drain what
// is left and then get RecvError::closed().
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

  // Sends `value` to every current receiver without waiting. Returns the number of receivers,
  // or gives the value back if there is none (nothing is stored then).
  std::expected<std::size_t, SendError<T>> send(T value) { return state_->send(std::move(value)); }

  // A receiver that starts with the next message sent.
  Receiver<T> subscribe() const { return Receiver<T>(state_, state_->add_receiver()); }
  std::size_t receiver_count() const noexcept { return state_->receiver_count(); }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  explicit Sender(std::shared_ptr<detail::BroadcastState<T>> state) noexcept
      : state_(std::move(state)) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_sender();
  }

  std::shared_ptr<detail::BroadcastState<T>> state_;
};

// A receiving end; move-only, used by one task at a time. resubscribe() makes another one.
template <class T>
class Receiver {
 public:
  Receiver(Receiver&& other) noexcept : state_(std::move(other.state_)), next_(other.next_) {}
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::move(other.state_);
      next_ = other.next_;
    }
    return *this;
  }
  ~Receiver() { drop(); }

  // Awaiter of recv(). Nothing is taken until it resumes, so destroying it while it waits (abort,
  // select) loses no message. Movable until awaited; the Receiver must outlive it.
  class [[nodiscard]] Recv {
   public:
    Recv(Recv&& other) noexcept : receiver_(other.receiver_) {}
    Recv(const Recv&) = delete;
    Recv& operator=(const Recv&) = delete;
    Recv& operator=(Recv&&) = delete;
    ~Recv() {
      if (suspended_ && !resumed_) receiver_->state_->unpark(node_);
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      detail::record_wait(WaitReason::broadcast);
      const detail::BroadcastPoll poll =
          receiver_->state_->recv_or_park(receiver_->next_, node_, result_, awaiting);
      if (poll == detail::BroadcastPoll::yield) {
        detail::BroadcastCore::yield_turn(node_, awaiting);
      }
      suspended_ = poll != detail::BroadcastPoll::ready;
      return suspended_;
    }
    std::expected<T, RecvError> await_resume() {
      resumed_ = true;
      // Woken by a send or by the last sender leaving, or back from a yield: either way there is
      // now a message, a lag or the end, never "empty" (positions only grow, and senders never
      // come back).
      if (!result_) result_.emplace(receiver_->state_->try_recv(receiver_->next_));
      if (result_->has_value()) return std::move(**result_);
      const TryRecvError error = result_->error();
      if (error.is_lagged()) return std::unexpected(RecvError::lagged(error.missed()));
      return std::unexpected(RecvError::closed());
    }

   private:
    friend class Receiver;
    explicit Recv(Receiver* receiver) noexcept : receiver_(receiver) {}

    Receiver* receiver_;
    detail::WaitNode node_;
    std::optional<std::expected<T, TryRecvError>> result_;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  // The next message, waiting for one; RecvError::lagged(n) if n messages were lost, closed()
  // once every sender is gone and everything was read.
  Recv recv() noexcept { return Recv(this); }

  std::expected<T, TryRecvError> try_recv() { return state_->try_recv(next_); }

  // A new receiver that starts with the next message sent (not where this one is).
  Receiver resubscribe() const { return Receiver(state_, state_->add_receiver()); }

 private:
  friend class Sender<T>;
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  Receiver(std::shared_ptr<detail::BroadcastState<T>> state, std::uint64_t next) noexcept
      : state_(std::move(state)), next_(next) {}

  void drop() noexcept {
    if (state_) std::exchange(state_, nullptr)->drop_receiver(next_);
  }

  std::shared_ptr<detail::BroadcastState<T>> state_;
  std::uint64_t next_ = 0;  // number of the next message to read
};

}  // namespace broadcast
}  // namespace brigade::runtime
