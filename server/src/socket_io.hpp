#pragma once

#include <cstddef>
#include <expected>
#include <span>
#include <system_error>

#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade/runtime/time.hpp"

// Non-blocking socket calls for the connection's hot path, beside the runtime's TcpStream.
//
// TcpStream's read and write are coroutines that wait for readiness: each costs a frame, and a
// completed read that then yields for the cooperative budget can still be cancelled by a select
// (losing what it read). The connection tries the system call first, like Tokio's
// try_read/try_write, and waits through TcpStream only when the call would block. Reads go
// through TcpStream::try_read, which tells the stream's readiness when the socket is empty, so
// that the wait for the next request is the readiness event alone, with no system call to
// confirm it. Writes and peeks go straight to the socket: the runtime's readiness for them is
// only ever optimistic, and it confirms it with a system call of its own before a task sleeps.
namespace brigade::server::detail {

enum class IoStatus : unsigned char { done, would_block, closed, failed };

struct IoResult {
  IoStatus status;
  std::size_t bytes;  // with done: how many (> 0); a TLS write's would_block may carry some too
};

// recv(MSG_DONTWAIT): done with bytes > 0, closed at end of stream.
IoResult try_recv(int fd, std::span<std::byte> buffer) noexcept;
// The same through the stream's readiness (TcpStream::try_read).
IoResult try_recv(runtime::net::TcpStream& stream, std::span<std::byte> buffer) noexcept;
// send(MSG_DONTWAIT | MSG_NOSIGNAL) of as much as the socket takes: done with the bytes sent
// (perhaps fewer than asked), would_block when none fit.
IoResult try_send(int fd, std::span<const std::byte> data) noexcept;
// Whether the peer has sent bytes not read yet (a request the server must not drop).
bool has_pending_input(int fd) noexcept;

// What a peek at the socket finds: nothing yet, bytes, the end of the stream, or an error
// (a reset).
enum class PeerInput : unsigned char { none, data, end, error };
PeerInput peek_input(int fd) noexcept;

// stream.readable() as a task, for timeout() and select(), which move their operands (the
// awaiter itself does not move).
runtime::Task<std::expected<void, std::error_code>> wait_readable(runtime::net::TcpStream& stream);

// CLOCK_MONOTONIC_COARSE, the clock of runtime::Clock at tick resolution (a few ms): good enough
// for timeouts counted in seconds, read on every request. Inside a poll, it is the reading the
// worker took as the poll started (late by at most the poll's length), so it costs no read.
runtime::Clock::time_point coarse_now() noexcept;

// Closes the write side, then reads and discards what the peer still sends, until it closes,
// `linger` passes or a bound on the bytes is reached: a close with unread input would reset the
// connection and could destroy the last response before the peer reads it (RFC 9112 §9.6).
// `scratch` receives the discarded bytes.
runtime::Task<void> linger_close(runtime::net::TcpStream& stream, std::span<std::byte> scratch,
                                 runtime::Clock::duration linger);

}  // namespace brigade::server::detail
