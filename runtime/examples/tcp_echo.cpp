// Tokio's echo server tutorial in Brigade: one task per connection, each echoing what it reads.
// It prints how many connection tasks run as each client connects. On SIGINT or SIGTERM the
// server stops accepting, closes the connections still open and exits 0.
//
//   tcp_echo 127.0.0.1:6142        then, elsewhere: nc 127.0.0.1 6142
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <span>
#include <vector>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/signal.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;

namespace {

// One connection: the stream is moved into the task's frame, so the task owns it, and aborting
// the task closes it.
rt::Task<void> echo(net::TcpStream stream) {
  std::array<std::byte, 4096> buffer;
  for (;;) {
    auto received = co_await stream.read(buffer);
    if (!received || *received == 0) co_return;  // error, or the peer closed its side
    const std::span<const std::byte> data(buffer.data(), *received);
    if (!co_await stream.write_all(data)) co_return;
  }
}

// Drops the handles of connections that have finished, so the list does not grow for ever.
void forget_finished(std::vector<rt::JoinHandle<void>>& connections) {
  std::erase_if(connections, [](const rt::JoinHandle<void>& c) { return c.is_finished(); });
}

// Accepts until a signal arrives; returns its name. The listener is a parameter, so it is closed
// (no more connections are accepted) as soon as this returns.
rt::Task<const char*> accept_until_signal(net::TcpListener listener, rt::Signal& interrupt,
                                          rt::Signal& terminate,
                                          std::vector<rt::JoinHandle<void>>& connections) {
  std::size_t prune_at = 64;
  for (;;) {
    // The first to finish wins; the others are cancelled (a pending accept simply stops).
    auto next = co_await rt::select(listener.accept(), interrupt, terminate);
    if (next.index() == 1) co_return "SIGINT";
    if (next.index() == 2) co_return "SIGTERM";
    auto& accepted = std::get<0>(next);
    if (!accepted) {
      // accept() already retries the transient failures (descriptor exhaustion, aborted
      // handshakes): what reaches here is worth a line, not a crash.
      std::cerr << "tcp_echo: accept: " << accepted.error().message() << '\n';
      continue;
    }
    connections.push_back(rt::spawn(echo(std::move(accepted->first))));
    // One task per connection: as many live as there are clients connected.
    const auto open = std::ranges::count_if(
        connections, [](const rt::JoinHandle<void>& c) { return !c.is_finished(); });
    std::cout << "tcp_echo: " << accepted->second.to_string() << " connected, " << open
              << (open == 1 ? " connection task" : " connection tasks") << " running" << std::endl;
    if (connections.size() >= prune_at) {
      forget_finished(connections);
      prune_at = std::max<std::size_t>(64, 2 * connections.size());
    }
  }
}

rt::Task<int> serve(net::SocketAddr address) {
  // Listen before binding, so a signal sent once the address is printed is never missed.
  auto interrupt = rt::Signal::listen(rt::SignalKind::interrupt);
  auto terminate = rt::Signal::listen(rt::SignalKind::terminate);
  if (!interrupt || !terminate) {
    std::cerr << "tcp_echo: cannot listen for signals: "
              << (interrupt ? terminate.error() : interrupt.error()).message() << '\n';
    co_return 1;
  }
  auto listener = net::TcpListener::bind(address);
  if (!listener) {
    std::cerr << "tcp_echo: bind " << address.to_string() << ": " << listener.error().message()
              << '\n';
    co_return 1;
  }
  const auto bound = listener->local_addr();
  std::cout << "tcp_echo: listening on " << (bound ? bound->to_string() : address.to_string())
            << std::endl;

  std::vector<rt::JoinHandle<void>> connections;
  // Made apart from the co_await: GCC 12 can destroy a by-value coroutine argument twice when
  // the call sits inside the co_await expression.
  auto accepting = accept_until_signal(std::move(*listener), *interrupt, *terminate, connections);
  const char* reason = co_await std::move(accepting);

  // Abort every connection task still running: each is cancelled where it waits, and its
  // frame, with the stream in it, is destroyed. Awaiting the handles waits for that.
  for (const auto& connection : connections) connection.abort();
  std::size_t closed = 0;
  for (auto& connection : connections) {
    auto outcome = co_await connection;
    if (!outcome && outcome.error().is_cancelled()) ++closed;
  }
  std::cout << "tcp_echo: " << reason << " received: stopped accepting, closed " << closed
            << (closed == 1 ? " connection" : " connections") << std::endl;
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS:PORT\n", argv[0]);
    return 2;
  }
  auto address = net::SocketAddr::parse(argv[1]);
  if (!address) {
    std::fprintf(stderr, "tcp_echo: bad address '%s': %s\n", argv[1],
                 address.error().message().c_str());
    return 2;
  }
  auto runtime = rt::Builder::multi_thread().build();
  return runtime.block_on(serve(*address));
}
