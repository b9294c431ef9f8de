// TCP on the runtime, over real loopback sockets: many concurrent echo clients with partial reads
// and writes, peer close and reset, half-close, read timeouts, abort of tasks blocked in I/O
// (no registration or descriptor left behind), connection refused, SocketAddr parsing, a
// request/response ping-pong, writev, and readable() with try_read/try_write. Only lower bounds
// on time are asserted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "brigade/runtime/detail/testing.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/runtime/timeout.hpp"
#include "result_helpers.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;
using net::SocketAddr;
using net::TcpListener;
using net::TcpStream;
using namespace std::chrono_literals;
using brigade::testing::must;

namespace {

// ---- helpers ---------------------------------------------------------------------------------

std::size_t open_descriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

std::size_t io_registered() { return rt::Handle::current().metrics().io_registered; }

bool is_peer_gone(const std::error_code& error) {
  return error == std::errc::broken_pipe || error == std::errc::connection_reset;
}

// A byte sequence without short periods, so that lost, repeated or reordered chunks show.
std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    std::uint32_t x = static_cast<std::uint32_t>(i) * 0x9E3779B1u + seed * 0x85EBCA6Bu;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    bytes[i] = static_cast<std::byte>(x);
  }
  return bytes;
}

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string as_string(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A small send buffer makes writes come back partial early. (The receive buffer is left alone:
// a tiny receive window stalls loopback TCP on delayed acknowledgements.)
void set_send_buffer(int fd, int bytes) {
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes), 0);
}

struct Pair {
  TcpStream client;
  TcpStream server;
};

// A connected pair over loopback; the listener is closed again before this returns.
rt::Task<Pair> connected_pair() {
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  const auto address = must(listener.local_addr(), "local_addr");
  auto client = must(co_await TcpStream::connect(address), "connect");
  auto accepted = must(co_await listener.accept(), "accept");
  co_return Pair{std::move(client), std::move(accepted.first)};
}

// What a test waits for before acting on a task that must be blocked on a socket: the task found
// it not ready and waits on the driver (so no sleep "until it most likely is").
rt::Task<void> until_reader_waits(rt::detail::IoRegistration& io) {
  while (rt::detail::waiting_readers(io) == 0) co_await rt::yield_now();
}

// For a writer, waiting means its data did not fit: the socket buffers are full.
rt::Task<void> until_writer_waits(rt::detail::IoRegistration& io) {
  while (rt::detail::waiting_writers(io) == 0) co_await rt::yield_now();
}

rt::detail::IoRegistration& registration(const TcpStream& stream) {
  return rt::detail::SocketInternals::registration(stream);
}

