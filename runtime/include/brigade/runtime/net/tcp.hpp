#pragma once

#include <sys/uio.h>

#include <coroutine>
#include <cstddef>
#include <expected>
#include <span>
#include <system_error>
#include <utility>

#include "brigade/runtime/detail/io_handle.hpp"
#include "brigade/runtime/detail/io_operation.hpp"
#include "brigade/runtime/net/io_error.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/task.hpp"

namespace brigade::runtime::detail {
struct SocketInternals;  // detail/testing.hpp
}  // namespace brigade::runtime::detail

namespace brigade::runtime::net {

// A TCP connection. Operations wait for readiness on the runtime's driver; any number of them
// may wait at once, from any tasks (readiness wakes them all; those that find nothing to do wait
// again). Await each operation before the stream is moved or destroyed (the coroutine refers to
// it). Ready operations consume the task's
// cooperative budget, so a connection that always has data still lets others run.
class OwnedReadHalf;
class OwnedWriteHalf;

class TcpStream {
 public:
  enum class Shutdown { read, write, both };

  static Task<std::expected<TcpStream, std::error_code>> connect(SocketAddr address);

  // The operations are plain awaiters (detail::IoOperation), not coroutines: a task blocked on a
  // socket holds only the awaiter in its own frame, and waiting allocates nothing.

  // Completes when a read would not block (data, end of stream or an error is pending), without
  // reading. A server waits with this between requests, so an idle connection holds no buffer;
  // try_read then takes what arrived. A readiness event no read has spent yet is taken as it is;
  // otherwise a 1-byte peek confirms it. So, as in Tokio, it can complete without bytes when a
  // read raced the event that woke it (try_read then would block), once per event at most.
  class [[nodiscard]] Readable final : public detail::IoOperation {
   public:
    explicit Readable(detail::IoRegistration& io) noexcept
        : IoOperation(io, &confirm_with<detail::Interest::read, &perform>) {}
    IoResult<void> await_resume() noexcept;

   private:
    static ssize_t perform(IoOperation& self) noexcept;
  };
  // Completes when a write would not block (the driver last saw room in the send buffer, or the
  // peer is gone), without writing; try_write then sends what fits.
  class [[nodiscard]] Writable final : public detail::IoOperation {
   public:
    explicit Writable(detail::IoRegistration& io) noexcept
        : IoOperation(io, &attempt_with<detail::Interest::write, &perform>) {}
    IoResult<void> await_resume() noexcept;

   private:
    static ssize_t perform(IoOperation& self) noexcept;
  };
  // Each of these yields the bytes moved or an error.
  class [[nodiscard]] Read final : public detail::IoOperation {
   public:
    Read(detail::IoRegistration& io, std::span<std::byte> buffer) noexcept
        : IoOperation(io, &attempt_with<detail::Interest::read, &perform>), buffer_(buffer) {}

   private:
    static ssize_t perform(IoOperation& self) noexcept;
    std::span<std::byte> buffer_;
  };
  class [[nodiscard]] Write final : public detail::IoOperation {
   public:
    Write(detail::IoRegistration& io, std::span<const std::byte> data) noexcept
        : IoOperation(io, &attempt_with<detail::Interest::write, &perform>), data_(data) {}

   private:
    static ssize_t perform(IoOperation& self) noexcept;
    std::span<const std::byte> data_;
  };
  class [[nodiscard]] WriteVectored final : public detail::IoOperation {
   public:
    WriteVectored(detail::IoRegistration& io, std::span<const iovec> buffers) noexcept
        : IoOperation(io, &attempt_with<detail::Interest::write, &perform>), buffers_(buffers) {}

   private:
    static ssize_t perform(IoOperation& self) noexcept;
    std::span<const iovec> buffers_;
  };

  Readable readable() noexcept { return Readable(io_.registration()); }
  Writable writable() noexcept { return Writable(io_.registration()); }
  // Reads what is available, up to buffer.size(); 0 means the peer closed its side.
  Read read(std::span<std::byte> buffer) noexcept { return Read(io_.registration(), buffer); }
  Task<IoResult<void>> read_exact(std::span<std::byte> buffer);
  // Writes what fits in the socket buffer (at least one byte).
  Write write(std::span<const std::byte> data) noexcept { return Write(io_.registration(), data); }
  // Like write, gathering from several buffers (at most IOV_MAX of them per call).
  WriteVectored writev(std::span<const iovec> buffers) noexcept {
    return WriteVectored(io_.registration(), buffers);
  }
  Task<IoResult<void>> write_all(std::span<const std::byte> data);

