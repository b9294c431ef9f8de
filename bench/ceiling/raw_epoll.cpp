// The harness's ceiling, not a peer: one thread, level-triggered epoll, no HTTP parsing. It
// counts the "\r\n\r\n" that end requests in what it reads and writes one canned 200 response
// per request, all of a read's answers in one write. Whatever a real server does costs more,
// so its requests/s is what one server core and one wrk core can reach on this machine.
//
//   g++ -O2 -std=c++20 bench/ceiling/raw_epoll.cpp -o raw_epoll   (bench/run build does it)
//   raw_epoll PORT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

constexpr std::string_view kEnd = "\r\n\r\n";

// The response, with a Date header rebuilt once a second as real servers do.
class CannedResponse {
 public:
  const std::string& text() {
    const std::time_t now = std::time(nullptr);
    if (now != built_at_) {
      char date[64];
      std::tm utc{};
      gmtime_r(&now, &utc);
      std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
      text_ = std::string("HTTP/1.1 200 OK\r\nServer: ceiling\r\nDate: ") + date +
              "\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
      built_at_ = now;
    }
    return text_;
  }

 private:
  std::string text_;
  std::time_t built_at_ = 0;
};

// How many request ends a connection's bytes hold; `matched` carries a partial "\r\n\r\n"
// across reads.
int count_ends(std::string_view bytes, std::size_t& matched) {
  int ends = 0;
  for (const char c : bytes) {
    if (c == kEnd[matched]) {
      if (++matched == kEnd.size()) {
        ++ends;
        matched = 0;
      }
    } else {
      matched = c == kEnd[0] ? 1 : 0;
    }
  }
  return ends;
}

int listen_on(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 4096) != 0) {
    std::perror("raw_epoll: bind/listen");
    std::exit(1);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: raw_epoll PORT\n");
    return 2;
  }
  const int listener = listen_on(std::atoi(argv[1]));
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{.events = EPOLLIN, .data = {.fd = listener}};
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);

  CannedResponse response;
  std::unordered_map<int, std::size_t> partial_end;  // per connection
  std::string out;
  char buffer[16384];
  epoll_event events[256];
  for (;;) {
    const int ready = ::epoll_wait(epoll, events, 256, -1);
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        for (int client;
             (client = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          const int on = 1;
          ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          epoll_event watch{.events = EPOLLIN, .data = {.fd = client}};
          ::epoll_ctl(epoll, EPOLL_CTL_ADD, client, &watch);
          partial_end[client] = 0;
        }
        continue;
      }
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) {
        if (n < 0 && errno == EAGAIN) continue;
        partial_end.erase(fd);
        ::close(fd);  // also leaves the epoll set
        continue;
      }
      const int requests = count_ends({buffer, static_cast<std::size_t>(n)}, partial_end[fd]);
      out.clear();
      for (int r = 0; r < requests; ++r) out += response.text();
      // Loopback with wrk's small answers: a short write does not happen in practice, and the
      // ceiling keeps no output queue.
      if (!out.empty() && ::write(fd, out.data(), out.size()) < 0) {
        partial_end.erase(fd);
        ::close(fd);
      }
    }
  }
}
