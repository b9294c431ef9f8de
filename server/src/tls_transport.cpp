#include "tls_transport.hpp"

#include <openssl/buffer.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <climits>
#include <utility>

namespace brigade::server::detail {
namespace {

// Plaintext encrypted per step: one full TLS record.
constexpr std::size_t kWriteChunk = 16 * 1024;
// Ciphertext taken from the socket per read: a full record and its header.
constexpr std::size_t kReceiveChunk = 16 * 1024 + 512;
// A memory BIO keeps the largest buffer it ever needed. Past this (a handshake and small requests
// stay well below it), an idle connection swaps it for an empty one.
constexpr std::size_t kMaxIdleBioBuffer = 4 * 1024;

// Where ciphertext passes through on its way between the socket and a memory BIO. Used only
// inside one non-suspending call, so one per thread serves every connection on it.
std::span<std::byte> scratch() noexcept {
  thread_local std::array<std::byte, kReceiveChunk> buffer;
  return buffer;
}

int clamp_int(std::size_t size) noexcept {
  return static_cast<int>(std::min<std::size_t>(size, INT_MAX));
}

// An empty memory BIO that holds a large buffer.
bool grown(BIO* bio) noexcept {
  if (BIO_ctrl_pending(bio) != 0) return false;
  BUF_MEM* memory = nullptr;
  BIO_get_mem_ptr(bio, &memory);
  return memory != nullptr && memory->max > kMaxIdleBioBuffer;
}

}  // namespace

TlsTransport::~TlsTransport() {
  if (idle_) close_notify_now();
}

runtime::Task<bool> TlsTransport::handshake(runtime::net::TcpStream& stream) {
  ssl_.reset(SSL_new(context_));
  if (!ssl_) co_return false;
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (in_ == nullptr || out_ == nullptr) {
    BIO_free(std::exchange(in_, nullptr));
    BIO_free(std::exchange(out_, nullptr));
    co_return false;
  }
  SSL_set_bio(ssl_.get(), in_, out_);  // ssl_ owns both from here
  SSL_set_accept_state(ssl_.get());
  fd_ = stream.native_handle();

  for (;;) {
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl_.get());
    const int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
    if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ) {
      failed_ = true;
      ERR_clear_error();
    }
    // The handshake's next flight, or the alert that ends a failed one.
    if (BIO_ctrl_pending(out_) > 0) {
      const bool sent = co_await write_all(stream, {});
      if (!sent) co_return false;
    }
    if (error == SSL_ERROR_NONE) co_return true;
    if (failed_) co_return false;

    IoResult got = receive();
    while (got.status == IoStatus::would_block) {
      const auto ready = co_await stream.readable();
      if (!ready) co_return false;
      got = receive();
    }
    if (got.status != IoStatus::done) co_return false;
  }
}

IoResult TlsTransport::try_read(runtime::net::TcpStream& /*stream*/,
                                std::span<std::byte> buffer) noexcept {
  for (;;) {
    ERR_clear_error();
    const int got = SSL_read(ssl_.get(), buffer.data(), clamp_int(buffer.size()));
    if (got > 0) return {IoStatus::done, static_cast<std::size_t>(got)};
    const int error = SSL_get_error(ssl_.get(), got);
    if (error == SSL_ERROR_WANT_READ) {
      const IoResult more = receive();
      if (more.status == IoStatus::done) continue;
      if (more.status == IoStatus::would_block) {
        starved_ = true;
        // What reading produced (the answer to a key update) need not wait for a response.
        if (BIO_ctrl_pending(out_) > 0) static_cast<void>(send_pending());
      }
      return {more.status, 0};  // closed: the peer left without close_notify
    }
    if (error == SSL_ERROR_ZERO_RETURN) {  // the peer's close_notify: answered with ours
      close_notify_now();
      return {IoStatus::closed, 0};
    }
    failed_ = true;
    ERR_clear_error();
    static_cast<void>(send_pending());  // the alert OpenSSL queued, if any
    return {IoStatus::failed, 0};
  }
}

