// Async I/O vs sync I/O. 48 clients each wait 50 ms for a loopback server's answer. As tasks on
// async sockets, the waits overlap on two workers and no blocking thread is used. With blocking
// sockets each wait holds a blocking-pool thread (here at most 8), so the clients go through in
// rounds.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string_view>
#include <vector>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

namespace net = rt::net;

constexpr int kClients = 48;
constexpr std::string_view kAnswer = "pong";

// The server's side of one connection: think 50 ms, answer, close.
rt::Task<void> answer_later(net::TcpStream stream) {
  co_await rt::sleep(50ms);
  const auto bytes = std::as_bytes(std::span(kAnswer));
  static_cast<void>(co_await stream.write_all(bytes));
}

rt::Task<void> serve(net::TcpListener listener, int connections) {
  std::vector<rt::JoinHandle<void>> answers;
  for (int i = 0; i < connections; ++i) {
    auto accepted = co_await listener.accept();
    if (accepted) answers.push_back(rt::spawn(answer_later(std::move(accepted->first))));
  }
  for (auto& answer : answers) co_await answer;
}

rt::Task<bool> async_client(net::SocketAddr server) {
  auto stream = co_await net::TcpStream::connect(server);
  if (!stream) co_return false;
  std::array<std::byte, 16> buffer;
  auto received = co_await stream->read(buffer);
  co_return received&&* received == kAnswer.size();
}

// The same client with a blocking socket, as a synchronous library would do it.
bool sync_client(const net::SocketAddr& server) {
  const int fd = ::socket(server.family(), SOCK_STREAM, 0);
  if (fd < 0) return false;
  std::array<char, 16> buffer{};
  const bool ok =
      ::connect(fd, server.native(), server.native_size()) == 0 &&
      ::recv(fd, buffer.data(), buffer.size(), MSG_WAITALL) == static_cast<ssize_t>(kAnswer.size());
  ::close(fd);
  return ok;
}

rt::Task<void> run_clients(bool async, net::SocketAddr server) {
  const auto start = Clock::now();
  std::vector<rt::JoinHandle<bool>> clients;
  std::size_t most_blocking_threads = 0;
  for (int i = 0; i < kClients; ++i) {
    if (async) {
      clients.push_back(rt::spawn(async_client(server)));
    } else {
      clients.push_back(rt::spawn_blocking([server] { return sync_client(server); }));
    }
  }
  int answered = 0;
  for (auto& client : clients) {
    most_blocking_threads =
        std::max(most_blocking_threads, rt::Handle::current().metrics().blocking_threads);
    if (auto ok = co_await client; ok && *ok) ++answered;
  }
  std::printf("  %s: %d of %d answered after %.0f ms, blocking threads used: %zu\n",
              async ? "async sockets in tasks         " : "blocking sockets in spawn_blocking",
              answered, kClients, ms_since(start), most_blocking_threads);
}

rt::Task<void> run() {
  auto listener = net::TcpListener::bind(net::SocketAddr::ipv4_loopback(0));
  if (!listener) co_return;
  const auto address = listener->local_addr();
  auto server = rt::spawn(serve(std::move(*listener), 2 * kClients));
  co_await run_clients(true, *address);
  co_await run_clients(false, *address);
  co_await server;
}

}  // namespace

int async_vs_sync_io() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).max_blocking_threads(8).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
