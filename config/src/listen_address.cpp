#include <arpa/inet.h>

#include <charconv>

#include "text_values.hpp"

namespace brigade::config::detail {
namespace {

constexpr std::string_view listen_hint = "e.g. 0.0.0.0:8080, [::1]:8080 or localhost:8080";

std::expected<void, std::string> check_port(std::string_view listen, std::string_view port) {
  unsigned value = 0;
  const auto [stop, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc{} || stop != port.data() + port.size() || value > 65535) {
    return std::unexpected(quote(listen) + " has no valid port: " + quote(port) +
                           " is not in 0..65535");
  }
  return {};
}

// inet_pton is the authority on literal syntax (it refuses "1.2.3", "01.2.3.4", "1::2::3").
bool is_address_literal(int family, std::string_view host) {
  const std::string terminated(host);
  unsigned char buffer[16];
  return inet_pton(family, terminated.c_str(), buffer) == 1;
}

}  // namespace

std::expected<void, std::string> check_listen_address(std::string_view text) {
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::unexpected(quote(text) + " is not [IPv6]:port; " + std::string(listen_hint));
    }
    if (!is_address_literal(AF_INET6, text.substr(1, close - 1))) {
      return std::unexpected(quote(text) + ": " + quote(text.substr(1, close - 1)) +
                             " is not an IPv6 address");
    }
    return check_port(text, text.substr(close + 2));
  }

  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return std::unexpected(quote(text) + " is not host:port; " + std::string(listen_hint));
  }
  const std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {
    return std::unexpected(quote(text) + ": an IPv6 address goes in brackets, e.g. [::1]:8080");
  }
  if (host.empty()) {
    return std::unexpected(quote(text) +
                           " has no host; use 0.0.0.0 to listen on every IPv4 interface");
  }
  if (host != "localhost" && !is_address_literal(AF_INET, host)) {
    return std::unexpected(quote(text) + ": host " + quote(host) +
                           " is not an IPv4 address, a bracketed IPv6 address or localhost");
  }
  return check_port(text, text.substr(colon + 1));
}

}  // namespace brigade::config::detail
