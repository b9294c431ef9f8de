#include "connection_registry.hpp"

#include <sys/socket.h>

#include <utility>

#include "socket_io.hpp"

namespace brigade::server::detail {

void ConnectionSlot::enter_idle(runtime::Clock::time_point deadline, bool served) noexcept {
  idle_until_.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
  served_.store(served, std::memory_order_relaxed);
  state_.store(State::idle, std::memory_order_seq_cst);
}

bool ConnectionSlot::try_activate() noexcept {
  State expected = State::idle;
  return state_.compare_exchange_strong(expected, State::active, std::memory_order_acq_rel);
}

bool ConnectionSlot::lingering() const noexcept {
  return state_.load(std::memory_order_acquire) == State::lingering;
}

ConnectionSlot& ConnectionRegistry::add(int fd, const runtime::net::SocketAddr& peer) {
  std::lock_guard lock(mutex_);
  ConnectionSlot& slot = take_slot_locked();
  slot.fd_ = fd;
  slot.peer_ = peer;
  slot.state_.store(ConnectionSlot::State::active, std::memory_order_relaxed);
  slot.in_use_ = true;
  live_.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

void ConnectionRegistry::attach(ConnectionSlot& slot, runtime::JoinHandle<void> task) noexcept {
  std::lock_guard lock(mutex_);
  // Slots are reused only by add(), which comes from the same task as this: if the slot is not
  // in use, its connection has already ended, and the handle is not needed.
  if (slot.in_use_) slot.task_ = std::move(task);
}

ConnectionSlot& ConnectionRegistry::take_slot_locked() {
  if (free_ == nullptr) return slots_.emplace_back();
  ConnectionSlot& slot = *std::exchange(free_, free_->next_free_);
  slot.next_free_ = nullptr;
  return slot;
}

void ConnectionRegistry::give_back_locked(ConnectionSlot& slot) noexcept {
  slot.in_use_ = false;
  slot.fd_ = -1;
  slot.task_ = {};  // from inside the task itself: only drops the handle's reference
  slot.next_free_ = std::exchange(free_, &slot);
}

void ConnectionRegistry::remove(ConnectionSlot& slot) noexcept {
  {
    std::lock_guard lock(mutex_);
    give_back_locked(slot);
  }
  if (live_.fetch_sub(1, std::memory_order_acq_rel) == 1) emptied_.notify_waiters();
}

IdleClosed ConnectionRegistry::close_idle(runtime::Clock::time_point now) noexcept {
  const auto now_count = now.time_since_epoch().count();
  IdleClosed closed;
  std::lock_guard lock(mutex_);
  for (ConnectionSlot& slot : slots_) {
    // A slot without its task yet (is_finished() of an empty handle) waits for the next sweep.
    if (!slot.in_use_ || slot.task_.is_finished()) continue;
    auto state = slot.state_.load(std::memory_order_seq_cst);
    if (state != ConnectionSlot::State::idle && state != ConnectionSlot::State::lingering) {
      continue;
    }
    if (slot.idle_until_.load(std::memory_order_relaxed) > now_count) continue;
    // The descriptor stays open while the slot is in use (remove() comes first), so peeking is
    // safe under the lock.
    if (state == ConnectionSlot::State::idle && has_pending_input(slot.fd_)) continue;
    const bool was_idle = state == ConnectionSlot::State::idle;
    if (!slot.state_.compare_exchange_strong(state, ConnectionSlot::State::closing,
                                             std::memory_order_acq_rel)) {
      continue;
    }
    slot.task_.abort();
    if (!was_idle) continue;  // a lingering close that ran its course: no timeout
    if (slot.served_.load(std::memory_order_relaxed)) {
      ++closed.between_requests;
    } else {
      ++closed.waiting_for_first_request;
    }
  }
  return closed;
}

void ConnectionRegistry::close_idle_at_shutdown(runtime::Clock::time_point now,
                                                runtime::Clock::duration linger,
                                                bool half_close) noexcept {
  const auto until = (now + linger).time_since_epoch().count();
  std::lock_guard lock(mutex_);
  for (ConnectionSlot& slot : slots_) {
    if (!slot.in_use_ || slot.task_.is_finished() ||
        slot.state_.load(std::memory_order_seq_cst) != ConnectionSlot::State::idle) {
      continue;
    }
    if (!slot.served_.load(std::memory_order_relaxed)) {
      // Its client connected to send a request: it is served (with "Connection: close") if it
      // comes soon, else the sweep closes the connection.
      if (slot.idle_until_.load(std::memory_order_relaxed) > until) {
        slot.idle_until_.store(until, std::memory_order_relaxed);
      }
      continue;
    }
    if (!half_close || has_pending_input(slot.fd_)) continue;
    auto expected = ConnectionSlot::State::idle;
    if (!slot.state_.compare_exchange_strong(expected, ConnectionSlot::State::lingering,
                                             std::memory_order_acq_rel)) {
      continue;
    }
    // The task wakes when the peer answers the FIN (or sends a late request), sees `lingering`
    // and drains; the sweep aborts it after `linger`.
    slot.idle_until_.store(until, std::memory_order_relaxed);
    ::shutdown(slot.fd_, SHUT_WR);
  }
}

void ConnectionRegistry::abort_all() noexcept {
  std::lock_guard lock(mutex_);
  for (ConnectionSlot& slot : slots_) {
    if (slot.in_use_) slot.task_.abort();
  }
}

}  // namespace brigade::server::detail
