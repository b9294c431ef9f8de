// Several waiters on one resource, over real loopback sockets: acceptors sharing a listener,
// readable()/writable() awaited by several tasks, a read and a readable() in one join, and a
// JoinHandle borrowed by a select and awaited again. A lost waiter would hang, so every wait here
// is bounded by a timeout that turns a hang into a failure.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "brigade/runtime/detail/testing.hpp"
#include "brigade/runtime/join.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/mpsc.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/sync/watch.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"
#include "result_helpers.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;
using net::SocketAddr;
using net::TcpListener;
using net::TcpStream;
using namespace std::chrono_literals;
using brigade::testing::joined;
using brigade::testing::must;
using brigade::testing::unless_hung;

namespace {

// Long enough for a loaded machine running sanitizers; only ever reached when a waiter is lost.
constexpr auto kHang = 20s;

rt::Runtime two_workers() { return rt::Builder::multi_thread().worker_threads(2).build(); }

struct Pair {
  TcpStream client;
  TcpStream server;
};

rt::Task<Pair> connected_pair() {
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  const auto address = must(listener.local_addr(), "local_addr");
  auto client = must(co_await TcpStream::connect(address), "connect");
  auto accepted = must(co_await listener.accept(), "accept");
  co_return Pair{std::move(client), std::move(accepted.first)};
}

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// Until `count` tasks wait on the socket (as `waiting` counts them): each found it not ready.
rt::Task<void> until_waiting(rt::detail::IoRegistration& io, std::size_t count,
                             std::size_t (*waiting)(rt::detail::IoRegistration&) noexcept) {
  while (waiting(io) < count) co_await rt::yield_now();
}

// ---- acceptors sharing one listener ------------------------------------------------------------

rt::Task<bool> accept_once(TcpListener* listener) {
  auto accepted = co_await listener->accept();
  co_return accepted.has_value();
}

// The symptom this fixes: four tasks in accept(), four connections; one was served, three hung.
rt::Task<std::size_t> four_acceptors_four_connections() {
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  const auto address = must(listener.local_addr(), "local_addr");
  std::vector<rt::JoinHandle<bool>> acceptors;
  for (int i = 0; i < 4; ++i) acceptors.push_back(rt::spawn(accept_once(&listener)));
  // All four wait before the first connection arrives: a lost waiter then shows at once.
  co_await until_waiting(rt::detail::SocketInternals::registration(listener), 4,
                         rt::detail::waiting_readers);
  std::vector<TcpStream> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(must(co_await TcpStream::connect(address), "c"));
  std::size_t accepted = 0;
  for (auto& acceptor : acceptors) {
    auto outcome = unless_hung(co_await rt::timeout(kHang, std::move(acceptor)), "acceptor");
    if (outcome && *outcome) ++accepted;
  }
  co_return accepted;
}

TEST(Waiters, EveryAcceptorWaitingOnOneListenerGetsAConnection) {
  auto runtime = two_workers();
  EXPECT_EQ(runtime.block_on(four_acceptors_four_connections()), 4u);
}

// Tokio's "N acceptors" loop: accept until shutdown, reporting each connection.
rt::Task<std::size_t> accept_until_shutdown(TcpListener* listener, rt::watch::Receiver<bool> stop,
                                            rt::mpsc::Sender<int> accepted) {
  std::size_t mine = 0;
  for (;;) {
    auto next = co_await rt::select(listener->accept(), stop.changed());
    if (next.index() == 1) co_return mine;
    must(std::get<0>(std::move(next)), "accept");
    ++mine;
    if (!co_await accepted.send(1)) throw std::runtime_error("nobody counts connections");
  }
}

struct AcceptorsOutcome {
  std::size_t reported = 0;
  std::vector<std::size_t> per_acceptor;
};

rt::Task<AcceptorsOutcome> acceptors_share_thousand_connections() {
  constexpr std::size_t kConnections = 1000;
  constexpr int kAcceptors = 4;
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  const auto address = must(listener.local_addr(), "local_addr");
  auto [stop_tx, stop_rx] = rt::watch::channel(false);
  auto [accepted_tx, accepted_rx] = rt::mpsc::channel<int>(kConnections);
  std::vector<rt::JoinHandle<std::size_t>> acceptors;
  for (int i = 0; i < kAcceptors; ++i) {
    acceptors.push_back(rt::spawn(accept_until_shutdown(&listener, stop_rx, accepted_tx)));
  }
  AcceptorsOutcome out;
  // Connections are dropped by the client right after connecting: accept() takes them anyway.
  for (std::size_t i = 0; i < kConnections; ++i) {
    must(co_await TcpStream::connect(address), "connect");
  }
  while (out.reported < kConnections) {
    unless_hung(co_await rt::timeout(kHang, accepted_rx.recv()), "connection not accepted");
    ++out.reported;
  }
  if (!stop_tx.send(true)) throw std::runtime_error("every acceptor is gone");
  for (auto& acceptor : acceptors) {
    auto acceptor_outcome =
        unless_hung(co_await rt::timeout(kHang, std::move(acceptor)), "acceptor at shutdown");
    out.per_acceptor.push_back(joined(std::move(acceptor_outcome), "acceptor"));
  }
  co_return out;
}

TEST(Waiters, AcceptorsSharingAListenerAcceptEveryConnectionAndStopAtShutdown) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(acceptors_share_thousand_connections());
  EXPECT_EQ(out.reported, 1000u);
  ASSERT_EQ(out.per_acceptor.size(), 4u);
  std::size_t total = 0;
  for (const std::size_t n : out.per_acceptor) total += n;
  EXPECT_EQ(total, 1000u);
}