// Reads until end of stream.
rt::Task<std::vector<std::byte>> read_to_end(TcpStream* stream) {
  std::vector<std::byte> all;
  std::array<std::byte, 16384> buffer;
  for (;;) {
    const auto n = must(co_await stream->read(buffer), "read");
    if (n == 0) co_return all;
    all.insert(all.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

struct SetOnDestroy {
  std::atomic<bool>* flag;
  ~SetOnDestroy() { flag->store(true); }
};

enum class Flavor { multi_thread, current_thread };

rt::Runtime make_runtime(Flavor flavor) {
  return flavor == Flavor::multi_thread ? rt::Builder::multi_thread().worker_threads(2).build()
                                        : rt::Builder::current_thread().build();
}

std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return info.param == Flavor::multi_thread ? "MultiThread" : "CurrentThread";
}

rt::Runtime two_workers() { return rt::Builder::multi_thread().worker_threads(2).build(); }

// ---- many concurrent echo clients ----------------------------------------------------------

// Sizes from 1 byte to a few MB. The big ones are larger than any socket buffer here, so
// writes come back partial and reads see the stream in pieces.
std::size_t message_size(std::size_t client) {
  if (client % 40 == 0) return (3u << 20) + client;         // 3 MB and a bit
  if (client % 10 == 5) return (256u << 10) + client * 13;  // ~256 KB
  return 1 + (client * client * 37) % 20000;                // 1 byte .. 20 KB
}

constexpr std::array<std::size_t, 5> kWriteChunks = {1, 7, 4096, 65536, 1u << 20};
constexpr std::array<std::size_t, 4> kReadBuffers = {100, 4096, 65536, 1u << 20};
constexpr std::array<std::size_t, 3> kEchoBuffers = {512, 4096, 65536};

rt::Task<std::size_t> echo_connection(TcpStream stream, std::size_t buffer_size) {
  std::vector<std::byte> buffer(buffer_size);
  std::size_t total = 0;
  for (;;) {
    const auto n = must(co_await stream.read(buffer), "server read");
    if (n == 0) co_return total;  // the client shut down its side: closing ours ends its read
    must(co_await stream.write_all(std::span(buffer.data(), n)), "server write_all");
    total += n;
  }
}

rt::Task<std::size_t> echo_server(TcpListener listener, std::size_t connections) {
  std::vector<rt::JoinHandle<std::size_t>> handles;
  for (std::size_t i = 0; i < connections; ++i) {
    auto accepted = must(co_await listener.accept(), "accept");
    handles.push_back(rt::spawn(
        echo_connection(std::move(accepted.first), kEchoBuffers[i % kEchoBuffers.size()])));
  }
  std::size_t total = 0;
  for (auto& handle : handles) {
    auto echoed = co_await handle;
    if (!echoed) throw std::runtime_error("echo connection: " + echoed.error().message());
    total += *echoed;
  }
  co_return total;
}

struct WriterResult {
  std::size_t writes = 0;
  std::size_t partial_writes = 0;  // write() took fewer bytes than offered
};

// Writes `data` in chunks of varying size with write() (not write_all), then shuts down the
// write side. Runs as a task of its own, concurrently with the client's reader.
rt::Task<WriterResult> write_in_chunks(TcpStream* stream,
                                       std::shared_ptr<const std::vector<std::byte>> data,
                                       std::size_t first_chunk) {
  WriterResult result;
  std::size_t offset = 0;
  for (std::size_t k = first_chunk; offset < data->size(); ++k) {
    const std::size_t want = std::min(data->size() - offset, kWriteChunks[k % kWriteChunks.size()]);
    const auto sent =
        must(co_await stream->write(std::span(data->data() + offset, want)), "client write");
    if (sent == 0 || sent > want) throw std::runtime_error("write returned a bad count");
    ++result.writes;
    if (sent < want) ++result.partial_writes;
    offset += sent;
  }
  must(stream->shutdown(TcpStream::Shutdown::write), "shutdown(write)");
  co_return result;
}

struct ClientResult {
  std::size_t size = 0;
  std::size_t received = 0;
  bool matches = true;
  std::string error;
  WriterResult writer;
};

rt::Task<ClientResult> echo_client(SocketAddr address, std::size_t client) {
  ClientResult result;
  result.size = message_size(client);
  auto stream = must(co_await TcpStream::connect(address), "connect");
  // Small buffers on a third of the clients: even modest messages then move in many pieces.
  if (client % 3 == 0) set_send_buffer(stream.native_handle(), 8192);
  auto data = std::make_shared<const std::vector<std::byte>>(
      pattern(result.size, static_cast<std::uint32_t>(client)));
  auto writer = rt::spawn(write_in_chunks(&stream, data, client));

  // No early exit before the writer is joined: it uses `stream`.
  // (At least 4 KB for the big messages, so that the test stays quick under the sanitizers.)
  std::vector<std::byte> buffer(std::max<std::size_t>(kReadBuffers[client % kReadBuffers.size()],
                                                      result.size > 100000 ? 4096 : 0));
  for (;;) {
    auto n = co_await stream.read(buffer);
    if (!n) {
      result.error = "read: " + n.error().message();
      break;
    }
    if (*n == 0) break;
    if (result.received + *n > result.size ||
        std::memcmp(buffer.data(), data->data() + result.received, *n) != 0) {
      result.matches = false;
    }
    result.received += *n;
  }
  auto written = co_await writer;
  if (written) {
    result.writer = *written;
  } else if (result.error.empty()) {
    result.error = "writer: " + written.error().message();
  }
  co_return result;
}

struct EchoOutcome {
  std::vector<ClientResult> clients;
  std::size_t echoed = 0;
  std::uint64_t io_events = 0;
};

rt::Task<EchoOutcome> run_echo(std::size_t clients) {
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  const auto address = must(listener.local_addr(), "local_addr");
  auto server = rt::spawn(echo_server(std::move(listener), clients));
  std::vector<rt::JoinHandle<ClientResult>> handles;
  for (std::size_t i = 0; i < clients; ++i) handles.push_back(rt::spawn(echo_client(address, i)));
  EchoOutcome outcome;
  for (auto& handle : handles) {
    auto result = co_await handle;
    if (!result) throw std::runtime_error("client task: " + result.error().message());
    outcome.clients.push_back(std::move(*result));
  }
  auto echoed = co_await server;
  if (!echoed) throw std::runtime_error("server task: " + echoed.error().message());
  outcome.echoed = *echoed;
  outcome.io_events = rt::Handle::current().metrics().io_events;
  co_return outcome;
}

class NetFlavorTest : public ::testing::TestWithParam<Flavor> {
 protected:
  rt::Runtime runtime_ = make_runtime(GetParam());
};

TEST_P(NetFlavorTest, ManyConcurrentEchoClientsGetEveryByteBack) {
  constexpr std::size_t kClients = 200;
  const auto outcome = runtime_.block_on(run_echo(kClients));
  ASSERT_EQ(outcome.clients.size(), kClients);
  std::size_t total = 0;
  std::size_t partial_writes = 0;
  for (std::size_t i = 0; i < kClients; ++i) {
    const auto& client = outcome.clients[i];
    EXPECT_EQ(client.error, "") << "client " << i;
    EXPECT_TRUE(client.matches) << "client " << i << " got different bytes back";
    EXPECT_EQ(client.received, client.size) << "client " << i;
    total += client.size;
    partial_writes += client.writer.partial_writes;
  }
  EXPECT_EQ(outcome.echoed, total);
  // The scenario really exercised partial writes, and the driver really saw readiness events.
  EXPECT_GT(partial_writes, 0u);
  EXPECT_GT(outcome.io_events, 0u);
}

// ---- request/response ping-pong --------------------------------------------------------------

rt::Task<std::uint64_t> pong(TcpStream stream) {
  std::uint64_t answered = 0;
  for (;;) {
    std::uint64_t value = 0;
    auto got = co_await stream.read_exact(std::as_writable_bytes(std::span(&value, 1)));
    if (!got && got.error() == net::unexpected_eof()) co_return answered;  // client done
    must(got, "pong read_exact");
    ++value;
    must(co_await stream.write_all(std::as_bytes(std::span(&value, 1))), "pong write_all");
    ++answered;
  }
}

rt::Task<std::uint64_t> ping(TcpStream stream, std::uint64_t rounds) {
  std::uint64_t correct = 0;
  for (std::uint64_t i = 0; i < rounds; ++i) {
    std::uint64_t value = i * 3;
    must(co_await stream.write_all(std::as_bytes(std::span(&value, 1))), "ping write_all");
    must(co_await stream.read_exact(std::as_writable_bytes(std::span(&value, 1))),
         "ping read_exact");
    if (value == i * 3 + 1) ++correct;
  }
  co_return correct;
}

struct PingPongOutcome {
  std::uint64_t correct = 0;
  std::uint64_t answered = 0;
  int client_nodelay = 0;
};

rt::Task<PingPongOutcome> run_ping_pong(std::uint64_t rounds) {
  auto pair = co_await connected_pair();
  must(pair.client.set_nodelay(true), "set_nodelay");
  must(pair.server.set_nodelay(true), "set_nodelay");
  PingPongOutcome outcome;
  socklen_t size = sizeof outcome.client_nodelay;
  ::getsockopt(pair.client.native_handle(), IPPROTO_TCP, TCP_NODELAY, &outcome.client_nodelay,
               &size);
  auto server = rt::spawn(pong(std::move(pair.server)));
  auto client = rt::spawn(ping(std::move(pair.client), rounds));
  outcome.correct = (co_await client).value();
  outcome.answered = (co_await server).value();
  co_return outcome;
}

TEST_P(NetFlavorTest, PingPongThousandsOfRoundTripsOverOneConnection) {
  constexpr std::uint64_t kRounds = 3000;
  const auto outcome = runtime_.block_on(run_ping_pong(kRounds));
  EXPECT_EQ(outcome.correct, kRounds);
  EXPECT_EQ(outcome.answered, kRounds);
  EXPECT_NE(outcome.client_nodelay, 0);
}

INSTANTIATE_TEST_SUITE_P(Flavors, NetFlavorTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

// ---- addresses -------------------------------------------------------------------------------

// --- the order ready connections are served in -------------------------------------------------

rt::Task<void> record_arrival(TcpStream stream, std::size_t index,
                              std::vector<std::size_t>* order) {
  std::array<std::byte, 1> byte;
  must(co_await stream.read(byte), "read");
  order->push_back(index);
}

// `count` connections, each with a reader waiting on it; then one byte to each, in order, while
// the worker is busy sending them, so that they all become ready before any is served.
struct BurstOutcome {
  std::vector<std::size_t> order;
  std::uint64_t overflows = 0;  // of the worker's local queue while the burst was served
};

std::uint64_t overflows_so_far() { return rt::Handle::current().metrics().worker.at(0).overflows; }

rt::Task<BurstOutcome> serve_ready_burst(std::size_t count) {
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < count; ++i) pairs.push_back(co_await connected_pair());
  BurstOutcome out;
  std::vector<rt::JoinHandle<void>> readers;
  for (std::size_t i = 0; i < count; ++i) {
    rt::detail::IoRegistration& io = registration(pairs[i].server);
    readers.push_back(rt::spawn(record_arrival(std::move(pairs[i].server), i, &out.order)));
    co_await until_reader_waits(io);
  }
  const std::uint64_t overflows_before = overflows_so_far();
  for (const Pair& pair : pairs) {
    const std::byte byte{1};
    EXPECT_EQ(::send(pair.client.native_handle(), &byte, 1, MSG_NOSIGNAL), 1);
  }
  for (auto& reader : readers) EXPECT_TRUE((co_await std::move(reader)).has_value());
  out.overflows = overflows_so_far() - overflows_before;
  co_return out;
}

// More connections become ready at once than a worker's queue holds (256), so the worker takes
// them in several turns of its driver: it serves them in the order they became ready. What did
// not fit its queue stayed ready in the kernel, in order, rather than going to the injection
// queue, from where it would have run after connections that became ready later.
TEST(Tcp, ABurstOfReadyConnectionsIsServedInTheOrderItBecameReady) {
  constexpr std::size_t kConnections = 400;
  auto runtime = rt::Builder::multi_thread().worker_threads(1).stall_threshold(0ms).build();
  const BurstOutcome out = runtime.block_on(serve_ready_burst(kConnections));
  EXPECT_EQ(out.overflows, 0u) << "the burst overflowed the worker's queue";
  const std::vector<std::size_t>& order = out.order;
  ASSERT_EQ(order.size(), kConnections);
  for (std::size_t i = 1; i < kConnections; ++i) {
    ASSERT_LT(order[i - 1], order[i])
        << "connection " << order[i] << " served after " << order[i - 1] << ", at position " << i;
  }
}

TEST(SocketAddr, ParsesAndPrintsIpv4AndIpv6) {
  const auto v4 = SocketAddr::parse("127.0.0.1:8080");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->port(), 8080);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:8080");

  const auto v6 = SocketAddr::parse("[::1]:80");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->port(), 80);
  EXPECT_EQ(v6->to_string(), "[::1]:80");

  const auto any = SocketAddr::parse("0.0.0.0:0");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->port(), 0);
  EXPECT_EQ(any->to_string(), "0.0.0.0:0");

  const auto localhost = SocketAddr::parse("localhost:65535");
  ASSERT_TRUE(localhost.has_value());
  EXPECT_EQ(localhost->to_string(), "127.0.0.1:65535");

  EXPECT_EQ(SocketAddr::ipv4_loopback(9).to_string(), "127.0.0.1:9");
  EXPECT_EQ(SocketAddr::ipv4_loopback(9), *SocketAddr::parse("127.0.0.1:9"));
  EXPECT_FALSE(SocketAddr::ipv4_loopback(9) == *SocketAddr::parse("127.0.0.1:10"));
}

