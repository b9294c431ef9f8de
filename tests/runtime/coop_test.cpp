// The cooperative budget: a task whose operations are always ready (a socket that always has
// data, a loop of consume_budget) is made to yield, so the other tasks on its worker keep
// running, and each such yield is counted in the runtime metrics. Every assertion is an ordering
// ("the other task ran N times before the busy one finished"), never a duration.
#include "brigade/runtime/coop.hpp"

#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "result_helpers.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;
using net::SocketAddr;
using net::TcpListener;
using net::TcpStream;
using namespace std::chrono_literals;
using brigade::testing::must;

namespace {

std::uint64_t forced_yields() { return rt::Handle::current().metrics().budget_forced_yields; }

enum class Flavor { one_worker, current_thread };

std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return info.param == Flavor::one_worker ? "OneWorker" : "CurrentThread";
}

class CoopTest : public ::testing::TestWithParam<Flavor> {
 protected:
  // Everything on one thread: the busy task and the others compete for the same worker.
  rt::Runtime runtime_ = GetParam() == Flavor::one_worker
                             ? rt::Builder::multi_thread().worker_threads(1).build()
                             : rt::Builder::current_thread().build();
};

// Counts its turns on the worker until told to stop: each turn is one trip through the queue.
rt::Task<void> count_turns(const std::atomic<bool>* stop, std::atomic<int>* turns) {
  while (!stop->load()) {
    co_await rt::yield_now();
    turns->fetch_add(1);
  }
}

// ---- consume_budget directly -----------------------------------------------------------------

struct BudgetLoopOutcome {
  int turns_while_busy = 0;
  std::uint64_t forced_yields = 0;
};

rt::Task<void> consume_in_a_loop(int iterations, std::atomic<bool>* done,
                                 const std::atomic<int>* turns, int* turns_seen) {
  for (int i = 0; i < iterations; ++i) co_await rt::consume_budget();
  *turns_seen = turns->load();
  done->store(true);
}

rt::Task<BudgetLoopOutcome> budget_loop(int iterations) {
  BudgetLoopOutcome out;
  const auto before = forced_yields();
  std::atomic<bool> done{false};
  std::atomic<int> turns{0};
  auto other = rt::spawn(count_turns(&done, &turns));
  auto busy = rt::spawn(consume_in_a_loop(iterations, &done, &turns, &out.turns_while_busy));
  (co_await busy).value();
  (co_await other).value();
  out.forced_yields = forced_yields() - before;
  co_return out;
}

TEST_P(CoopTest, ConsumeBudgetLetsOtherTasksRun) {
  constexpr int kIterations = 1000;
  const auto out = runtime_.block_on(budget_loop(kIterations));
  // The loop never waits for anything, so only the budget can make it yield: once per budget's
  // worth of iterations (a run spends the budget, then the next call yields).
  const int yields = kIterations / (rt::detail::coop::kTaskBudget + 1);
  ASSERT_GT(yields, 0);
  EXPECT_GE(out.forced_yields, static_cast<std::uint64_t>(yields));
  EXPECT_GE(out.turns_while_busy, yields - 1);
  EXPECT_GT(out.turns_while_busy, 0);
}

rt::Task<int> consume_few(int iterations) {
  for (int i = 0; i < iterations; ++i) co_await rt::consume_budget();
  co_return iterations;
}

rt::Task<std::uint64_t> short_loop_never_yields() {
  const auto before = forced_yields();
  // Within one budget: consume_budget completes at once every time.
  const int done = co_await consume_few(rt::detail::coop::kTaskBudget / 2);
  if (done != rt::detail::coop::kTaskBudget / 2) throw std::logic_error("wrong count");
  co_return forced_yields() - before;
}

TEST_P(CoopTest, ConsumeBudgetWithinTheBudgetDoesNotYield) {
  EXPECT_EQ(runtime_.block_on(short_loop_never_yields()), 0u);
}

