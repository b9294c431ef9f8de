#include "brigade/runtime/net/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>

#include "brigade/runtime/coop.hpp"
#include "brigade/runtime/detail/socket_calls.hpp"
#include "brigade/runtime/time.hpp"
#include "readiness.hpp"
#include "unique_fd.hpp"

namespace brigade::runtime::net {
namespace {

using detail::Interest;

std::error_code last_error() noexcept { return {errno, std::generic_category()}; }

bool would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

std::expected<void, std::error_code> check(int result) noexcept {
  if (result != 0) return std::unexpected(last_error());
  return {};
}

std::expected<SocketAddr, std::error_code> address_of(int fd, bool peer) noexcept {
  sockaddr_storage storage{};
  socklen_t size = sizeof storage;
  auto* native = reinterpret_cast<sockaddr*>(&storage);
  const int result = peer ? ::getpeername(fd, native, &size) : ::getsockname(fd, native, &size);
  if (result != 0) return std::unexpected(last_error());
  return SocketAddr::from_native(native, size);
}

bool is_resource_exhaustion(int error) noexcept {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

Task<std::expected<TcpStream, std::error_code>> TcpStream::connect(SocketAddr address) {
  detail::UniqueFd socket(
      ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket) co_return std::unexpected(last_error());
  const int fd = socket.get();
  const bool in_progress = ::connect(fd, address.native(), address.native_size()) != 0;
  if (in_progress && errno != EINPROGRESS) co_return std::unexpected(last_error());
  auto io = detail::IoHandle::adopt(socket.release());
  if (!io) co_return std::unexpected(io.error());
  while (in_progress) {
    const auto tick = co_await detail::ready(io->registration(), Interest::write);
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) co_return std::unexpected(std::error_code(error, std::generic_category()));
    if (address_of(fd, true)) break;
    // Writable only in the optimistic sense: the handshake has not finished yet.
    detail::clear_readiness(io->registration(), Interest::write, tick);
  }
  co_return TcpStream(std::move(*io));
}

IoResult<void> TcpStream::Readable::await_resume() noexcept {
  auto outcome = IoOperation::await_resume();
  if (!outcome) return std::unexpected(outcome.error());
  return {};
}

// Readiness without an unspent event may be stale (it starts optimistic, and a read that took
// every byte leaves it set): confirm it by peeking, without consuming.
ssize_t TcpStream::Readable::perform(IoOperation& self) noexcept {
  const auto& op = static_cast<const Readable&>(self);
  std::byte probe;
  return ::recv(op.fd(), &probe, 1, MSG_PEEK);
}

IoResult<void> TcpStream::Writable::await_resume() noexcept {
  auto outcome = IoOperation::await_resume();
  if (!outcome) return std::unexpected(outcome.error());
  return {};
}

// Nothing to confirm: a write that finds the buffer full after all clears the readiness.
ssize_t TcpStream::Writable::perform(IoOperation&) noexcept { return 0; }

ssize_t TcpStream::Read::perform(IoOperation& self) noexcept {
  const auto& op = static_cast<const Read&>(self);
  return detail::sys::recv(op.fd(), op.buffer_.data(), op.buffer_.size(), 0);
}

ssize_t TcpStream::Write::perform(IoOperation& self) noexcept {
  const auto& op = static_cast<const Write&>(self);
  // MSG_NOSIGNAL: a peer that went away is an error code here, not a SIGPIPE for the process.
  return detail::sys::send(op.fd(), op.data_.data(), op.data_.size(), MSG_NOSIGNAL);
}

ssize_t TcpStream::WriteVectored::perform(IoOperation& self) noexcept {
  const auto& op = static_cast<const WriteVectored&>(self);
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(op.buffers_.data());
  message.msg_iovlen = std::min<std::size_t>(op.buffers_.size(), IOV_MAX);
  return detail::sys::sendmsg(op.fd(), &message, MSG_NOSIGNAL);
}

// One non-blocking call for try_read and try_write. On EAGAIN the readiness the driver reported
// is spent, so it is cleared, unless an event arrived meanwhile: the next wait then really waits.
// A read that fills less than its buffer has emptied the socket (a stream socket's recv stops
// short only when nothing is left), which spends the readiness as surely, one system call sooner.
template <class Call>
IoResult<std::size_t> try_io(detail::IoRegistration& io, Interest interest, std::size_t size,
                             Call call) noexcept {
  for (;;) {
    std::uint64_t tick = 0;
    {
      std::lock_guard guard(io.lock);
      tick = io.tick;
      if (interest == Interest::read) io.spend_read_edge();
    }
    const ssize_t moved = call();
    if (moved >= 0) {
      const auto bytes = static_cast<std::size_t>(moved);
      if (interest == Interest::read && bytes > 0 && bytes < size) {
        detail::clear_readiness(io, interest, tick);
      }
      return bytes;
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (would_block(error)) detail::clear_readiness(io, interest, tick);
    return std::unexpected(IoError(error));
  }
}

IoResult<std::size_t> TcpStream::try_read(std::span<std::byte> buffer) noexcept {
  return try_io(io_.registration(), Interest::read, buffer.size(),
                [&] { return detail::sys::recv(io_.fd(), buffer.data(), buffer.size(), 0); });
}

IoResult<std::size_t> TcpStream::try_write(std::span<const std::byte> data) noexcept {
  return try_io(io_.registration(), Interest::write, data.size(), [&] {
    return detail::sys::send(io_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
  });
}

std::pair<OwnedReadHalf, OwnedWriteHalf> TcpStream::into_split() && {
  detail::IoHandle reading = io_.share();
  return {OwnedReadHalf(std::move(reading)), OwnedWriteHalf(std::move(io_))};
}

OwnedWriteHalf::~OwnedWriteHalf() {
  if (native_handle() >= 0) static_cast<void>(shutdown(Shutdown::write));
}

Task<IoResult<void>> TcpStream::read_exact(std::span<std::byte> buffer) {
  while (!buffer.empty()) {
    auto received = co_await read(buffer);
    if (!received) co_return std::unexpected(received.error());
    if (*received == 0) co_return std::unexpected(IoError::end_of_stream());
    buffer = buffer.subspan(*received);
  }
  co_return IoResult<void>{};
}

Task<IoResult<void>> TcpStream::write_all(std::span<const std::byte> data) {
  while (!data.empty()) {
    auto sent = co_await write(data);
    if (!sent) co_return std::unexpected(sent.error());
    data = data.subspan(*sent);
  }
  co_return IoResult<void>{};
}

std::expected<void, std::error_code> TcpStream::shutdown(Shutdown how) noexcept {
  const int native = how == Shutdown::read ? SHUT_RD : how == Shutdown::write ? SHUT_WR : SHUT_RDWR;
  return check(::shutdown(io_.fd(), native));
}

std::expected<void, std::error_code> TcpStream::set_nodelay(bool enabled) noexcept {
  const int value = enabled ? 1 : 0;
  return check(::setsockopt(io_.fd(), IPPROTO_TCP, TCP_NODELAY, &value, sizeof value));
}

std::expected<SocketAddr, std::error_code> TcpStream::peer_addr() const noexcept {
  return address_of(io_.fd(), true);
}

std::expected<SocketAddr, std::error_code> TcpStream::local_addr() const noexcept {
  return address_of(io_.fd(), false);
}

std::expected<TcpListener, std::error_code> TcpListener::bind(SocketAddr address,
                                                              ListenOptions options) {
  detail::UniqueFd socket(
      ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket) return std::unexpected(last_error());
  const int fd = socket.get();
  const int on = 1;
  if (auto set = check(::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on)); !set) {
    return std::unexpected(set.error());
  }
  if (options.reuse_port) {
    if (auto set = check(::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on)); !set) {
      return std::unexpected(set.error());
    }
  }
  if (auto bound = check(::bind(fd, address.native(), address.native_size())); !bound) {
    return std::unexpected(bound.error());
  }
  if (auto listening = check(::listen(fd, options.backlog)); !listening) {
    return std::unexpected(listening.error());
  }
  auto io = detail::IoHandle::adopt(socket.release());
  if (!io) return std::unexpected(io.error());
  return TcpListener(std::move(*io));
}

Task<std::expected<std::pair<TcpStream, SocketAddr>, std::error_code>> TcpListener::accept() {
  // Budget first: a yield here can be cancelled without losing a completed operation.
  co_await consume_budget();
  using namespace std::chrono_literals;
  constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);
  auto backoff = std::chrono::milliseconds(5);
  auto& io = io_.registration();
  for (;;) {
    const auto tick = co_await detail::ready(io, Interest::read);
    auto accepted = try_accept();
    if (accepted) co_return accepted;
    const int error = accepted.error().value();
    if (would_block(error)) {
      detail::clear_readiness(io, Interest::read, tick);
      continue;
    }
    if (!is_resource_exhaustion(error)) co_return accepted;
    // The pending connection stays in the backlog and edge-triggered epoll will not report it
    // again: retry after a pause instead, doubling it while the shortage lasts.
    co_await sleep(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

std::expected<std::pair<TcpStream, SocketAddr>, std::error_code>
TcpListener::try_accept() noexcept {
  for (;;) {
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    auto* native = reinterpret_cast<sockaddr*>(&storage);
    const int fd = ::accept4(io_.fd(), native, &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      auto stream = detail::IoHandle::adopt(fd);
      if (!stream) return std::unexpected(stream.error());
      return std::pair{TcpStream(std::move(*stream)), SocketAddr::from_native(native, size)};
    }
    const int error = errno;
    if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
    return std::unexpected(last_error());
  }
}

std::expected<SocketAddr, std::error_code> TcpListener::local_addr() const noexcept {
  return address_of(io_.fd(), false);
}

}  // namespace brigade::runtime::net