TEST(SocketAddr, ToStringRoundTrips) {
  for (const char* text :
       {"127.0.0.1:1", "10.20.30.40:65535", "255.255.255.255:443", "[::1]:8080", "[::]:0",
        "[2001:db8::1]:9000", "[fe80::1:2:3:4]:22", "[::ffff:1.2.3.4]:80"}) {
    const auto parsed = SocketAddr::parse(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    const auto printed = parsed->to_string();
    const auto reparsed = SocketAddr::parse(printed);
    ASSERT_TRUE(reparsed.has_value()) << printed;
    EXPECT_EQ(*reparsed, *parsed) << text << " -> " << printed;
    EXPECT_EQ(reparsed->to_string(), printed);
  }
  // Canonical forms print back verbatim.
  EXPECT_EQ(SocketAddr::parse("[2001:db8::1]:9000")->to_string(), "[2001:db8::1]:9000");
}

TEST(SocketAddr, RejectsGarbage) {
  for (const char* text : {"",
                           ":",
                           ":80",
                           "1.2.3.4",
                           "1.2.3.4:",
                           "x:80",
                           "1.2.3.4:70000",
                           "1.2.3.4:65536",
                           "1.2.3.4:-1",
                           "1.2.3.4:+80",
                           "1.2.3.4:80x",
                           "1.2.3.4: 80",
                           " 1.2.3.4:80",
                           "256.1.1.1:80",
                           "1.2.3:80",
                           "::1:80",
                           "[::1]",
                           "[::1]:",
                           "[::1:80",
                           "::1]:80",
                           "[1.2.3.4]:80",
                           "[zz::1]:80",
                           "example.com:80",
                           "1.2.3.4:99999999999999999999"}) {
    const auto parsed = SocketAddr::parse(text);
    EXPECT_FALSE(parsed.has_value()) << '"' << text << "\" parsed as " << parsed->to_string();
    if (!parsed) {
      EXPECT_EQ(parsed.error(), std::errc::invalid_argument) << text;
    }
  }
}

// ---- connect, addresses of a connection ------------------------------------------------------

struct AddressOutcome {
  SocketAddr listener;
  SocketAddr accepted_peer;
  SocketAddr client_local;
  SocketAddr client_peer;
  SocketAddr server_local;
  SocketAddr server_peer;
};

rt::Task<AddressOutcome> connection_addresses() {
  AddressOutcome out;
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  out.listener = must(listener.local_addr(), "listener local_addr");
  auto client = must(co_await TcpStream::connect(out.listener), "connect");
  auto [server, peer] = must(co_await listener.accept(), "accept");
  out.accepted_peer = peer;
  out.client_local = must(client.local_addr(), "client local_addr");
  out.client_peer = must(client.peer_addr(), "client peer_addr");
  out.server_local = must(server.local_addr(), "server local_addr");
  out.server_peer = must(server.peer_addr(), "server peer_addr");
  co_return out;
}

TEST(Tcp, ConnectionAddressesAgree) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(connection_addresses());
  EXPECT_NE(out.listener.port(), 0);
  EXPECT_EQ(out.listener.to_string().rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(out.client_peer, out.listener);
  EXPECT_EQ(out.server_local, out.listener);
  EXPECT_EQ(out.accepted_peer, out.client_local);
  EXPECT_EQ(out.server_peer, out.client_local);
}

struct RefusedOutcome {
  std::error_code error;
  bool connected = false;
  std::size_t registered_before = 0;
  std::size_t registered_after = 0;
  std::size_t fds_before = 0;
  std::size_t fds_after = 0;
};

rt::Task<RefusedOutcome> connect_refused(std::uint16_t port) {
  RefusedOutcome out;
  out.registered_before = io_registered();
  out.fds_before = open_descriptors();
  auto stream = co_await TcpStream::connect(SocketAddr::ipv4_loopback(port));
  out.connected = stream.has_value();
  if (!stream) out.error = stream.error();
  out.registered_after = io_registered();
  out.fds_after = open_descriptors();
  co_return out;
}

TEST(Tcp, ConnectToClosedPortIsRefused) {
  // A port that is bound but not listening: nobody else can take it while we hold it, and
  // connecting to it is refused.
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t size = sizeof address;
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &size), 0);
  const std::uint16_t port = ntohs(address.sin_port);

  auto runtime = two_workers();
  const auto out = runtime.block_on(connect_refused(port));
  ::close(holder);
  EXPECT_FALSE(out.connected);
  EXPECT_EQ(out.error, std::errc::connection_refused) << out.error.message();
  // The failed attempt left nothing behind.
  EXPECT_EQ(out.registered_after, out.registered_before);
  EXPECT_EQ(out.fds_after, out.fds_before);
}

