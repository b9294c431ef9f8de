#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>

namespace brigade::runtime::net {

// An IPv4 or IPv6 address with a port.
class SocketAddr {
 public:
  SocketAddr() noexcept;

  // "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0", "localhost:8080". Literal addresses only: this
  // is for configuration and tests, not a resolver.
  static std::expected<SocketAddr, std::error_code> parse(std::string_view text);
  static SocketAddr ipv4_loopback(std::uint16_t port) noexcept;
  static SocketAddr from_native(const sockaddr* address, socklen_t size) noexcept;

  int family() const noexcept { return storage_.ss_family; }
  std::uint16_t port() const noexcept;
  std::string to_string() const;

  const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t native_size() const noexcept { return size_; }

  friend bool operator==(const SocketAddr& a, const SocketAddr& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t size_ = 0;
};

}  // namespace brigade::runtime::net