// ---- a reader whose socket always has data ---------------------------------------------------

struct BusyReaderOutcome {
  std::size_t available = 0;  // bytes queued for the reader before it started
  std::size_t reads = 0;
  std::size_t received = 0;
  int turns_while_reading = 0;
  std::uint64_t forced_yields = 0;
};

// Reads exactly `total` bytes, `chunk` at a time. All of them are already in the socket's
// receive queue, so no read ever has to wait: only the budget can make this task yield.
rt::Task<void> drain(TcpStream* stream, std::size_t total, std::size_t chunk,
                     std::atomic<bool>* done, const std::atomic<int>* turns,
                     BusyReaderOutcome* out) {
  std::vector<std::byte> buffer(chunk);
  while (out->received < total) {
    const std::size_t want = std::min(chunk, total - out->received);
    const auto n = must(co_await stream->read(std::span(buffer.data(), want)), "read");
    if (n == 0) throw std::runtime_error("unexpected end of stream");
    out->received += n;
    ++out->reads;
  }
  out->turns_while_reading = turns->load();
  done->store(true);
}

std::size_t queued_bytes(int fd) {
  int available = 0;
  if (::ioctl(fd, FIONREAD, &available) != 0)
    throw std::system_error(errno, std::generic_category());
  return static_cast<std::size_t>(available);
}

// Sent but not yet acknowledged by the peer: the send queue less what was never sent.
std::size_t unacknowledged_bytes(int fd) {
  int queued = 0;
  int unsent = 0;
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || ::ioctl(fd, SIOCOUTQNSD, &unsent) != 0) {
    throw std::system_error(errno, std::generic_category(), "SIOCOUTQ");
  }
  return static_cast<std::size_t>(queued - unsent);
}

rt::Task<BusyReaderOutcome> busy_reader() {
  BusyReaderOutcome out;
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  auto client = must(co_await TcpStream::connect(must(listener.local_addr(), "addr")), "connect");
  auto server = std::move(must(co_await listener.accept(), "accept").first);

  // Fill the connection: send from the client until the kernel takes no more.
  const std::vector<std::byte> block(1 << 16, std::byte{0x42});
  for (;;) {
    const ssize_t sent =
        ::send(client.native_handle(), block.data(), block.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "send");
    }
  }
  // Once the server's kernel acknowledged everything sent, it is all in the receive queue:
  // readable without waiting.
  while (unacknowledged_bytes(client.native_handle()) != 0) co_await rt::yield_now();
  out.available = queued_bytes(server.native_handle());
  if (out.available == 0) throw std::runtime_error("nothing queued");
  // About 4096 reads: far more than one budget.
  const std::size_t chunk = std::max<std::size_t>(1, out.available / 4096);

  const auto before = forced_yields();
  std::atomic<bool> done{false};
  std::atomic<int> turns{0};
  auto other = rt::spawn(count_turns(&done, &turns));
  auto reader = rt::spawn(drain(&server, out.available, chunk, &done, &turns, &out));
  (co_await reader).value();
  (co_await other).value();
  out.forced_yields = forced_yields() - before;
  co_return out;
}

TEST_P(CoopTest, BusyReaderYieldsToOtherTasksOnItsWorker) {
  const auto out = runtime_.block_on(busy_reader());
  ASSERT_EQ(out.received, out.available);
  ASSERT_GE(out.reads, 4096u);
  // Without the budget the reader would run to the end in one go and the other task would not
  // get a single turn. With it, the reader yields every budget's worth of reads.
  const auto expected_yields =
      static_cast<int>(out.reads / (2 * (rt::detail::coop::kTaskBudget + 1)));
  EXPECT_GE(out.forced_yields, static_cast<std::uint64_t>(expected_yields));
  EXPECT_GT(out.forced_yields, 0u);
  EXPECT_GE(out.turns_while_reading, expected_yields);
}

