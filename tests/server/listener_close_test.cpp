// The kernel side of closing a listener without resets (listener_close.hpp), on raw loopback
// sockets. TCP_DEFER_ACCEPT holds a handshake open at will: the server drops the client's bare
// final ACK and completes the handshake only when the first data comes, while the client already
// counts itself connected.
#include "listener_close.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace brigade::server::detail {
namespace {

class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A listener on a free loopback port that completes a handshake only when data comes.
std::pair<Socket, std::uint16_t> deferring_listener() {
  Socket listener;
  sockaddr_in address = loopback(0);
  const int seconds = 30;
  EXPECT_EQ(::setsockopt(listener.fd(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds),
            0);
  EXPECT_EQ(::bind(listener.fd(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(listener.fd(), 16), 0);
  socklen_t length = sizeof address;
  EXPECT_EQ(::getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  return {std::move(listener), ntohs(address.sin_port)};
}

// Starts a connect without waiting: true once it has completed, false while under way.
bool connect_completes_within(const Socket& client, std::uint16_t port, int milliseconds) {
  ::fcntl(client.fd(), F_SETFL, O_NONBLOCK);
  const sockaddr_in address = loopback(port);
  if (::connect(client.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    return true;
  }
  EXPECT_EQ(errno, EINPROGRESS);
  pollfd event{.fd = client.fd(), .events = POLLOUT, .revents = 0};
  return ::poll(&event, 1, milliseconds) > 0;
}

bool readable_within(int fd, int milliseconds) {
  pollfd event{.fd = fd, .events = POLLIN, .revents = 0};
  return ::poll(&event, 1, milliseconds) > 0;
}

TEST(ListenerClose, HandshakesUnderWayAreCountedAndCompleteWhileNewOnesAreRefused) {
  auto [listener, port] = deferring_listener();
  EXPECT_EQ(handshakes_in_progress(listener.fd()), std::optional<std::size_t>(0));

  // The client has its SYN-ACK and is connected; the server holds the handshake.
  const Socket under_way;
  const sockaddr_in address = loopback(port);
  ASSERT_EQ(::connect(under_way.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address),
            0);
  EXPECT_EQ(handshakes_in_progress(listener.fd()), std::optional<std::size_t>(1));

  ASSERT_TRUE(refuse_new_handshakes(listener.fd()));
  // A new client's SYN is dropped: its connect stays under way (on loopback it would complete in
  // microseconds), and the server holds no handshake for it.
  const Socket refused;
  EXPECT_FALSE(connect_completes_within(refused, port, 300));
  EXPECT_EQ(handshakes_in_progress(listener.fd()), std::optional<std::size_t>(1));

  // The first client's request gets through the filter and completes its handshake.
  const std::string request = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::send(under_way.fd(), request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(readable_within(listener.fd(), 10'000));
  const Socket accepted(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_GE(accepted.fd(), 0);
  ASSERT_TRUE(readable_within(accepted.fd(), 10'000));
  std::string received(request.size(), '\0');
  EXPECT_EQ(::recv(accepted.fd(), received.data(), received.size(), 0),
            static_cast<ssize_t>(request.size()));
  EXPECT_EQ(received, request);
  EXPECT_EQ(handshakes_in_progress(listener.fd()), std::optional<std::size_t>(0));
  // Nothing else reached the queue.
  EXPECT_FALSE(readable_within(listener.fd(), 0));
}

TEST(ListenerClose, CountsOnlyTheListenersPort) {
  auto [first, first_port] = deferring_listener();
  const Socket second = deferring_listener().first;
  const Socket client;
  const sockaddr_in address = loopback(first_port);
  ASSERT_EQ(::connect(client.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(handshakes_in_progress(first.fd()), std::optional<std::size_t>(1));
  EXPECT_EQ(handshakes_in_progress(second.fd()), std::optional<std::size_t>(0));
}

TEST(ListenerClose, SaysNothingForWhatIsNotASocket) {
  EXPECT_EQ(handshakes_in_progress(-1), std::nullopt);
  EXPECT_FALSE(refuse_new_handshakes(-1));
}

}  // namespace
}  // namespace brigade::server::detail
