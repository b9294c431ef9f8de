#include "listener_close.hpp"

#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace brigade::server::detail {
namespace {

// The socket filter sees a segment from its TCP header on: byte 13 holds the flags.
constexpr std::uint32_t kTcpFlagsOffset = 13;
constexpr std::uint32_t kSyn = 0x02;
constexpr std::uint32_t kAck = 0x10;

class NetlinkSocket {
 public:
  NetlinkSocket() noexcept
      : fd_(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// The listener's family and port (network byte order).
std::optional<std::pair<sa_family_t, std::uint16_t>> local_port(int listener) noexcept {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(listener, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    return std::nullopt;
  }
  if (local.ss_family == AF_INET) {
    return std::pair{local.ss_family, reinterpret_cast<const sockaddr_in&>(local).sin_port};
  }
  if (local.ss_family == AF_INET6) {
    return std::pair{local.ss_family, reinterpret_cast<const sockaddr_in6&>(local).sin6_port};
  }
  return std::nullopt;
}

}  // namespace

bool refuse_new_handshakes(int listener) noexcept {
  std::array<sock_filter, 5> program{{
      {.code = BPF_LD | BPF_B | BPF_ABS, .jt = 0, .jf = 0, .k = kTcpFlagsOffset},
      {.code = BPF_ALU | BPF_AND | BPF_K, .jt = 0, .jf = 0, .k = kSyn | kAck},
      // SYN without ACK goes on to the drop; every other segment skips to the accept.
      {.code = BPF_JMP | BPF_JEQ | BPF_K, .jt = 0, .jf = 1, .k = kSyn},
      {.code = BPF_RET | BPF_K, .jt = 0, .jf = 0, .k = 0},
      {.code = BPF_RET | BPF_K, .jt = 0, .jf = 0, .k = 0xffff'ffff},
  }};
  const sock_fprog filter{.len = program.size(), .filter = program.data()};
  return ::setsockopt(listener, SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof filter) == 0;
}

std::optional<std::size_t> handshakes_in_progress(int listener) noexcept {
  const auto address = local_port(listener);
  if (!address) return std::nullopt;
  const NetlinkSocket netlink;
  if (netlink.fd() < 0) return std::nullopt;

  struct {
    nlmsghdr header;
    inet_diag_req_v2 body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.body.sdiag_family = static_cast<std::uint8_t>(address->first);
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.idiag_states = 1U << TCP_SYN_RECV;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(netlink.fd(), &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof request)) {
    return std::nullopt;
  }

  // The dump comes in datagrams of several messages each, until NLMSG_DONE.
  alignas(nlmsghdr) std::array<char, 16384> buffer;
  std::size_t count = 0;
  for (;;) {
    const ssize_t received = ::recv(netlink.fd(), buffer.data(), buffer.size(), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received <= 0) return std::nullopt;
    const auto size = static_cast<std::size_t>(received);
    for (std::size_t offset = 0; offset + sizeof(nlmsghdr) <= size;) {
      nlmsghdr header;
      std::memcpy(&header, buffer.data() + offset, sizeof header);
      if (header.nlmsg_len < sizeof header || offset + header.nlmsg_len > size) {
        return std::nullopt;
      }
      if (header.nlmsg_type == NLMSG_DONE) return count;
      if (header.nlmsg_type == NLMSG_ERROR) return std::nullopt;
      if (header.nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
        inet_diag_msg socket;
        std::memcpy(&socket, buffer.data() + offset + NLMSG_HDRLEN, sizeof socket);
        if (socket.id.idiag_sport == address->second) ++count;
      }
      offset += NLMSG_ALIGN(header.nlmsg_len);
    }
  }
}

}  // namespace brigade::server::detail