rt::Task<std::string> ipv6_round_trip(SocketAddr bind_to) {
  auto listener = TcpListener::bind(bind_to);
  if (!listener) co_return "skip: " + listener.error().message();
  const auto address = must(listener->local_addr(), "local_addr");
  auto client = must(co_await TcpStream::connect(address), "connect");
  auto accepted = must(co_await listener->accept(), "accept");
  must(co_await client.write_all(as_bytes("over v6")), "write_all");
  must(client.shutdown(TcpStream::Shutdown::write), "shutdown");
  co_return as_string(co_await read_to_end(&accepted.first));
}

TEST(Tcp, Ipv6LoopbackWorks) {
  auto runtime = two_workers();
  const auto got = runtime.block_on(ipv6_round_trip(*SocketAddr::parse("[::1]:0")));
  if (got.starts_with("skip: ")) GTEST_SKIP() << "no IPv6 loopback here (" << got << ")";
  EXPECT_EQ(got, "over v6");
}

// ---- peer close, reset, half-close ----------------------------------------------------------

rt::Task<std::expected<std::size_t, std::error_code>> read_once(TcpStream stream) {
  std::array<std::byte, 64> buffer;
  co_return co_await stream.read(buffer);
}

struct CloseOutcome {
  std::expected<std::size_t, std::error_code> blocked_read = 0;
  std::expected<std::size_t, std::error_code> data_read = 0;
  std::expected<std::size_t, std::error_code> eof_read = 1;
  std::expected<std::size_t, std::error_code> eof_again = 1;
};

rt::Task<CloseOutcome> peer_close_reads() {
  CloseOutcome out;
  {
    // A reader already waiting is woken by the close and sees end of stream.
    auto pair = co_await connected_pair();
    auto& server_io = registration(pair.server);
    auto reader = rt::spawn(read_once(std::move(pair.server)));
    co_await until_reader_waits(server_io);
    { TcpStream closed = std::move(pair.client); }
    out.blocked_read = (co_await reader).value();
  }
  {
    // Data sent before the close is still delivered, then end of stream, again and again.
    auto pair = co_await connected_pair();
    must(co_await pair.client.write_all(as_bytes("abc")), "write_all");
    { TcpStream closed = std::move(pair.client); }
    std::array<std::byte, 64> buffer;
    out.data_read = co_await pair.server.read(buffer);
    out.eof_read = co_await pair.server.read(buffer);
    out.eof_again = co_await pair.server.read(buffer);
  }
  co_return out;
}

TEST(Tcp, ReadReturnsZeroAfterPeerCloses) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(peer_close_reads());
  ASSERT_TRUE(out.blocked_read.has_value()) << out.blocked_read.error().message();
  EXPECT_EQ(*out.blocked_read, 0u);
  ASSERT_TRUE(out.data_read.has_value()) << out.data_read.error().message();
  EXPECT_EQ(*out.data_read, 3u);
  ASSERT_TRUE(out.eof_read.has_value()) << out.eof_read.error().message();
  EXPECT_EQ(*out.eof_read, 0u);
  ASSERT_TRUE(out.eof_again.has_value()) << out.eof_again.error().message();
  EXPECT_EQ(*out.eof_again, 0u);
}

struct ClosedWriteOutcome {
  std::expected<std::size_t, std::error_code> read_after_close = 1;
  std::error_code write_error;
  int successful_writes = 0;
  std::error_code write_error_again;
};

// The peer answers a write to its closed socket with a reset, which closes ours.
rt::Task<void> until_reset_arrived(int fd) {
  for (;;) {
    tcp_info info{};
    socklen_t size = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) {
      throw std::system_error(errno, std::generic_category(), "TCP_INFO");
    }
    if (info.tcpi_state == TCP_CLOSE) co_return;
    co_await rt::yield_now();
  }
}

rt::Task<ClosedWriteOutcome> write_to_closed_peer() {
  ClosedWriteOutcome out;
  auto pair = co_await connected_pair();
  { TcpStream closed = std::move(pair.server); }
  std::array<std::byte, 64> buffer;
  out.read_after_close = co_await pair.client.read(buffer);
  // The first write may still be accepted by the kernel; the peer answers it with a reset, and
  // from then on writes fail.
  const std::vector<std::byte> data(1024, std::byte{0x5a});
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto sent = co_await pair.client.write(data);
    if (!sent) {
      out.write_error = sent.error();
      break;
    }
    ++out.successful_writes;
    co_await until_reset_arrived(pair.client.native_handle());
  }
  auto again = co_await pair.client.write(data);
  if (!again) out.write_error_again = again.error();
  co_return out;
}

TEST(Tcp, WriteToClosedPeerFailsWithoutSigpipe) {
  // With SIGPIPE at its default disposition, a send without MSG_NOSIGNAL would kill the process:
  // getting here at the end proves there was none.
  struct sigaction current {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &current), 0);
  ASSERT_EQ(current.sa_handler, SIG_DFL)
      << "SIGPIPE is not at its default: the test proves nothing";

  auto runtime = two_workers();
  const auto out = runtime.block_on(write_to_closed_peer());
  ASSERT_TRUE(out.read_after_close.has_value()) << out.read_after_close.error().message();
  EXPECT_EQ(*out.read_after_close, 0u);
  EXPECT_TRUE(is_peer_gone(out.write_error)) << out.write_error.message();
  EXPECT_TRUE(is_peer_gone(out.write_error_again)) << out.write_error_again.message();
  EXPECT_LE(out.successful_writes, 1) << "a write went through after the peer's reset";
}

