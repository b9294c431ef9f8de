#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

// A client on a raw loopback socket, for what a well-behaved HTTP client will not send:
// malformed, pipelined, slow, half-closed and idle connections (server_test, hardening_test).
namespace brigade::testing {

using namespace std::chrono_literals;

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      error_ = errno;
    }
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connected() const noexcept { return error_ == 0; }
  int connect_error() const noexcept { return error_; }

  // shutdown(SHUT_WR): the server sees the end of the stream, and can still answer.
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Closes at once, with SO_LINGER 0 when `reset`: the peer gets an RST instead of a FIN.
  void close(bool reset = false) {
    if (reset) {
      const linger abort{.l_onoff = 1, .l_linger = 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    ::close(fd_);
    fd_ = -1;
  }

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent < 0) throw std::system_error(errno, std::generic_category(), "send");
      data.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // One recv, after waiting up to `limit` for bytes; "" at end of stream or on timeout.
  std::string read_once(std::chrono::milliseconds limit = 10s) {
    if (!wait_readable(limit)) return {};
    std::string data(64 * 1024, '\0');
    const ssize_t received = ::recv(fd_, data.data(), data.size(), 0);
    data.resize(received > 0 ? static_cast<std::size_t>(received) : 0);
    return data;
  }

  // Everything until the server closes (or `limit` passes; then `closed` says so).
  std::string read_until_closed(std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string all;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !wait_readable(left)) {
        closed_ = false;
        return all;
      }
      char chunk[4096];
      const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
      if (received <= 0) {
        closed_ = true;
        return all;
      }
      all.append(chunk, static_cast<std::size_t>(received));
    }
  }

  // Reads until `text` has appeared (or `limit` passed).
  std::string read_until(std::string_view text, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string all;
    while (all.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !wait_readable(left)) break;
      char chunk[4096];
      const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
      if (received <= 0) break;
      all.append(chunk, static_cast<std::size_t>(received));
    }
    return all;
  }

  bool closed() const noexcept { return closed_; }

 private:
  bool wait_readable(std::chrono::milliseconds limit) {
    pollfd entry{fd_, POLLIN, 0};
    return ::poll(&entry, 1, static_cast<int>(limit.count())) > 0;
  }

  int fd_;
  int error_ = 0;
  bool closed_ = false;
};

}  // namespace brigade::testing