// ---- several tasks on one stream's readiness --------------------------------------------------

rt::Task<bool> wait_readable(TcpStream* stream) {
  co_return (co_await stream->readable()).has_value();
}

rt::Task<std::size_t> three_tasks_await_readable() {
  auto pair = co_await connected_pair();
  std::vector<rt::JoinHandle<bool>> waiters;
  for (int i = 0; i < 3; ++i) waiters.push_back(rt::spawn(wait_readable(&pair.client)));
  // All three wait before the data arrives: a lost waiter then shows at once.
  co_await until_waiting(rt::detail::SocketInternals::registration(pair.client), 3,
                         rt::detail::waiting_readers);
  must(co_await pair.server.write(as_bytes("x")), "write");
  std::size_t woken = 0;
  for (auto& waiter : waiters) {
    auto outcome = unless_hung(co_await rt::timeout(kHang, std::move(waiter)), "readable");
    if (outcome && *outcome) ++woken;
  }
  co_return woken;
}

TEST(Waiters, ReadableAwaitedBySeveralTasksWakesThemAll) {
  auto runtime = two_workers();
  EXPECT_EQ(runtime.block_on(three_tasks_await_readable()), 3u);
}

rt::Task<bool> wait_writable(TcpStream* stream) {
  co_return (co_await stream->writable()).has_value();
}

rt::Task<void> read_to_end(TcpStream* stream) {
  std::vector<std::byte> sink(1 << 16);
  while (must(co_await stream->read(sink), "read") != 0) {
  }
}

rt::Task<std::size_t> three_tasks_await_writable() {
  auto pair = co_await connected_pair();
  // Fill the client's send buffer (and the server's receive buffer) until a write would block.
  std::vector<std::byte> chunk(65536);
  for (;;) {
    auto sent = pair.client.try_write(chunk);
    if (!sent && sent.error() == std::errc::operation_would_block) break;
    must(std::move(sent), "try_write");
  }
  std::vector<rt::JoinHandle<bool>> waiters;
  for (int i = 0; i < 3; ++i) waiters.push_back(rt::spawn(wait_writable(&pair.client)));
  // All three wait before the buffer drains: a lost waiter then shows at once.
  co_await until_waiting(rt::detail::SocketInternals::registration(pair.client), 3,
                         rt::detail::waiting_writers);
  // The server reads everything: the client's buffer empties and it turns writable.
  auto drainer = rt::spawn(read_to_end(&pair.server));
  std::size_t woken = 0;
  for (auto& waiter : waiters) {
    auto outcome = unless_hung(co_await rt::timeout(kHang, std::move(waiter)), "writable");
    if (outcome && *outcome) ++woken;
  }
  must(pair.client.shutdown(TcpStream::Shutdown::write), "shutdown");
  joined(co_await drainer, "drainer");
  co_return woken;
}