rt::Task<std::expected<void, std::error_code>> write_forever(TcpStream stream) {
  const std::vector<std::byte> chunk(1 << 20, std::byte{1});
  for (int i = 0; i < 1024; ++i) {  // 1 GB: far more than loopback buffers hold
    auto written = co_await stream.write_all(chunk);
    if (!written) co_return written;
  }
  co_return std::expected<void, std::error_code>{};
}

rt::Task<std::expected<void, std::error_code>> writer_blocked_when_peer_closes() {
  auto pair = co_await connected_pair();
  auto& writer_io = registration(pair.server);
  auto writer = rt::spawn(write_forever(std::move(pair.server)));
  co_await until_writer_waits(writer_io);  // the buffers are full
  // Closing with unread data in the receive queue sends a reset.
  { TcpStream closed = std::move(pair.client); }
  co_return (co_await writer).value();
}

TEST(Tcp, BlockedWriterGetsAnErrorWhenPeerCloses) {
  auto runtime = two_workers();
  const auto result = runtime.block_on(writer_blocked_when_peer_closes());
  ASSERT_FALSE(result.has_value());
  EXPECT_TRUE(is_peer_gone(result.error())) << result.error().message();
}

rt::Task<std::expected<std::size_t, std::error_code>> reader_sees_reset() {
  auto pair = co_await connected_pair();
  auto& server_io = registration(pair.server);
  auto reader = rt::spawn(read_once(std::move(pair.server)));
  co_await until_reader_waits(server_io);
  const linger abortive{1, 0};
  if (::setsockopt(pair.client.native_handle(), SOL_SOCKET, SO_LINGER, &abortive,
                   sizeof abortive) != 0) {
    throw std::system_error(errno, std::generic_category(), "SO_LINGER");
  }
  { TcpStream closed = std::move(pair.client); }  // a reset, not a FIN
  co_return (co_await reader).value();
}

TEST(Tcp, BlockedReaderGetsConnectionResetOnAbortiveClose) {
  auto runtime = two_workers();
  const auto result = runtime.block_on(reader_sees_reset());
  ASSERT_FALSE(result.has_value()) << "read gave " << *result << " bytes";
  EXPECT_EQ(result.error(), std::errc::connection_reset) << result.error().message();
}

struct HalfCloseOutcome {
  std::string request_seen_by_server;
  std::size_t server_reads_after_eof = 1;
  bool reply_matches = false;
  std::size_t reply_size = 0;
  std::error_code write_after_shutdown;
};

rt::Task<std::string> half_close_server(TcpStream stream, std::size_t reply_size,
                                        std::size_t* read_after_eof) {
  const auto request = co_await read_to_end(&stream);
  // End of stream from the client, yet our direction is open: read again (still EOF), reply.
  std::array<std::byte, 16> buffer;
  *read_after_eof = must(co_await stream.read(buffer), "read after eof");
  must(co_await stream.write_all(pattern(reply_size, 7)), "reply write_all");
  co_return as_string(request);
}

rt::Task<HalfCloseOutcome> half_close() {
  constexpr std::size_t kReply = 1 << 20;
  HalfCloseOutcome out;
  auto pair = co_await connected_pair();
  std::size_t read_after_eof = 1;
  auto server = rt::spawn(half_close_server(std::move(pair.server), kReply, &read_after_eof));
  must(co_await pair.client.write_all(as_bytes("the whole request")), "write_all");
  must(pair.client.shutdown(TcpStream::Shutdown::write), "shutdown(write)");
  auto late = co_await pair.client.write(as_bytes("too late"));
  if (!late) out.write_after_shutdown = late.error();
  const auto reply = co_await read_to_end(&pair.client);
  out.request_seen_by_server = (co_await server).value();
  out.server_reads_after_eof = read_after_eof;
  out.reply_size = reply.size();
  out.reply_matches = reply == pattern(kReply, 7);
  co_return out;
}

TEST(Tcp, HalfCloseLetsTheServerReplyAfterEndOfRequest) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(half_close());
  EXPECT_EQ(out.request_seen_by_server, "the whole request");
  EXPECT_EQ(out.server_reads_after_eof, 0u);
  EXPECT_EQ(out.reply_size, 1u << 20);
  EXPECT_TRUE(out.reply_matches);
  EXPECT_EQ(out.write_after_shutdown, std::errc::broken_pipe) << out.write_after_shutdown.message();
}

rt::Task<std::error_code> read_exact_hits_eof() {
  auto pair = co_await connected_pair();
  must(co_await pair.server.write_all(as_bytes("abc")), "write_all");
  { TcpStream closed = std::move(pair.server); }
  std::array<std::byte, 10> buffer;
  auto got = co_await pair.client.read_exact(buffer);
  co_return got ? std::error_code() : got.error();
}

TEST(Tcp, ReadExactReportsUnexpectedEof) {
  auto runtime = two_workers();
  const auto error = runtime.block_on(read_exact_hits_eof());
  EXPECT_EQ(error, net::unexpected_eof());
  EXPECT_FALSE(error.message().empty());
}

TEST(IoError, ConvertsToAndComparesWithStdErrorCode) {
  const net::IoError reset(ECONNRESET);
  const std::error_code code = reset;
  EXPECT_EQ(code, std::error_code(ECONNRESET, std::generic_category()));
  EXPECT_TRUE(reset == std::errc::connection_reset);
  EXPECT_FALSE(reset == std::errc::broken_pipe);
  EXPECT_TRUE(reset == code);
  EXPECT_EQ(reset.message(), code.message());

  const auto eof = net::IoError::end_of_stream();
  EXPECT_TRUE(eof == net::unexpected_eof());
  EXPECT_FALSE(eof == reset);
  EXPECT_EQ(eof.message(), "unexpected end of stream");
}

rt::Task<std::expected<void, std::error_code>> wait_readable(TcpStream* stream) {
  co_return co_await stream->readable();
}

// Sends once the peer waits for it, so that what the peer waits with is seen to wait.
// `sending` is set before the write, not after: the peer, woken on another worker by the data,
// may look at it before write_all has returned here.
rt::Task<void> send_when_peer_waits(TcpStream* stream, rt::detail::IoRegistration* peer,
                                    std::string text, std::atomic<bool>* sending) {
  co_await until_reader_waits(*peer);
  sending->store(true);
  must(co_await stream->write_all(as_bytes(text)), "write_all");
}

struct ReadableOutcome {
  bool readable = false;
  std::string data;
};

