// Resident memory per sleeping task and per idle echo connection, the figures Tokio's memory
// peers give (bench/tokio: sleepers.rs, tokio_echo.rs; bench/run echo sleepers runs both sides).
//
//   memory_bench [REPS]      (default 3; every measurement runs in a fresh child process)
//   memory_bench --serve frame4k|heap4k|lazy PORT   (the echo server alone, for conn_hold.py)
//
// sleepers: N = 100,000 tasks each sleeping 1 s, spawned from a runtime task on a 2-worker
//   runtime, their JoinHandles kept in a vector (as in bench/tokio/src/bin/sleepers.rs). Tasks
//   here are spawned as spawn(fn, args...), whose cell and frame are one allocation.
//   bytes/task = (peak RSS - RSS before spawning) / N; the RSS while they all sleep is shown too.
// echo: an echo server on a 1-worker runtime (as tokio_echo), one task per connection; this
//   process's main thread opens N connections with plain blocking sockets, echoes one line on
//   each and keeps them open. bytes/conn = (RSS with N held - RSS after one warm-up connection)
//   / N. The client side holds nothing but its descriptors (kernel socket memory is not RSS),
//   so the difference is the server's. Variants of the connection task:
//     frame4k: a 4 KiB array in the coroutine frame, blocked in read (tokio_echo "stack")
//     heap4k:  a 4 KiB heap buffer, blocked in read (tokio_echo "heap")
//     lazy:    waits with readable(), holds a 4 KiB buffer only while echoing (try_read)
// RSS is read from /proc/self/statm.
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kSleepers = 100'000;
constexpr std::size_t kSleeperWorkers = 2;  // sleepers.rs default
constexpr std::size_t kConnections = 10'000;
constexpr std::size_t kBufferBytes = 4096;
constexpr std::string_view kLine = "conn_hold echo line\n";  // what conn_hold.py sends

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size_pages = 0;
  long resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * ::sysconf(_SC_PAGESIZE);
}

long peak_resident_bytes() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss * 1024;
}

// Bytes the allocator has handed out and not had back (glibc, all arenas): with RSS, it tells the
// allocations apart from page-level overhead.
long heap_in_use() { return static_cast<long>(::mallinfo2().uordblks); }

double kib(long bytes) { return static_cast<double>(bytes) / 1024.0; }

// --- sleepers ----------------------------------------------------------------------------------

rt::Task<void> sleeper() { co_await rt::sleep(1s); }

struct SleepersResult {
  long before = 0;
  long sleeping = 0;
  long peak = 0;
  long heap_before = 0;
  long heap_sleeping = 0;
};

rt::Task<SleepersResult> spawn_sleepers(std::size_t count) {
  SleepersResult result;
  result.before = resident_bytes();
  result.heap_before = heap_in_use();
  std::vector<rt::JoinHandle<void>> handles;
  handles.reserve(count);
  for (std::size_t i = 0; i < count; ++i) handles.push_back(rt::spawn(sleeper));
  co_await rt::sleep(500ms);  // by now every task has run up to its sleep
  result.sleeping = resident_bytes();
  result.heap_sleeping = heap_in_use();
  for (auto& handle : handles) static_cast<void>(co_await handle);
  // getrusage's high-water mark can lag the statm sample taken while they slept.
  result.peak = std::max(peak_resident_bytes(), result.sleeping);
  co_return result;
}

rt::Task<void> nothing() { co_return; }

double measure_sleepers() {
  auto runtime = rt::Builder::multi_thread().worker_threads(kSleeperWorkers).build();
  // Let the workers start: their stacks belong to the baseline, not to the tasks.
  runtime.block_on(nothing());
  const auto r = runtime.block_on(spawn_sleepers(kSleepers));
  const double per_task = static_cast<double>(r.peak - r.before) / kSleepers;
  std::printf(
      "sleepers n=%zu workers=%zu before_kib=%.0f sleeping_kib=%.0f peak_kib=%.0f "
      "bytes_per_task=%.0f (while sleeping: %.0f; heap in use: %.0f)\n",
      kSleepers, kSleeperWorkers, kib(r.before), kib(r.sleeping), kib(r.peak), per_task,
      static_cast<double>(r.sleeping - r.before) / kSleepers,
      static_cast<double>(r.heap_sleeping - r.heap_before) / kSleepers);
  return per_task;
}

// --- echo connections --------------------------------------------------------------------------

enum class Variant { frame4k, heap4k, lazy };

const char* name_of(Variant variant) {
  switch (variant) {
    case Variant::frame4k:
      return "frame4k";
    case Variant::heap4k:
      return "heap4k";
    case Variant::lazy:
      return "lazy";
  }
  return "?";
}

