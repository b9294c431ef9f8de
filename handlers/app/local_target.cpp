#include "local_target.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string_view>

namespace brigade::app {
namespace {

using runtime::net::SocketAddr;

// The listen address with a wildcard host replaced by loopback.
SocketAddr reachable(const SocketAddr& listen) {
  if (listen.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(listen.native());
    if (!IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) return listen;
    sockaddr_in6 loopback{};
    loopback.sin6_family = AF_INET6;
    loopback.sin6_port = htons(listen.port());
    loopback.sin6_addr = in6addr_loopback;
    return SocketAddr::from_native(reinterpret_cast<const sockaddr*>(&loopback), sizeof loopback);
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(listen.native());
  if (in4->sin_addr.s_addr != htonl(INADDR_ANY)) return listen;
  return SocketAddr::ipv4_loopback(listen.port());
}

}  // namespace

std::expected<SocketAddr, std::string> local_target(const config::Settings& settings) {
  if (!settings.admin_listen && settings.tls_cert) {
    return std::unexpected(
        "the main port speaks TLS and admin_listen is not set; set admin_listen");
  }
  const std::string_view key = settings.admin_listen ? "admin_listen" : "listen";
  const std::string& text = settings.admin_listen ? *settings.admin_listen : settings.listen;
  const auto listen = SocketAddr::parse(text);
  if (!listen) return std::unexpected(std::string(key) + ": cannot use \"" + text + "\"");
  if (listen->port() == 0) {
    return std::unexpected(std::string(key) + ": port 0; give the server's port with --" +
                           (settings.admin_listen ? "admin-listen" : "listen"));
  }
  return reachable(*listen);
}

}  // namespace brigade::app