rt::Task<ReadableOutcome> readable_then_read() {
  ReadableOutcome out;
  auto pair = co_await connected_pair();
  std::atomic<bool> sending{false};
  auto sender =
      rt::spawn(send_when_peer_waits(&pair.server, &registration(pair.client), "x", &sending));
  out.readable = (co_await wait_readable(&pair.client)).has_value();
  // readable() consumed nothing.
  std::array<std::byte, 8> buffer;
  const auto n = must(co_await pair.client.read(buffer), "read");
  out.data = as_string(std::span(buffer.data(), n));
  static_cast<void>(co_await sender);
  co_return out;
}

TEST(Tcp, ReadableWaitsForDataWithoutConsumingIt) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(readable_then_read());
  EXPECT_TRUE(out.readable);
  EXPECT_EQ(out.data, "x");
}

bool would_block(const std::expected<std::size_t, std::error_code>& result) {
  return !result && result.error() == std::errc::operation_would_block;
}

struct TryReadOutcome {
  bool would_block_before_data = false;
  bool readable = false;
  bool sent_before_readable = false;
  std::string data;
  bool would_block_after_data = false;
  bool readable_at_end = false;
  std::size_t read_at_end = 99;
};

// Tokio's readable() + try_read() pattern: no buffer is held while waiting.
rt::Task<TryReadOutcome> readable_then_try_read() {
  TryReadOutcome out;
  auto pair = co_await connected_pair();
  std::array<std::byte, 8> buffer;
  out.would_block_before_data = would_block(pair.client.try_read(buffer));

  std::atomic<bool> sending{false};
  auto sender =
      rt::spawn(send_when_peer_waits(&pair.server, &registration(pair.client), "abc", &sending));
  out.readable = (co_await pair.client.readable()).has_value();
  out.sent_before_readable = sending.load();
  if (!out.sent_before_readable) sender.abort();  // it would wait for a waiter for ever
  static_cast<void>(co_await sender);
  const auto n = must(pair.client.try_read(buffer), "try_read");
  out.data = as_string(std::span(buffer.data(), n));
  out.would_block_after_data = would_block(pair.client.try_read(buffer));

  { TcpStream closed = std::move(pair.server); }
  out.readable_at_end = (co_await pair.client.readable()).has_value();
  out.read_at_end = must(pair.client.try_read(buffer), "try_read at end");
  co_return out;
}

TEST(Tcp, TryReadTakesWhatReadableWaitedFor) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(readable_then_try_read());
  EXPECT_TRUE(out.would_block_before_data);
  EXPECT_TRUE(out.readable);
  EXPECT_TRUE(out.sent_before_readable) << "readable() returned before any data was sent";
  EXPECT_EQ(out.data, "abc");
  EXPECT_TRUE(out.would_block_after_data);
  EXPECT_TRUE(out.readable_at_end);
  EXPECT_EQ(out.read_at_end, 0u) << "end of stream reads as 0 bytes";
}

struct SpentReadiness {
  bool sent_before_first = false;
  std::size_t read = 0;
  bool readable_left_after_short_read = true;
  bool edge_left_after_short_read = true;
  bool sent_before_second = false;
};

// The readiness after a readable() woken by an event and a try_read that took less than its
// buffer could hold: spent (the socket is empty), so the next readable() waits for the next event
// instead of completing at once or confirming with a system call of its own.
rt::Task<SpentReadiness> short_read_spends_readiness() {
  SpentReadiness out;
  auto pair = co_await connected_pair();
  auto& io = registration(pair.client);
  std::array<std::byte, 8> buffer;
  static_cast<void>(pair.client.try_read(buffer));  // would block: the readiness is cleared
  std::atomic<bool> sending{false};
  auto first = rt::spawn(send_when_peer_waits(&pair.server, &io, "abc", &sending));
  must(co_await pair.client.readable(), "readable");
  out.sent_before_first = sending.load();
  static_cast<void>(co_await first);
  out.read = must(pair.client.try_read(buffer), "try_read");
  {
    std::lock_guard guard(io.lock);
    out.readable_left_after_short_read = (io.readiness & rt::detail::kReadable) != 0;
    out.edge_left_after_short_read = (io.readiness & rt::detail::kReadEdge) != 0;
  }
  sending.store(false);
  auto second = rt::spawn(send_when_peer_waits(&pair.server, &io, "d", &sending));
  must(co_await pair.client.readable(), "readable");
  out.sent_before_second = sending.load();
  static_cast<void>(co_await second);
  co_return out;
}

TEST(Tcp, AShortTryReadSpendsTheReadinessSoTheNextReadableWaits) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(short_read_spends_readiness());
  EXPECT_TRUE(out.sent_before_first);
  EXPECT_EQ(out.read, 3u);
  EXPECT_FALSE(out.readable_left_after_short_read);
  EXPECT_FALSE(out.edge_left_after_short_read);
  EXPECT_TRUE(out.sent_before_second) << "readable() completed before the next bytes were sent";
}

struct TryWriteOutcome {
  std::size_t accepted = 0;
  bool stopped_at_would_block = false;
  bool received_all = false;
};

// try_write fills the socket buffer without waiting and reports would_block once it is full;
// everything it accepted reaches the peer in order.
rt::Task<TryWriteOutcome> try_write_until_full() {
  TryWriteOutcome out;
  auto pair = co_await connected_pair();
  set_send_buffer(pair.server.native_handle(), 4096);
  const auto data = pattern(1 << 22, 3);
  while (out.accepted < data.size()) {
    auto sent = pair.server.try_write(std::span(data).subspan(out.accepted));
    if (!sent) {
      out.stopped_at_would_block = sent.error() == std::errc::operation_would_block;
      break;
    }
    out.accepted += *sent;
  }
  { TcpStream closed = std::move(pair.server); }
  const auto received = co_await read_to_end(&pair.client);
  out.received_all =
      received.size() == out.accepted && std::equal(received.begin(), received.end(), data.begin());
  co_return out;
}

TEST(Tcp, TryWriteStopsWithWouldBlockWhenTheSocketBufferIsFull) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(try_write_until_full());
  EXPECT_GT(out.accepted, 0u);
  EXPECT_LT(out.accepted, std::size_t{1} << 22);
  EXPECT_TRUE(out.stopped_at_would_block);
  EXPECT_TRUE(out.received_all);
}

// ---- read timeouts ---------------------------------------------------------------------------

struct TimeoutOutcome {
  bool first_elapsed = false;
  rt::Clock::duration waited{};
  bool second_elapsed = false;
  std::string after_timeouts;
  std::string within_timeout;
};