rt::Task<void> echo_frame_buffer(net::TcpStream stream) {
  std::array<std::byte, kBufferBytes> buffer;  // part of the coroutine frame
  for (;;) {
    auto received = co_await stream.read(buffer);
    if (!received || *received == 0) co_return;
    const std::span<const std::byte> data(buffer.data(), *received);
    if (!co_await stream.write_all(data)) co_return;
  }
}

rt::Task<void> echo_heap_buffer(net::TcpStream stream) {
  std::vector<std::byte> buffer(kBufferBytes);
  for (;;) {
    auto received = co_await stream.read(buffer);
    if (!received || *received == 0) co_return;
    const std::span<const std::byte> data(buffer.data(), *received);
    if (!co_await stream.write_all(data)) co_return;
  }
}

// Idle without a buffer (Tokio: readable().await, then try_read): the wait for data holds no
// buffer; once data is there a buffer is taken, filled without waiting, echoed and released.
rt::Task<void> echo_lazy_buffer(net::TcpStream stream) {
  for (;;) {
    if (!co_await stream.readable()) co_return;
    auto buffer = std::make_unique_for_overwrite<std::byte[]>(kBufferBytes);
    const auto received = stream.try_read(std::span(buffer.get(), kBufferBytes));
    if (!received) {
      if (received.error() == std::errc::operation_would_block) continue;
      co_return;
    }
    if (*received == 0) co_return;
    const std::span<const std::byte> data(buffer.get(), *received);
    if (!co_await stream.write_all(data)) co_return;
  }
}

rt::Task<void> serve(net::TcpListener listener, Variant variant) {
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      co_await rt::sleep(10ms);
      continue;
    }
    static_cast<void>(accepted->first.set_nodelay(true));
    auto& stream = accepted->first;
    switch (variant) {
      case Variant::frame4k:
        static_cast<void>(rt::spawn(echo_frame_buffer, std::move(stream)));
        break;
      case Variant::heap4k:
        static_cast<void>(rt::spawn(echo_heap_buffer, std::move(stream)));
        break;
      case Variant::lazy:
        static_cast<void>(rt::spawn(echo_lazy_buffer, std::move(stream)));
        break;
    }
  }
}

// Binds on a runtime thread (the listener registers with that runtime's driver) and leaves the
// accept loop running as a task of its own.
rt::Task<net::SocketAddr> start_server(Variant variant, std::uint16_t port = 0) {
  auto listener =
      net::TcpListener::bind(net::SocketAddr::ipv4_loopback(port), {.backlog = 4096});
  if (!listener) {
    std::fprintf(stderr, "memory_bench: bind: %s\n", listener.error().message().c_str());
    std::exit(1);
  }
  const auto address = listener->local_addr();
  static_cast<void>(rt::spawn(serve(std::move(*listener), variant)));
  co_return *address;
}

// A blocking client connection that echoes one line; -1 on failure.
int connect_and_echo(const net::SocketAddr& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (::connect(fd, address.native(), address.native_size()) != 0 ||
      ::send(fd, kLine.data(), kLine.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kLine.size())) {
    ::close(fd);
    return -1;
  }
  std::array<char, 64> reply;
  std::size_t got = 0;
  while (got < kLine.size()) {
    const ssize_t n = ::recv(fd, reply.data() + got, reply.size() - got, 0);
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    got += static_cast<std::size_t>(n);
  }
  return fd;
}

// Descriptors this process may have: the soft limit raised to the hard one.
rlim_t raise_descriptor_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

// Two descriptors per connection (client and server end, both in this process), and a margin
// for the runtime's own (epoll, eventfd, listener) and the standard streams.
std::size_t connections_allowed() {
  constexpr std::size_t kSpare = 32;
  const rlim_t limit = raise_descriptor_limit();
  if (limit == RLIM_INFINITY) return kConnections;
  const std::size_t fit = limit > 2 * kSpare ? (static_cast<std::size_t>(limit) - kSpare) / 2 : 0;
  return std::min(kConnections, fit);
}

