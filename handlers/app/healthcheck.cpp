#include "healthcheck.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>

#include "brigade/config/config.hpp"
#include "brigade/runtime/net/socket_addr.hpp"

namespace brigade::app {
namespace {

using runtime::net::SocketAddr;

// Short enough for a HEALTHCHECK's own timeout (Docker's default: 30 s) to never be the one
// that fires, long enough for a busy server.
constexpr timeval kIoTimeout{.tv_sec = 3, .tv_usec = 0};

class Socket {
 public:
  explicit Socket(int fd) noexcept : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// The address to probe: the listen address, with a wildcard host replaced by loopback.
SocketAddr probe_address(const SocketAddr& listen) {
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

int fail(std::string_view what) {
  std::cerr << "healthcheck: " << what << '\n';
  return 1;
}

std::string errno_text() { return std::system_category().message(errno); }

// Sends the request and returns the status code of the answer, or nullopt (errno set).
std::optional<int> get_status(const SocketAddr& address, std::string& failure) {
  const Socket socket(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) {
    failure = "socket: " + errno_text();
    return std::nullopt;
  }
  // On Linux SO_SNDTIMEO also bounds connect().
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_SNDTIMEO, &kIoTimeout, sizeof kIoTimeout);
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &kIoTimeout, sizeof kIoTimeout);
  if (::connect(socket.fd(), address.native(), address.native_size()) != 0) {
    failure = "connect to " + address.to_string() + ": " + errno_text();
    return std::nullopt;
  }

  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: localhost\r\nUser-Agent: brigade-healthcheck\r\n"
      "Connection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n =
        ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failure = "send: " + errno_text();
      return std::nullopt;
    }
    sent += static_cast<std::size_t>(n);
  }

  // Only the status line matters: "HTTP/1.1 200 OK\r\n".
  std::string head;
  char buffer[512];
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failure = "receive: " + errno_text();
      return std::nullopt;
    }
    if (n == 0) break;
    head.append(buffer, static_cast<std::size_t>(n));
  }
  if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') {
    failure = "no HTTP answer from " + address.to_string();
    return std::nullopt;
  }
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') {
      failure = "malformed status line from " + address.to_string();
      return std::nullopt;
    }
    status = status * 10 + (head[i] - '0');
  }
  return status;
}

}  // namespace

int healthcheck(std::span<const std::string_view> args) {
  const auto loaded = config::load(args, config::process_environment());
  if (!loaded) {
    std::cerr << config::to_string(loaded.error()) << '\n';
    return config::config_error_exit_code;
  }
  if (loaded->action == config::Action::help) {
    std::cout
        << "usage: brigade healthcheck [--config FILE] [settings...]\n"
           "GET /healthz on admin_listen (else listen) of the same settings as the server\n"
           "(--config or BRIGADE_CONFIG, the environment, flags); exit 0 on 200, 1 otherwise.\n";
    return 0;
  }

  // The admin port when there is one: plain HTTP whatever the main port speaks, and outside
  // max_connections, so an overloaded server still answers.
  const config::Settings& settings = loaded->settings;
  if (!settings.admin_listen && settings.tls_cert) {
    return fail("the main port speaks TLS and admin_listen is not set; set admin_listen");
  }
  const std::string_view key = settings.admin_listen ? "admin_listen" : "listen";
  const std::string& text = settings.admin_listen ? *settings.admin_listen : settings.listen;
  const auto listen = SocketAddr::parse(text);
  if (!listen) return fail(std::string(key) + ": cannot use \"" + text + "\"");
  if (listen->port() == 0) {
    return fail(std::string(key) + ": port 0; give the server's port with --" +
                (settings.admin_listen ? "admin-listen" : "listen"));
  }

  const SocketAddr address = probe_address(*listen);
  std::string failure;
  const std::optional<int> status = get_status(address, failure);
  if (!status) return fail(failure);
  if (*status != 200) {
    return fail("GET /healthz on " + address.to_string() + " answered " + std::to_string(*status));
  }
  return 0;
}

}  // namespace brigade::app
