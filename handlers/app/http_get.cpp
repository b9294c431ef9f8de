#include "http_get.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <optional>
#include <system_error>

namespace brigade::app {
namespace {

using runtime::net::SocketAddr;

// Short enough for a container HEALTHCHECK's own timeout (Docker's default: 30 s) to never be
// the one that fires, long enough for a busy server.
constexpr timeval kIoTimeout{.tv_sec = 3, .tv_usec = 0};
// A task dump of a very busy server is a few tens of MB; more than this is not an answer of ours.
constexpr std::size_t kMaxAnswer = std::size_t{256} << 20;

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

std::string errno_text() { return std::system_category().message(errno); }

std::optional<std::string> send_all(int fd, std::string_view data) {
  for (std::size_t sent = 0; sent < data.size();) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "send: " + errno_text();
    sent += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

// Appends what the peer sends to `into`: false at end of stream, the error on failure.
std::expected<bool, std::string> receive_some(int fd, std::string& into) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected("receive: " + errno_text());
    into.append(buffer, static_cast<std::size_t>(n));
    return n > 0;
  }
}

// "HTTP/1.1 200 OK": the status code, or nullopt.
std::optional<int> status_of(std::string_view head) {
  if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') return std::nullopt;
  int status = 0;
  const auto [end, error] = std::from_chars(head.data() + 9, head.data() + 12, status);
  if (error != std::errc() || end != head.data() + 12) return std::nullopt;
  return status;
}

// The Content-Length header's value, if the head has one.
std::optional<std::size_t> content_length(std::string_view head) {
  std::string lower(head);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
  constexpr std::string_view kName = "\r\ncontent-length:";
  const std::size_t at = lower.find(kName);
  if (at == std::string::npos) return std::nullopt;
  std::size_t begin = at + kName.size();
  while (begin < lower.size() && lower[begin] == ' ') ++begin;
  std::size_t length = 0;
  const auto [end, error] =
      std::from_chars(lower.data() + begin, lower.data() + lower.size(), length);
  if (error != std::errc()) return std::nullopt;
  return length;
}

}  // namespace

std::expected<HttpAnswer, std::string> http_get(const SocketAddr& address, std::string_view target,
                                                std::string_view user_agent) {
  const Socket socket(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) return std::unexpected("socket: " + errno_text());
  // On Linux SO_SNDTIMEO also bounds connect().
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_SNDTIMEO, &kIoTimeout, sizeof kIoTimeout);
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &kIoTimeout, sizeof kIoTimeout);
  if (::connect(socket.fd(), address.native(), address.native_size()) != 0) {
    return std::unexpected("connect to " + address.to_string() + ": " + errno_text());
  }

  std::string request = "GET ";
  request += target;
  request += " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ";
  request += user_agent;
  request += "\r\nConnection: close\r\n\r\n";
  if (auto failure = send_all(socket.fd(), request)) return std::unexpected(*failure);

  // The answer ends at Content-Length (every answer of ours has one) or at the end of stream.
  std::string answer;
  std::size_t head_end = std::string::npos;
  std::optional<std::size_t> expected_size;
  for (bool open = true; open && answer.size() < kMaxAnswer;) {
    if (expected_size && answer.size() >= *expected_size) break;
    const auto received = receive_some(socket.fd(), answer);
    if (!received) return std::unexpected(received.error());
    open = *received;
    if (head_end == std::string::npos &&
        (head_end = answer.find("\r\n\r\n")) != std::string::npos) {
      const auto length = content_length(std::string_view(answer).substr(0, head_end));
      if (length) expected_size = head_end + 4 + *length;
    }
  }

  const std::optional<int> status = status_of(answer);
  if (!status) return std::unexpected("no HTTP answer from " + address.to_string());
  if (head_end == std::string::npos) {
    return std::unexpected("incomplete HTTP answer from " + address.to_string());
  }
  if (expected_size && answer.size() < *expected_size) {
    return std::unexpected("answer from " + address.to_string() + " cut short");
  }
  return HttpAnswer{.status = *status, .body = answer.substr(head_end + 4)};
}

}  // namespace brigade::app