double measure_echo(Variant variant) {
  const std::size_t count = connections_allowed();
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  const net::SocketAddr address = runtime.block_on(start_server(variant));
  std::vector<int> clients;
  clients.reserve(count);

  // Warm-up (as conn_hold.py): one echoed line on a connection that is then closed.
  if (const int warm = connect_and_echo(address); warm >= 0) ::close(warm);
  std::this_thread::sleep_for(500ms);
  const long idle = resident_bytes();
  const long heap_idle = heap_in_use();

  std::size_t ok = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const int fd = connect_and_echo(address);
    if (fd < 0) continue;
    clients.push_back(fd);
    ++ok;
  }
  std::this_thread::sleep_for(1s);
  const long held = resident_bytes();
  const long heap_held = heap_in_use();
  // The server still answers on a held connection.
  bool alive = false;
  if (!clients.empty()) {
    alive = ::send(clients[0], kLine.data(), kLine.size(), MSG_NOSIGNAL) > 0;
    std::array<char, 64> reply;
    alive = alive && ::recv(clients[0], reply.data(), reply.size(), 0) > 0;
  }
  for (const int fd : clients) ::close(fd);

  const double conns = static_cast<double>(std::max<std::size_t>(ok, 1));
  const double per_conn = static_cast<double>(held - idle) / conns;
  std::printf(
      "echo variant=%s n=%zu ok=%zu alive=%d idle_kib=%.0f held_kib=%.0f "
      "bytes_per_conn=%.0f (heap in use: %.0f)%s\n",
      name_of(variant), count, ok, alive ? 1 : 0, kib(idle), kib(held), per_conn,
      static_cast<double>(heap_held - heap_idle) / conns,
      count < kConnections ? " (n reduced: RLIMIT_NOFILE hard limit)" : "");
  return per_conn;
}

// --- driver ------------------------------------------------------------------------------------

// Runs `measure` in a fresh child process (so no memory freed by an earlier measurement is
// reused) and reads back its figure through a pipe. Called before this process has threads.
template <class F>
std::optional<double> isolated(F measure) {
  int ends[2];
  if (::pipe(ends) != 0) return std::nullopt;
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(ends[0]);
    const double value = measure();
    std::fflush(stdout);
    [[maybe_unused]] const ssize_t n = ::write(ends[1], &value, sizeof value);
    ::_exit(0);
  }
  ::close(ends[1]);
  double value = 0;
  const bool got = child > 0 && ::read(ends[0], &value, sizeof value) == sizeof value;
  ::close(ends[0]);
  int status = 0;
  if (child > 0) ::waitpid(child, &status, 0);
  if (!got) return std::nullopt;
  return value;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void report(const char* what, const std::vector<double>& values) {
  if (values.empty()) {
    std::printf("%-34s failed\n", what);
    return;
  }
  std::string all;
  for (const double v : values) all += (all.empty() ? "" : ", ") + std::to_string(std::lround(v));
  std::printf("%-34s %6ld   (%s)\n", what, std::lround(median(values)), all.c_str());
}

}  // namespace

// --serve: only the echo server, on 127.0.0.1:PORT with one worker, until killed; so that
// bench/conn_hold.py measures it from outside, exactly as it measures tokio_echo (bench/run echo).
int serve_only(const char* variant_name, const char* port_text) {
  std::optional<Variant> variant;
  for (const Variant v : {Variant::frame4k, Variant::heap4k, Variant::lazy}) {
    if (std::string_view(variant_name) == name_of(v)) variant = v;
  }
  const int port = std::atoi(port_text);
  if (!variant || port <= 0 || port > 65535) {
    std::fprintf(stderr, "usage: memory_bench --serve frame4k|heap4k|lazy PORT\n");
    return 2;
  }
  raise_descriptor_limit();
  auto runtime = rt::Builder::multi_thread().worker_threads(1).build();
  const auto address = runtime.block_on(start_server(*variant, static_cast<std::uint16_t>(port)));
  std::fprintf(stderr, "memory_bench: %s echo server on port %u\n", name_of(*variant),
               static_cast<unsigned>(address.port()));
  for (;;) ::pause();
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "--serve") return serve_only(argv[2], argv[3]);
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  std::vector<double> sleepers;
  std::array<std::vector<double>, 3> echo;
  constexpr std::array kVariants = {Variant::frame4k, Variant::heap4k, Variant::lazy};
  for (int rep = 0; rep < reps; ++rep) {
    if (auto v = isolated(measure_sleepers)) sleepers.push_back(*v);
    for (std::size_t i = 0; i < kVariants.size(); ++i) {
      if (auto v = isolated([variant = kVariants[i]] { return measure_echo(variant); })) {
        echo[i].push_back(*v);
      }
    }
  }
  std::printf("\nmedian over %d runs (each run: a fresh process)    bytes\n", reps);
  report("per sleeping task", sleepers);
  report("per idle conn, 4 KiB frame buffer", echo[0]);
  report("per idle conn, 4 KiB heap buffer", echo[1]);
  report("per idle conn, no buffer when idle", echo[2]);
  return 0;
}
