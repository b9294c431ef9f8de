#include "socket_io.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/poll_clock.hpp"
#include "brigade/runtime/detail/socket_calls.hpp"
#include "brigade/runtime/timeout.hpp"

namespace brigade::server::detail {
namespace {

// Enough to let a peer finish sending a request we refused; beyond it we close regardless.
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;

bool would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

IoResult try_recv(int fd, std::span<std::byte> buffer) noexcept {
  for (;;) {
    const ssize_t received =
        runtime::detail::sys::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (received > 0) return {IoStatus::done, static_cast<std::size_t>(received)};
    if (received == 0) return {IoStatus::closed, 0};
    if (errno == EINTR) continue;
    return {would_block(errno) ? IoStatus::would_block : IoStatus::failed, 0};
  }
}

IoResult try_recv(runtime::net::TcpStream& stream, std::span<std::byte> buffer) noexcept {
  const auto received = stream.try_read(buffer);
  if (received) return {*received > 0 ? IoStatus::done : IoStatus::closed, *received};
  return {received.error() == std::errc::operation_would_block ? IoStatus::would_block
                                                               : IoStatus::failed,
          0};
}

IoResult try_send(int fd, std::span<const std::byte> data) noexcept {
  for (;;) {
    const ssize_t sent =
        runtime::detail::sys::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return {IoStatus::done, static_cast<std::size_t>(sent)};
    if (errno == EINTR) continue;
    return {would_block(errno) ? IoStatus::would_block : IoStatus::failed, 0};
  }
}

bool has_pending_input(int fd) noexcept {
  std::byte probe;
  return ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

PeerInput peek_input(int fd) noexcept {
  std::byte probe;
  const ssize_t got = ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got > 0) return PeerInput::data;
  if (got == 0) return PeerInput::end;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? PeerInput::none
                                                                   : PeerInput::error;
}

runtime::Task<std::expected<void, std::error_code>> wait_readable(runtime::net::TcpStream& stream) {
  co_return co_await stream.readable();
}

runtime::Clock::time_point coarse_now() noexcept {
  // Inside a poll, the stamp the worker read as the poll started: no clock read per request.
  const std::chrono::nanoseconds since_boot(runtime::detail::poll_or_clock_ns());
  return runtime::Clock::time_point(
      std::chrono::duration_cast<runtime::Clock::duration>(since_boot));
}

runtime::Task<void> linger_close(runtime::net::TcpStream& stream, std::span<std::byte> scratch,
                                 runtime::Clock::duration linger) {
  if (!stream.shutdown(runtime::net::TcpStream::Shutdown::write)) co_return;
  const auto deadline = runtime::Clock::now() + linger;
  std::size_t discarded = 0;
  while (discarded < kMaxLingerBytes) {
    const IoResult got = try_recv(stream.native_handle(), scratch);
    if (got.status == IoStatus::done) {
      discarded += got.bytes;
      co_await runtime::consume_budget();
      continue;
    }
    if (got.status != IoStatus::would_block) co_return;
    const auto ready = co_await runtime::timeout_at(deadline, wait_readable(stream));
    if (!ready || !*ready) co_return;
  }
}

}  // namespace brigade::server::detail