TEST(Waiters, WritableAwaitedBySeveralTasksWakesThemAll) {
  auto runtime = two_workers();
  EXPECT_EQ(runtime.block_on(three_tasks_await_writable()), 3u);
}

struct ReadAndReadable {
  std::size_t read = 0;
  bool readable = false;
};

rt::Task<ReadAndReadable> read_joined_with_readable() {
  auto pair = co_await connected_pair();
  std::array<std::byte, 16> buffer;
  // The data comes once both the read and readable() wait for it (two waiters on the stream).
  auto sender = [](TcpStream* server, rt::detail::IoRegistration* client) -> rt::Task<void> {
    co_await until_waiting(*client, 2, rt::detail::waiting_readers);
    must(co_await server->write(as_bytes("abc")), "write");
    must(server->shutdown(TcpStream::Shutdown::write), "shutdown");
  };
  auto send =
      rt::spawn(sender(&pair.server, &rt::detail::SocketInternals::registration(pair.client)));
  auto [read, readable] = unless_hung(
      co_await rt::timeout(kHang, rt::join(pair.client.read(buffer), pair.client.readable())),
      "join(read, readable)");
  static_cast<void>(co_await send);
  co_return ReadAndReadable{must(std::move(read), "read"), readable.has_value()};
}

TEST(Waiters, ReadAndReadableInOneJoinBothComplete) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(read_joined_with_readable());
  EXPECT_EQ(out.read, 3u);
  EXPECT_TRUE(out.readable);
}

// ---- JoinHandle: borrowed until it completes, then empty ---------------------------------------

rt::Task<int> slow_value() {
  co_await rt::sleep(50ms);
  co_return 7;
}

rt::Task<int> value_when_told(rt::oneshot::Receiver<int> told) {
  co_return (co_await told).value();
}

rt::Task<int> handle_outlives_a_lost_select() {
  auto [tell, told] = rt::oneshot::channel<int>();
  auto handle = rt::spawn(value_when_told(std::move(told)));
  // The task cannot finish before it is told: the sleep wins whatever the timing.
  auto first = co_await rt::select(handle, rt::sleep(1ms));
  if (first.index() != 1) throw std::logic_error("the sleep should have won");
  static_cast<void>(tell.send(7));
  auto value = co_await handle;  // the select only borrowed it
  if (handle.id() != 0) throw std::logic_error("an awaited handle should be empty");
  co_return joined(std::move(value), "join");
}

TEST(JoinHandleAwait, ABorrowedHandleCanBeAwaitedAgainUntilItCompletes) {
  auto runtime = two_workers();
  EXPECT_EQ(runtime.block_on(handle_outlives_a_lost_select()), 7);
}

rt::Task<void> await_twice() {
  auto handle = rt::spawn(slow_value());
  static_cast<void>(co_await handle);
  static_cast<void>(co_await handle);
}

TEST(JoinHandleAwaitDeathTest, AwaitingAfterCompletionTerminatesWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(two_workers().block_on(await_twice()),
               "a JoinHandle was awaited after it completed or was moved from");
}

rt::Task<void> await_from_two_branches() {
  auto handle = rt::spawn(slow_value());
  static_cast<void>(co_await rt::join(handle, handle));
}

TEST(JoinHandleAwaitDeathTest, AwaitingFromTwoPlacesAtOnceTerminatesWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(two_workers().block_on(await_from_two_branches()),
               "a JoinHandle was awaited from two places at once");
}

}  // namespace
