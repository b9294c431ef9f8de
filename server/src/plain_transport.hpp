#pragma once

#include <cstddef>
#include <span>

#include "brigade/runtime/net/tcp.hpp"
#include "socket_io.hpp"

namespace brigade::server::detail {

// The connection's bytes as they are on the socket. The connection code is written once,
// against this shape, and compiled for each transport (see TlsTransport), so the plain path
// stays the direct system calls it was: every member is an inline forward to socket_io or
// TcpStream. It holds nothing (the stream is passed in), so one object serves every plain
// connection and an idle connection's frame does not grow.
struct PlainTransport {
  static constexpr bool kHandshake = false;

  static IoResult try_read(runtime::net::TcpStream& stream, std::span<std::byte> buffer) noexcept {
    return try_recv(stream, buffer);
  }
  static IoResult try_write(runtime::net::TcpStream& stream,
                            std::span<const std::byte> data) noexcept {
    return try_send(stream.native_handle(), data);
  }
  static auto write_all(runtime::net::TcpStream& stream, std::span<const std::byte> data) {
    return stream.write_all(data);
  }
  // Input already taken from the socket but not read yet: none without a TLS layer.
  static constexpr bool has_buffered_input() noexcept { return false; }
  static void set_idle(bool /*idle*/) noexcept {}
  static void close_notify(runtime::net::TcpStream& /*stream*/) noexcept {}
};

}  // namespace brigade::server::detail