// ---- a reader fed continuously, and a task sleeping in a loop ---------------------------------

// Counts sleeps of 1 ms until it has done `rounds` of them.
rt::Task<void> sleep_in_a_loop(int rounds, std::atomic<int>* completed) {
  for (int i = 0; i < rounds; ++i) {
    co_await rt::sleep(1ms);
    completed->fetch_add(1);
  }
}

struct FedReaderOutcome {
  std::size_t received = 0;
  int sleeps_done_when_reader_stopped = 0;
  bool reader_hit_the_cap = false;
};

// Reads small pieces (slower than the peer writes, so data is nearly always waiting) until the
// sleeper is done, or `cap` bytes arrived.
rt::Task<void> read_until_sleeper_done(TcpStream stream, std::size_t cap,
                                       const std::atomic<int>* sleeps, int rounds,
                                       FedReaderOutcome* out) {
  std::array<std::byte, 64> buffer;
  while (sleeps->load() < rounds) {
    if (out->received >= cap) {
      out->reader_hit_the_cap = true;
      break;
    }
    const auto n = must(co_await stream.read(buffer), "read");
    if (n == 0) throw std::runtime_error("unexpected end of stream");
    out->received += n;
  }
  out->sleeps_done_when_reader_stopped = sleeps->load();
}

rt::Task<FedReaderOutcome> fed_reader(SocketAddr peer, int rounds, std::size_t cap) {
  FedReaderOutcome out;
  auto stream = must(co_await TcpStream::connect(peer), "connect");
  std::atomic<int> sleeps{0};
  auto sleeper = rt::spawn(sleep_in_a_loop(rounds, &sleeps));
  auto reader = rt::spawn(read_until_sleeper_done(std::move(stream), cap, &sleeps, rounds, &out));
  (co_await reader).value();
  (co_await sleeper).value();
  co_return out;
}

TEST_P(CoopTest, SleepingTaskKeepsTicksWhileReaderAlwaysHasData) {
  // The peer: a plain thread that writes as fast as the connection takes it, until the reader's
  // side is closed.
  const int listening = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listening, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listening, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listening, 1), 0);
  socklen_t size = sizeof address;
  ASSERT_EQ(::getsockname(listening, reinterpret_cast<sockaddr*>(&address), &size), 0);
  std::thread writer([listening] {
    const int fd = ::accept(listening, nullptr, nullptr);
    if (fd < 0) return;
    const std::vector<char> block(1 << 18, 'z');
    while (::send(fd, block.data(), block.size(), MSG_NOSIGNAL) > 0) {
    }
    ::close(fd);
  });

  constexpr int kRounds = 10;
  // About 5 MB arrive during the sleeps (the driver is polled every few thousand reads).
  constexpr std::size_t kCap = std::size_t{64} << 20;
  FedReaderOutcome out;
  try {
    out = runtime_.block_on(
        fed_reader(SocketAddr::ipv4_loopback(ntohs(address.sin_port)), kRounds, kCap));
  } catch (...) {
    ::shutdown(listening, SHUT_RDWR);  // unblocks the writer's accept if it never connected
    writer.join();
    ::close(listening);
    throw;
  }
  writer.join();  // the stream is closed: its sends fail now
  ::close(listening);

  EXPECT_FALSE(out.reader_hit_the_cap)
      << "the sleeper starved: " << out.sleeps_done_when_reader_stopped << " of " << kRounds
      << " sleeps after " << out.received << " bytes";
  EXPECT_EQ(out.sleeps_done_when_reader_stopped, kRounds);
  EXPECT_GT(out.received, 0u);
  RecordProperty("bytes_read_while_sleeping", std::to_string(out.received));
}

INSTANTIATE_TEST_SUITE_P(Flavors, CoopTest,
                         ::testing::Values(Flavor::one_worker, Flavor::current_thread),
                         flavor_name);

}  // namespace