rt::Task<TimeoutOutcome> read_with_timeouts() {
  TimeoutOutcome out;
  auto pair = co_await connected_pair();
  std::array<std::byte, 64> buffer;

  const auto start = rt::Clock::now();
  auto first = co_await rt::timeout(50ms, pair.client.read(buffer));
  out.waited = rt::Clock::now() - start;
  out.first_elapsed = !first && first.error() == rt::Elapsed{};
  auto second = co_await rt::timeout(10ms, pair.client.read(buffer));
  out.second_elapsed = !second && second.error() == rt::Elapsed{};

  // The stream survived the cancelled reads: data sent now is read normally.
  must(co_await pair.server.write_all(as_bytes("late")), "write_all");
  const auto n = must(co_await pair.client.read(buffer), "read");
  out.after_timeouts = as_string(std::span(buffer.data(), n));

  // A read inside a timeout is woken by data that arrives while it waits.
  std::atomic<bool> sending{false};
  auto sender = rt::spawn(
      send_when_peer_waits(&pair.server, &registration(pair.client), "in time", &sending));
  auto third = co_await rt::timeout(10s, pair.client.read(buffer));
  static_cast<void>(co_await sender);
  if (third && *third) out.within_timeout = as_string(std::span(buffer.data(), **third));
  co_return out;
}

TEST(Tcp, ReadTimeoutElapsesAndTheStreamStaysUsable) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(read_with_timeouts());
  EXPECT_TRUE(out.first_elapsed);
  EXPECT_GE(out.waited, 50ms);
  EXPECT_TRUE(out.second_elapsed);
  EXPECT_EQ(out.after_timeouts, "late");
  EXPECT_EQ(out.within_timeout, "in time");
}

// ---- abort of tasks blocked in I/O ----------------------------------------------------------

rt::Task<void> read_forever(TcpStream stream, std::atomic<bool>* destroyed) {
  SetOnDestroy guard{destroyed};
  std::array<std::byte, 64> buffer;
  static_cast<void>(co_await stream.read(buffer));
  ADD_FAILURE() << "the read completed; it should have been cancelled";
}

struct AbortOutcome {
  std::size_t registered_base = 0;
  std::size_t registered_with_pair = 0;
  std::size_t registered_after_abort = 0;
  std::size_t fds_with_pair = 0;
  std::size_t fds_after_abort = 0;
  bool cancelled = false;
  bool frame_destroyed = false;
  std::expected<std::size_t, std::error_code> peer_read = 1;
};

rt::Task<AbortOutcome> abort_blocked_reader() {
  AbortOutcome out;
  out.registered_base = io_registered();
  auto pair = co_await connected_pair();
  out.registered_with_pair = io_registered();
  out.fds_with_pair = open_descriptors();
  std::atomic<bool> destroyed{false};
  auto& client_io = registration(pair.client);
  auto reader = rt::spawn(read_forever(std::move(pair.client), &destroyed));
  co_await until_reader_waits(client_io);
  reader.abort();
  auto joined = co_await reader;
  out.cancelled = !joined && joined.error().is_cancelled();
  out.frame_destroyed = destroyed.load();
  out.registered_after_abort = io_registered();
  out.fds_after_abort = open_descriptors();
  // The aborted task's socket is closed: its peer sees end of stream.
  std::array<std::byte, 8> buffer;
  out.peer_read = co_await pair.server.read(buffer);
  co_return out;
}

TEST(Tcp, AbortOfTaskBlockedInReadLeavesNothingBehind) {
  auto runtime = two_workers();
  const auto registered_before = runtime.metrics().io_registered;
  const auto fds_before = open_descriptors();
  const auto out = runtime.block_on(abort_blocked_reader());
  EXPECT_TRUE(out.cancelled);
  EXPECT_TRUE(out.frame_destroyed);
  EXPECT_EQ(out.registered_base, registered_before);
  EXPECT_EQ(out.registered_with_pair, registered_before + 2);
  EXPECT_EQ(out.registered_after_abort, registered_before + 1);
  EXPECT_EQ(out.fds_with_pair, fds_before + 2);
  EXPECT_EQ(out.fds_after_abort, fds_before + 1);
  ASSERT_TRUE(out.peer_read.has_value()) << out.peer_read.error().message();
  EXPECT_EQ(*out.peer_read, 0u);
  EXPECT_EQ(runtime.metrics().io_registered, registered_before);
  EXPECT_EQ(open_descriptors(), fds_before);
}

rt::Task<AbortOutcome> abort_blocked_writer() {
  AbortOutcome out;
  auto pair = co_await connected_pair();
  out.registered_with_pair = io_registered();
  auto& writer_io = registration(pair.server);
  auto writer = rt::spawn(write_forever(std::move(pair.server)));
  co_await until_writer_waits(writer_io);  // the buffers are full
  writer.abort();
  auto joined = co_await writer;
  out.cancelled = !joined && joined.error().is_cancelled();
  out.registered_after_abort = io_registered();
  // What was written arrives, then end of stream (the aborted writer's socket was closed).
  std::vector<std::byte> buffer(1 << 16);
  for (;;) {
    out.peer_read = co_await pair.client.read(buffer);
    if (!out.peer_read || *out.peer_read == 0) break;
  }
  co_return out;
}

TEST(Tcp, AbortOfTaskBlockedInWriteLeavesNothingBehind) {
  auto runtime = two_workers();
  const auto registered_before = runtime.metrics().io_registered;
  const auto fds_before = open_descriptors();
  const auto out = runtime.block_on(abort_blocked_writer());
  EXPECT_TRUE(out.cancelled);
  EXPECT_EQ(out.registered_with_pair, registered_before + 2);
  EXPECT_EQ(out.registered_after_abort, registered_before + 1);
  ASSERT_TRUE(out.peer_read.has_value()) << out.peer_read.error().message();
  EXPECT_EQ(*out.peer_read, 0u);
  EXPECT_EQ(runtime.metrics().io_registered, registered_before);
  EXPECT_EQ(open_descriptors(), fds_before);
}

rt::Task<void> accept_forever(TcpListener listener) {
  static_cast<void>(co_await listener.accept());
  ADD_FAILURE() << "accept completed; it should have been cancelled";
}

struct AbortAcceptOutcome {
  bool cancelled = false;
  std::size_t registered_after_abort = 0;
  std::error_code connect_error;
};

rt::Task<AbortAcceptOutcome> abort_blocked_accept() {
  AbortAcceptOutcome out;
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  const auto address = must(listener.local_addr(), "local_addr");
  auto& listener_io = rt::detail::SocketInternals::registration(listener);
  auto acceptor = rt::spawn(accept_forever(std::move(listener)));
  co_await until_reader_waits(listener_io);
  acceptor.abort();
  auto joined = co_await acceptor;
  out.cancelled = !joined && joined.error().is_cancelled();
  out.registered_after_abort = io_registered();
  // The listening socket is gone with the task.
  auto refused = co_await TcpStream::connect(address);
  if (!refused) out.connect_error = refused.error();
  co_return out;
}

