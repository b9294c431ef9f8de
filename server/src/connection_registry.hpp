#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/sync/notify.hpp"
#include "brigade/runtime/time.hpp"

namespace brigade::server::detail {

// One open connection as the server sees it: whether it waits for a request (and until when it
// may), its descriptor and its task.
//
// A connection waiting between requests is closed from outside, by aborting its task: the
// keep-alive sweep when its idle deadline passed, shutdown at once. So the wait itself costs
// nothing beyond the read readiness it waits for: no timer, no channel receiver, no select, and
// entering or leaving it is a store and a compare-exchange on this slot, never a lock. The state
// word settles races: the connection leaves `idle` with a compare-exchange, the server claims an
// idle connection with one, and only the winner acts.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  // From the connection task: it waits for a request until `deadline` (sequentially consistent,
  // so that the shutdown flag read right after it cannot miss a concurrent shutdown). `served`:
  // it has answered a request before (a new connection's client is about to send its first).
  void enter_idle(runtime::Clock::time_point deadline, bool served) noexcept;
  // From the connection task: it has bytes of a request. False when the server claimed it first
  // (its task is being aborted, or it is lingering).
  bool try_activate() noexcept;
  // After try_activate() failed: the server half-closed the connection at shutdown, and its task
  // is to read and drop what the peer still sends until it closes (see close_idle).
  bool lingering() const noexcept;
  // The client's address, as accepted: set by add(), before the task starts, and never after.
  const runtime::net::SocketAddr& peer() const noexcept { return peer_; }

 private:
  friend class ConnectionRegistry;
  enum class State : std::uint8_t { active, idle, closing, lingering };

  std::atomic<State> state_{State::active};
  std::atomic<bool> served_{false};                 // valid while idle
  std::atomic<runtime::Clock::rep> idle_until_{0};  // valid while idle
  // Guarded by the registry's mutex:
  runtime::JoinHandle<void> task_;
  int fd_ = -1;
  runtime::net::SocketAddr peer_;
  bool in_use_ = false;
  ConnectionSlot* next_free_ = nullptr;
};

// What one sweep closed: connections that waited past header_timeout for their first request
// (or their TLS handshake), and past keep_alive_timeout between requests.
struct IdleClosed {
  std::size_t waiting_for_first_request = 0;
  std::size_t between_requests = 0;
};

// The open connections of a server. Locked when a connection opens or closes and by the
// periodic sweep, never per request. Slots are recycled, so the table has the size of the
// largest number of connections open at once.
class ConnectionRegistry {
 public:
  ConnectionRegistry() = default;
  ConnectionRegistry(const ConnectionRegistry&) = delete;
  ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;

  // Registers a connection on `fd` from `peer`; its task must call remove(slot) as it ends (see
  // RegisteredConnection), and attach(slot, handle) once it is spawned.
  ConnectionSlot& add(int fd, const runtime::net::SocketAddr& peer);
  // Gives the registry the connection's task, to abort it. Call it from the task that calls
  // add() (the accept loop), right after spawning.
  void attach(ConnectionSlot& slot, runtime::JoinHandle<void> task) noexcept;

  // From a connection task as it ends (also when aborted), before its descriptor is closed.
  void remove(ConnectionSlot& slot) noexcept;

  std::size_t live() const noexcept { return live_.load(std::memory_order_acquire); }
  // Notified (notify_waiters) whenever live() drops to 0.
  runtime::Notify& emptied() noexcept { return emptied_; }

  // Aborts the connections idle past their deadline, and those lingering past theirs, except
  // those with input waiting (they are about to serve a request).
  IdleClosed close_idle(runtime::Clock::time_point now) noexcept;
  // At shutdown, for every connection idle after a request, except those with input waiting:
  // with `half_close`, sends FIN (shutdown(SHUT_WR)) and leaves the task to read what the peer
  // still sends until it closes or `linger` passes: a request the peer sent before the FIN
  // reached it is then dropped without a reset. Without (TLS, where close_notify must come
  // first and only the task can write it), leaves it to its task, which the server wakes. A new
  // connection that has not sent its first request keeps waiting for it, `linger` at most.
  void close_idle_at_shutdown(runtime::Clock::time_point now, runtime::Clock::duration linger,
                              bool half_close) noexcept;
  // Aborts every connection task.
  void abort_all() noexcept;

 private:
  ConnectionSlot& take_slot_locked();
  void give_back_locked(ConnectionSlot& slot) noexcept;

  std::mutex mutex_;
  std::deque<ConnectionSlot> slots_;  // guarded by mutex_; a deque, so slots never move
  ConnectionSlot* free_ = nullptr;    // guarded by mutex_
  std::atomic<std::size_t> live_{0};
  runtime::Notify emptied_;
};

}  // namespace brigade::server::detail