  // Without waiting (Tokio's try_read and try_write): the bytes moved (for try_read, 0 means the
  // peer closed its side), or std::errc::operation_would_block when the socket is not ready;
  // readable() then waits until it is. They take no cooperative budget: they never wait. A
  // try_read that fills less than its buffer has emptied the socket, so, as in Tokio, it clears
  // the readiness: the next readable() waits for an event without a system call.
  IoResult<std::size_t> try_read(std::span<std::byte> buffer) noexcept;
  IoResult<std::size_t> try_write(std::span<const std::byte> data) noexcept;

  std::expected<void, std::error_code> shutdown(Shutdown how) noexcept;
  std::expected<void, std::error_code> set_nodelay(bool enabled) noexcept;
  std::expected<SocketAddr, std::error_code> peer_addr() const noexcept;
  std::expected<SocketAddr, std::error_code> local_addr() const noexcept;
  int native_handle() const noexcept { return io_.fd(); }

  // Tokio's into_split: a read half and a write half that own the connection together, for a
  // reader task and a writer task that need no pointer to a stream someone else owns. The
  // connection is closed when both halves are gone; dropping the write half first shuts down
  // the write side, as in Tokio.
  std::pair<OwnedReadHalf, OwnedWriteHalf> into_split() &&;

 protected:
  explicit TcpStream(detail::IoHandle io) noexcept : io_(std::move(io)) {}

 private:
  friend class TcpListener;
  friend struct detail::SocketInternals;

  detail::IoHandle io_;
};

// The reading half of a split TcpStream: its read operations, nothing that writes.
class OwnedReadHalf : private TcpStream {
 public:
  using TcpStream::local_addr;
  using TcpStream::native_handle;
  using TcpStream::peer_addr;
  using TcpStream::Read;
  using TcpStream::read;
  using TcpStream::read_exact;
  using TcpStream::Readable;
  using TcpStream::readable;
  using TcpStream::try_read;

 private:
  friend class TcpStream;
  explicit OwnedReadHalf(detail::IoHandle io) noexcept : TcpStream(std::move(io)) {}
};

// The writing half of a split TcpStream. Dropping it shuts down the write side of the
// connection (the peer reads end of stream), as Tokio's does.
class OwnedWriteHalf : private TcpStream {
 public:
  OwnedWriteHalf(OwnedWriteHalf&&) noexcept = default;
  OwnedWriteHalf& operator=(OwnedWriteHalf&&) = delete;
  ~OwnedWriteHalf();

  using TcpStream::local_addr;
  using TcpStream::native_handle;
  using TcpStream::peer_addr;
  using TcpStream::set_nodelay;
  using TcpStream::try_write;
  using TcpStream::Writable;
  using TcpStream::writable;
  using TcpStream::Write;
  using TcpStream::write;
  using TcpStream::write_all;
  using TcpStream::writev;
  using TcpStream::WriteVectored;

 private:
  friend class TcpStream;
  explicit OwnedWriteHalf(detail::IoHandle io) noexcept : TcpStream(std::move(io)) {}
};

struct ListenOptions {
  int backlog = 1024;
  bool reuse_port = false;
};

class TcpListener {
 public:
  // Binds with SO_REUSEADDR and listens. Call it on a runtime thread (inside a task or block_on).
  static std::expected<TcpListener, std::error_code> bind(SocketAddr address,
                                                          ListenOptions options = {});

  // Waits for the next connection. Transient failures are retried here rather than returned:
  // ECONNABORTED at once, and descriptor or memory exhaustion (EMFILE, ENFILE, ENOBUFS, ENOMEM)
  // after a backoff, so the loop neither spins nor dies while the process is out of descriptors.
  Task<std::expected<std::pair<TcpStream, SocketAddr>, std::error_code>> accept();
  // Without waiting: a connection the kernel has already completed, or
  // std::errc::operation_would_block when there is none (a server empties its backlog with it
  // before closing the listener).
  std::expected<std::pair<TcpStream, SocketAddr>, std::error_code> try_accept() noexcept;

  std::expected<SocketAddr, std::error_code> local_addr() const noexcept;
  int native_handle() const noexcept { return io_.fd(); }

 private:
  explicit TcpListener(detail::IoHandle io) noexcept : io_(std::move(io)) {}
  friend struct detail::SocketInternals;

  detail::IoHandle io_;
};

}  // namespace brigade::runtime::net