TEST(Tcp, AbortOfTaskBlockedInAcceptClosesTheListener) {
  auto runtime = two_workers();
  const auto registered_before = runtime.metrics().io_registered;
  const auto fds_before = open_descriptors();
  const auto out = runtime.block_on(abort_blocked_accept());
  EXPECT_TRUE(out.cancelled);
  EXPECT_EQ(out.registered_after_abort, registered_before);
  EXPECT_EQ(out.connect_error, std::errc::connection_refused) << out.connect_error.message();
  EXPECT_EQ(open_descriptors(), fds_before);
}

rt::Task<std::size_t> read_some(TcpStream stream) {
  std::array<std::byte, 64> buffer;
  co_return must(co_await stream.read(buffer), "read");
}

struct RaceOutcome {
  int cancelled = 0;
  int completed = 0;
  int other = 0;
};

// The abort lands while the driver may be delivering the readiness event for the same socket
// (on the other worker): deregistration must be safe with the wake-up in flight. Either outcome
// is fine, and both must happen across the rounds (the abort comes from at once to a few hundred
// yields after the write), or the race was not run; the sanitizers watch for the rest. Every
// tenth round waits for the read (up to seconds) before it aborts: on a loaded machine a wake-up
// can take longer than a few hundred yields in every round, and "no read ever completed" would
// then say nothing about the runtime.
rt::Task<RaceOutcome> abort_racing_readiness(int rounds) {
  RaceOutcome out;
  for (int i = 0; i < rounds; ++i) {
    auto pair = co_await connected_pair();
    auto& client_io = registration(pair.client);
    auto reader = rt::spawn(read_some(std::move(pair.client)));
    co_await until_reader_waits(client_io);  // the write then wakes it through the driver
    must(co_await pair.server.write_all(as_bytes("wake")), "write_all");
    const int delay = (i % 10) * 50;
    for (int y = 0; y < delay && !reader.is_finished(); ++y) co_await rt::yield_now();
    const auto patience = std::chrono::steady_clock::now() + 5s;
    while (i % 10 == 9 && !reader.is_finished() && std::chrono::steady_clock::now() < patience) {
      co_await rt::yield_now();
    }
    reader.abort();
    auto joined = co_await reader;
    if (joined) {
      ++out.completed;
    } else if (joined.error().is_cancelled()) {
      ++out.cancelled;
    } else {
      ++out.other;
    }
  }
  co_return out;
}

TEST(Tcp, AbortRacingWithReadinessIsSafe) {
  auto runtime = two_workers();
  const auto registered_before = runtime.metrics().io_registered;
  const auto fds_before = open_descriptors();
  constexpr int kRounds = 200;
  const auto out = runtime.block_on(abort_racing_readiness(kRounds));
  EXPECT_EQ(out.cancelled + out.completed, kRounds);
  EXPECT_GT(out.cancelled, 0) << "no abort landed before the read completed";
  EXPECT_GT(out.completed, 0) << "no read completed before the abort";
  EXPECT_EQ(out.other, 0);
  EXPECT_EQ(runtime.metrics().io_registered, registered_before);
  EXPECT_EQ(open_descriptors(), fds_before);
}

// ---- writev ----------------------------------------------------------------------------------

struct WritevOutcome {
  std::size_t calls = 0;
  std::size_t partial = 0;  // calls that sent less than all that was offered
  std::size_t max_sent_per_call = 0;
  bool matches = false;
  std::size_t received = 0;
  std::size_t expected = 0;
};

// Sends every buffer with writev, advancing past what each call took, until all is sent.
rt::Task<WritevOutcome> writev_all(std::vector<std::vector<std::byte>> pieces, int sndbuf) {
  WritevOutcome out;
  auto pair = co_await connected_pair();
  if (sndbuf > 0) set_send_buffer(pair.client.native_handle(), sndbuf);
  std::vector<std::byte> expected;
  std::vector<iovec> iov;
  for (auto& piece : pieces) {
    expected.insert(expected.end(), piece.begin(), piece.end());
    iov.push_back({piece.data(), piece.size()});
  }
  out.expected = expected.size();
  auto reader = rt::spawn(read_to_end(&pair.server));
  std::size_t first = 0;
  std::size_t remaining = expected.size();
  while (remaining > 0) {
    while (iov[first].iov_len == 0) ++first;
    auto sent = must(co_await pair.client.writev(std::span(iov).subspan(first)), "writev");
    ++out.calls;
    if (sent == 0 || sent > remaining) throw std::runtime_error("writev returned a bad count");
    if (sent < remaining) ++out.partial;
    out.max_sent_per_call = std::max(out.max_sent_per_call, sent);
    remaining -= sent;
    while (sent > 0) {
      if (sent >= iov[first].iov_len) {
        sent -= iov[first].iov_len;
        iov[first].iov_len = 0;
        ++first;
      } else {
        iov[first].iov_base = static_cast<std::byte*>(iov[first].iov_base) + sent;
        iov[first].iov_len -= sent;
        sent = 0;
      }
    }
  }
  must(pair.client.shutdown(TcpStream::Shutdown::write), "shutdown(write)");
  const auto received = (co_await reader).value();
  out.received = received.size();
  out.matches = received == expected;
  co_return out;
}

TEST(Tcp, WritevSendsAllBuffersInOrder) {
  std::vector<std::vector<std::byte>> pieces;
  for (std::uint32_t i = 0; i < 200; ++i) {
    std::size_t size = (i * 7919u) % 40000;
    if (i % 9 == 0) size = 0;  // empty buffers in between are fine
    if (i % 50 == 1) size = (1u << 20) + i;
    pieces.push_back(pattern(size, i));
  }
  auto runtime = two_workers();
  const auto out = runtime.block_on(writev_all(std::move(pieces), 0));
  EXPECT_EQ(out.received, out.expected);
  EXPECT_TRUE(out.matches);
  EXPECT_GT(out.partial, 0u);  // the loop really had to pick up where a call stopped
}

TEST(Tcp, WritevWithMoreBuffersThanIovMax) {
  // More buffers than one sendmsg takes: each call sends at most IOV_MAX of them.
  std::vector<std::vector<std::byte>> pieces;
  for (std::size_t i = 0; i < 3 * static_cast<std::size_t>(IOV_MAX) + 5; ++i)
    pieces.push_back(pattern(3, static_cast<std::uint32_t>(i)));
  auto runtime = two_workers();
  const auto out = runtime.block_on(writev_all(std::move(pieces), 0));
  EXPECT_EQ(out.received, out.expected);
  EXPECT_TRUE(out.matches);
  EXPECT_GE(out.calls, 4u);
  EXPECT_LE(out.max_sent_per_call, static_cast<std::size_t>(IOV_MAX) * 3);
}

}  // namespace
