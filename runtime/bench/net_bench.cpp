// TCP benchmarks over loopback: an echo server and its clients run as tasks of one runtime, whose
// worker count is the argument. BM_echo_round_trip: one connection, 64-byte ping-pong; an item is
// one round trip, so the real time per iteration is the round-trip latency.
// BM_echo_throughput: 16 connections at once, each echoing 64 KiB chunks; bytes are what the
// clients sent and read back. BM_recv_empty_socket: one recv that finds nothing, through glibc's
// wrapper (0) and through the runtime's socket_calls.hpp (1), in a process with threads: what
// the cancellation-point wrapper adds to every call.
#include <benchmark/benchmark.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

#include "brigade/runtime/detail/socket_calls.hpp"
#include "brigade/runtime/join.hpp"
#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;

namespace {

constexpr std::size_t kPingBytes = 64;
constexpr std::size_t kStreams = 16;
constexpr std::size_t kChunkBytes = 64 * 1024;

rt::Runtime make_runtime(const benchmark::State& state) {
  return rt::Builder::multi_thread()
      .worker_threads(static_cast<std::size_t>(state.range(0)))
      .build();
}

[[noreturn]] void fail(const char* what, std::error_code error) {
  std::fprintf(stderr, "net_bench: %s: %s\n", what, error.message().c_str());
  std::abort();
}

// The server side of one connection: echoes until the client closes.
rt::Task<void> echo(net::TcpStream stream, std::size_t buffer_bytes) {
  std::vector<std::byte> buffer(buffer_bytes);
  for (;;) {
    auto received = co_await stream.read(buffer);
    if (!received || *received == 0) co_return;
    const std::span<const std::byte> data(buffer.data(), *received);
    if (!co_await stream.write_all(data)) co_return;
  }
}

// Accepts `count` connections, one echo task each.
rt::Task<void> accept_n(net::TcpListener listener, std::size_t count, std::size_t buffer_bytes) {
  for (std::size_t i = 0; i < count; ++i) {
    auto accepted = co_await listener.accept();
    if (!accepted) fail("accept", accepted.error());
    static_cast<void>(accepted->first.set_nodelay(true));
    static_cast<void>(rt::spawn(echo(std::move(accepted->first), buffer_bytes)));
  }
}

// Starts an echo server for `count` connections and connects them.
rt::Task<std::vector<net::TcpStream>> connect_to_echo_server(std::size_t count,
                                                             std::size_t buffer_bytes) {
  auto listener = net::TcpListener::bind(net::SocketAddr::ipv4_loopback(0));
  if (!listener) fail("bind", listener.error());
  const auto address = listener->local_addr();
  if (!address) fail("local_addr", address.error());
  auto server = rt::spawn(accept_n(std::move(*listener), count, buffer_bytes));
  std::vector<net::TcpStream> streams;
  for (std::size_t i = 0; i < count; ++i) {
    auto stream = co_await net::TcpStream::connect(*address);
    if (!stream) fail("connect", stream.error());
    static_cast<void>(stream->set_nodelay(true));
    streams.push_back(std::move(*stream));
  }
  co_await server;
  co_return streams;
}

rt::Task<void> round_trip_loop(benchmark::State* state) {
  auto connecting = connect_to_echo_server(1, 4096);
  auto streams = co_await std::move(connecting);
  net::TcpStream& stream = streams.front();
  std::vector<std::byte> ping(kPingBytes, std::byte{0x5a});
  std::vector<std::byte> pong(kPingBytes);
  for (auto _ : *state) {
    if (auto sent = co_await stream.write_all(ping); !sent) fail("write", sent.error());
    if (auto got = co_await stream.read_exact(pong); !got) fail("read", got.error());
  }
  state->SetItemsProcessed(state->iterations());
  state->SetBytesProcessed(state->iterations() * static_cast<std::int64_t>(kPingBytes));
}

void BM_echo_round_trip(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(round_trip_loop(&state));
}

// One chunk out and back on one connection; writing and reading run at once (join), so neither
// side's socket buffer has to hold a whole chunk.
rt::Task<void> exchange(net::TcpStream* stream, std::span<const std::byte> chunk,
                        std::span<std::byte> back) {
  auto [sent, got] = co_await rt::join(stream->write_all(chunk), stream->read_exact(back));
  if (!sent) fail("write", sent.error());
  if (!got) fail("read", got.error());
}

rt::Task<void> throughput_loop(benchmark::State* state) {
  auto connecting = connect_to_echo_server(kStreams, kChunkBytes);
  auto streams = co_await std::move(connecting);
  std::vector<std::byte> chunk(kChunkBytes, std::byte{0x5a});
  std::vector<std::vector<std::byte>> back(kStreams, std::vector<std::byte>(kChunkBytes));
  std::vector<rt::JoinHandle<void>> exchanges;
  exchanges.reserve(kStreams);
  for (auto _ : *state) {
    // A task per connection, so the clients spread over the workers like the server side does.
    for (std::size_t i = 0; i < kStreams; ++i) {
      exchanges.push_back(rt::spawn(exchange(&streams[i], chunk, back[i])));
    }
    for (auto& handle : exchanges) benchmark::DoNotOptimize(co_await handle);
    exchanges.clear();
  }
  state->SetBytesProcessed(state->iterations() * static_cast<std::int64_t>(kStreams * kChunkBytes));
}

void BM_echo_throughput(benchmark::State& state) {
  auto runtime = make_runtime(state);
  runtime.block_on(throughput_loop(&state));
}

}  // namespace

// The runtime's workers make this a process with threads, as a server is: glibc's wrapper then
// takes its cancellation path.
void BM_recv_empty_socket(benchmark::State& state) {
  const auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  std::byte buffer[64];
  const bool through_glibc = state.range(0) == 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(through_glibc
                                 ? ::recv(pair[0], buffer, sizeof buffer, 0)
                                 : rt::detail::sys::recv(pair[0], buffer, sizeof buffer, 0));
  }
  ::close(pair[0]);
  ::close(pair[1]);
}

BENCHMARK(BM_echo_round_trip)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_echo_throughput)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_recv_empty_socket)->Arg(0)->Arg(1);

BENCHMARK_MAIN();
