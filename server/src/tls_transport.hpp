#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <span>

#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/task.hpp"
#include "socket_io.hpp"

namespace brigade::server::detail {

struct SslFree {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

// A TLS connection over the runtime's TcpStream, with PlainTransport's shape (see there).
//
// OpenSSL never touches the socket: it reads ciphertext from one memory BIO and writes to
// another. This class moves ciphertext between those and the socket, without blocking: a read
// or write that would block returns would_block (try_*), or waits on the stream (handshake,
// write_all), so the handshake and every record are driven by the connection's task on its
// worker. The memory BIOs stay small: ciphertext is read only when OpenSSL asks for more, and
// at most one chunk of plaintext is encrypted ahead of what the socket took.
class TlsTransport {
 public:
  static constexpr bool kHandshake = true;

  explicit TlsTransport(SSL_CTX* context) noexcept : context_(context) {}
  TlsTransport(TlsTransport&&) noexcept = default;
  TlsTransport& operator=(TlsTransport&&) = delete;
  // Closed between requests (keep-alive expiry, shutdown: the task is aborted while idle), the
  // connection says close_notify first, with one try that never waits.
  ~TlsTransport();

  // The server side of the handshake. False if it failed (an alert was sent when OpenSSL had
  // one), the peer closed, or the session could not be made. Bound it with a timeout.
  runtime::Task<bool> handshake(runtime::net::TcpStream& stream);

  // Decrypted bytes, reading ciphertext from the socket as needed. closed: the peer closed
  // (with close_notify, which is answered, or without); failed: a TLS error (the alert is sent).
  IoResult try_read(runtime::net::TcpStream& stream, std::span<std::byte> buffer) noexcept;
  // Encrypts up to one chunk of `data` once the socket has taken what was encrypted before.
  // Unlike a plain send, would_block may come with bytes taken: their ciphertext waits in
  // memory, and write_all (even of nothing) sends it.
  IoResult try_write(runtime::net::TcpStream& stream, std::span<const std::byte> data) noexcept;
  // Encrypts and writes all of `data`, waiting for the socket as needed.
  runtime::Task<bool> write_all(runtime::net::TcpStream& stream, std::span<const std::byte> data);

  // Whether try_read may give bytes without the socket becoming readable: decrypted bytes are
  // left, or whole records that were not decrypted yet (the read buffer was full).
  bool has_buffered_input() const noexcept;
  // Whether the connection waits between requests (where closing it is graceful). Going idle,
  // a memory BIO that a large body grew is given back.
  void set_idle(bool idle) noexcept;
  // Queues close_notify after what was written and tries once to send it, without waiting.
  void close_notify(runtime::net::TcpStream& stream) noexcept;

 private:
  void close_notify_now() noexcept;
  void shed_grown_buffers() noexcept;
  // Ciphertext from the socket into in_ (one non-blocking read).
  IoResult receive() noexcept;
  // Ciphertext from out_ to the socket, as much as it takes without blocking (done: all of it).
  IoStatus send_pending() noexcept;
  void consume_pending(std::size_t bytes) noexcept;

  SSL_CTX* context_;
  std::unique_ptr<SSL, SslFree> ssl_;
  BIO* in_ = nullptr;   // ciphertext from the peer; owned by ssl_
  BIO* out_ = nullptr;  // ciphertext for the peer; owned by ssl_
  int fd_ = -1;
  // OpenSSL asked for ciphertext and the socket had none: what is in in_ is a partial record.
  bool starved_ = false;
  bool failed_ = false;  // a fatal TLS error: no close_notify after it
  bool idle_ = false;
};

}  // namespace brigade::server::detail
