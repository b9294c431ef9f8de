#include "brigade/runtime/net/socket_addr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace brigade::runtime::net {
namespace {

std::expected<std::uint16_t, std::error_code> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty() || value > 65535) {
    return std::unexpected(std::make_error_code(std::errc::invalid_argument));
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

SocketAddr::SocketAddr() noexcept { std::memset(&storage_, 0, sizeof storage_); }

std::expected<SocketAddr, std::error_code> SocketAddr::parse(std::string_view text) {
  const auto invalid = std::unexpected(std::make_error_code(std::errc::invalid_argument));
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid;
  auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::unexpected(port.error());
  std::string host(text.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";

  SocketAddr address;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(*port);
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6.sin6_addr) != 1) {
      return invalid;
    }
    std::memcpy(&address.storage_, &v6, sizeof v6);
    address.size_ = sizeof v6;
    return address;
  }
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(*port);
  if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) != 1) return invalid;
  std::memcpy(&address.storage_, &v4, sizeof v4);
  address.size_ = sizeof v4;
  return address;
}

SocketAddr SocketAddr::ipv4_loopback(std::uint16_t port) noexcept {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return from_native(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
}

SocketAddr SocketAddr::from_native(const sockaddr* native, socklen_t size) noexcept {
  SocketAddr address;
  const auto bytes = std::min<std::size_t>(size, sizeof address.storage_);
  std::memcpy(&address.storage_, native, bytes);
  address.size_ = static_cast<socklen_t>(bytes);
  return address;
}

std::uint16_t SocketAddr::port() const noexcept {
  if (storage_.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (storage_.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

std::string SocketAddr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage_.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text,
                sizeof text);
    std::string out(text);
    out.append(":").append(std::to_string(port()));
    return out;
  }
  if (storage_.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
                sizeof text);
    std::string out("[");
    out.append(text).append("]:").append(std::to_string(port()));
    return out;
  }
  return "(unspecified)";
}

bool operator==(const SocketAddr& a, const SocketAddr& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

}  // namespace brigade::runtime::net
