#pragma once

// For the runtime's own tests only, not part of the API: what a test observes to know that a task
// has reached the state it means to act on (waiting on a socket), instead of sleeping and
// guessing.

#include <cstddef>
#include <mutex>

#include "brigade/runtime/detail/io_registration.hpp"
#include "brigade/runtime/net/tcp.hpp"

namespace brigade::runtime::detail {

inline std::size_t count(const WaitList& list) noexcept {
  std::size_t n = 0;
  for (const WaitNode* node = list.front(); node != nullptr; node = list.next_of(*node)) ++n;
  return n;
}

struct SocketInternals {
  // The driver's record of the socket; it stays valid while the socket lives, wherever the
  // socket is moved (into a task, say).
  static IoRegistration& registration(const net::TcpStream& stream) noexcept {
    return stream.io_.registration();
  }
  static IoRegistration& registration(const net::TcpListener& listener) noexcept {
    return listener.io_.registration();
  }
};

// How many tasks found the descriptor not ready and now wait on the driver for it to become
// readable (accepts, reads, readable()) or writable (writes whose data did not fit, writable()).
inline std::size_t waiting_readers(IoRegistration& io) noexcept {
  std::lock_guard guard(io.lock);
  return count(io.readers);
}

inline std::size_t waiting_writers(IoRegistration& io) noexcept {
  std::lock_guard guard(io.lock);
  return count(io.writers);
}

}  // namespace brigade::runtime::detail
