#pragma once

#include <memory>
#include <utility>

#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::server::detail {

struct ServerCore;
class ConnectionSlot;

// An accepted connection registered with its server (ConnectionRegistry::add): owns the stream,
// keeps the server's shared state alive, and when destroyed leaves the registry before the
// stream closes, so the registry never looks at a closed descriptor. Tells the observer.
class RegisteredConnection {
 public:
  RegisteredConnection(std::shared_ptr<ServerCore> core, ConnectionSlot& slot,
                       runtime::net::TcpStream stream) noexcept;
  RegisteredConnection(RegisteredConnection&& other) noexcept
      : core_(std::move(other.core_)),
        slot_(std::exchange(other.slot_, nullptr)),
        stream_(std::move(other.stream_)) {}
  RegisteredConnection& operator=(RegisteredConnection&&) = delete;
  ~RegisteredConnection();

  ServerCore& core() const noexcept { return *core_; }
  ConnectionSlot& slot() const noexcept { return *slot_; }
  runtime::net::TcpStream& stream() noexcept { return stream_; }

 private:
  std::shared_ptr<ServerCore> core_;
  ConnectionSlot* slot_;
  runtime::net::TcpStream stream_;
};

// The task of one accepted connection: waits for a request without holding any buffer, then
// reads, parses and answers every request that arrives (pipelined answers leave in one write),
// and goes back to waiting once no partial request is left. Ends when either side closes, on a
// malformed request (answered first), a timeout, or when the server claims it while idle
// (keep-alive expiry, shutdown: its task is then aborted where it waits).
runtime::Task<void> serve_connection(RegisteredConnection connection);
// The same over TLS (the server's options have a TlsContext): the handshake first, within
// tls_handshake_timeout, then requests as above, with close_notify when the server closes.
runtime::Task<void> serve_tls_connection(RegisteredConnection connection);

}  // namespace brigade::server::detail