IoResult TlsTransport::try_write(runtime::net::TcpStream& /*stream*/,
                                 std::span<const std::byte> data) noexcept {
  const IoStatus before = send_pending();
  if (before != IoStatus::done) return {before, 0};
  const std::size_t chunk = std::min(data.size(), kWriteChunk);
  ERR_clear_error();
  if (SSL_write(ssl_.get(), data.data(), clamp_int(chunk)) <= 0) {
    failed_ = true;
    ERR_clear_error();
    return {IoStatus::failed, 0};
  }
  // The chunk is taken even if the socket does not take all of its ciphertext: would_block
  // then tells the caller to wait (write_all sends the rest first).
  return {send_pending(), chunk};
}

runtime::Task<bool> TlsTransport::write_all(runtime::net::TcpStream& stream,
                                            std::span<const std::byte> data) {
  for (;;) {
    char* pending = nullptr;
    const long length = BIO_get_mem_data(out_, &pending);
    if (length > 0) {
      // The BIO is not touched until the write is done, so `pending` stays valid.
      const auto written = co_await stream.write_all(
          std::as_bytes(std::span(pending, static_cast<std::size_t>(length))));
      if (!written) {
        failed_ = true;
        co_return false;
      }
      consume_pending(static_cast<std::size_t>(length));
      continue;
    }
    if (data.empty()) co_return true;
    const std::size_t chunk = std::min(data.size(), kWriteChunk);
    ERR_clear_error();
    if (SSL_write(ssl_.get(), data.data(), clamp_int(chunk)) <= 0) {
      failed_ = true;
      ERR_clear_error();
      co_return false;
    }
    data = data.subspan(chunk);
  }
}

void TlsTransport::set_idle(bool idle) noexcept {
  idle_ = idle;
  if (idle) shed_grown_buffers();
}

void TlsTransport::shed_grown_buffers() noexcept {
  if (grown(in_)) {
    if (BIO* fresh = BIO_new(BIO_s_mem()); fresh != nullptr) {
      SSL_set0_rbio(ssl_.get(), fresh);  // frees the old one
      in_ = fresh;
    }
  }
  if (grown(out_)) {
    if (BIO* fresh = BIO_new(BIO_s_mem()); fresh != nullptr) {
      SSL_set0_wbio(ssl_.get(), fresh);
      out_ = fresh;
    }
  }
}

bool TlsTransport::has_buffered_input() const noexcept {
  return SSL_pending(ssl_.get()) > 0 || (!starved_ && BIO_ctrl_pending(in_) > 0);
}

void TlsTransport::close_notify(runtime::net::TcpStream& /*stream*/) noexcept {
  close_notify_now();
}

void TlsTransport::close_notify_now() noexcept {
  if (!ssl_ || failed_ || SSL_is_init_finished(ssl_.get()) != 1) return;
  if ((SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN) != 0) return;
  ERR_clear_error();
  // 0: ours is queued and the peer's not seen yet; the connection does not wait for it.
  if (SSL_shutdown(ssl_.get()) < 0) {
    ERR_clear_error();
    return;
  }
  static_cast<void>(send_pending());
}

IoResult TlsTransport::receive() noexcept {
  const std::span<std::byte> buffer = scratch();
  const IoResult got = try_recv(fd_, buffer);
  if (got.status != IoStatus::done) return got;
  if (BIO_write(in_, buffer.data(), clamp_int(got.bytes)) != clamp_int(got.bytes)) {
    return {IoStatus::failed, 0};
  }
  starved_ = false;
  return got;
}

IoStatus TlsTransport::send_pending() noexcept {
  for (;;) {
    char* pending = nullptr;
    const long length = BIO_get_mem_data(out_, &pending);
    if (length <= 0) return IoStatus::done;
    const IoResult sent =
        try_send(fd_, std::as_bytes(std::span(pending, static_cast<std::size_t>(length))));
    if (sent.status != IoStatus::done) return sent.status;
    consume_pending(sent.bytes);
  }
}

void TlsTransport::consume_pending(std::size_t bytes) noexcept {
  // A memory BIO has no "skip": read what was sent into the scratch and drop it.
  const std::span<std::byte> buffer = scratch();
  while (bytes > 0) {
    const int taken = BIO_read(out_, buffer.data(), clamp_int(std::min(bytes, buffer.size())));
    if (taken <= 0) return;
    bytes -= static_cast<std::size_t>(taken);
  }
}

}  // namespace brigade::server::detail
