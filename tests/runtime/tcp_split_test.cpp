// TcpStream::into_split over real loopback connections: a reader task and a writer task on the
// owned halves of each of 200 connections, on both ends, with every byte checked; and the
// connection's lifetime: it stays open while either half lives, and dropping the write half
// shuts down the write side, as in Tokio.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/mpsc.hpp"
#include "brigade/runtime/timeout.hpp"
#include "result_helpers.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;
using net::SocketAddr;
using net::TcpListener;
using net::TcpStream;
using namespace std::chrono_literals;
using brigade::testing::must;
using brigade::testing::joined;
using brigade::testing::unless_hung;

namespace {

std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    std::uint32_t x = static_cast<std::uint32_t>(i) * 0x9E3779B1u + seed * 0x85EBCA6Bu;
    x ^= x >> 15;
    bytes[i] = static_cast<std::byte>(x * 0x2C1B3C6Du);
  }
  return bytes;
}

using Chunk = std::vector<std::byte>;

// The server's reader task: forwards what it reads to the writer task, until end of stream.
rt::Task<void> forward_reads(net::OwnedReadHalf reader, rt::mpsc::Sender<Chunk> out) {
  Chunk buffer(4096);
  for (;;) {
    const auto n = must(co_await reader.read(buffer), "server read");
    if (n == 0) co_return;  // dropping `out` ends the writer's loop
    auto sent =
        co_await out.send(Chunk(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n)));
    if (!sent) throw std::runtime_error("the writer task is gone");
  }
}

// The server's writer task: writes back what the reader forwards. Dropping the write half at the
// end shuts down the write side, which is how the client learns the echo is complete.
rt::Task<std::size_t> write_forwarded(net::OwnedWriteHalf writer, rt::mpsc::Receiver<Chunk> in) {
  std::size_t total = 0;
  while (std::optional<Chunk> chunk = co_await in.recv()) {
    must(co_await writer.write_all(*chunk), "server write");
    total += chunk->size();
  }
  co_return total;
}

rt::Task<std::size_t> split_echo_server(TcpListener listener, std::size_t connections) {
  std::vector<rt::JoinHandle<std::size_t>> writers;
  std::vector<rt::JoinHandle<void>> readers;
  for (std::size_t i = 0; i < connections; ++i) {
    auto [stream, peer] = must(co_await listener.accept(), "accept");
    auto [read_half, write_half] = std::move(stream).into_split();
    auto [tx, rx] = rt::mpsc::channel<Chunk>(4);
    readers.push_back(rt::spawn(forward_reads(std::move(read_half), std::move(tx))));
    writers.push_back(rt::spawn(write_forwarded(std::move(write_half), std::move(rx))));
  }
  std::size_t total = 0;
  for (auto& reader : readers) joined(co_await reader, "reader task");
  for (auto& writer : writers) total += joined(co_await writer, "writer task");
  co_return total;
}

// The client's writer task: sends the data in pieces, then drops its half (shutdown(write)).
rt::Task<void> send_all(net::OwnedWriteHalf writer, std::shared_ptr<const Chunk> data) {
  for (std::size_t offset = 0; offset < data->size();) {
    const std::size_t piece = std::min<std::size_t>(data->size() - offset, 1 + offset % 7000);
    offset += must(co_await writer.write(std::span(data->data() + offset, piece)), "client write");
  }
}

// The client: a writer task on one half while this task reads the echo on the other.
rt::Task<bool> split_echo_client(SocketAddr address, std::uint32_t seed) {
  auto stream = must(co_await TcpStream::connect(address), "connect");
  auto [read_half, write_half] = std::move(stream).into_split();
  auto data = std::make_shared<const Chunk>(pattern(20000 + seed * 61, seed));
  auto writer = rt::spawn(send_all(std::move(write_half), data));
  Chunk received;
  Chunk buffer(8192);
  for (;;) {
    const auto n = must(co_await read_half.read(buffer), "client read");
    if (n == 0) break;
    received.insert(received.end(), buffer.begin(),
                    buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  joined(co_await writer, "client writer task");
  co_return received == *data;
}

rt::Task<std::size_t> echo_over_split_streams(std::size_t connections) {
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  const auto address = must(listener.local_addr(), "local_addr");
  auto server = rt::spawn(split_echo_server(std::move(listener), connections));
  std::vector<rt::JoinHandle<bool>> clients;
  for (std::size_t i = 0; i < connections; ++i) {
    clients.push_back(rt::spawn(split_echo_client(address, static_cast<std::uint32_t>(i))));
  }
  std::size_t intact = 0;
  for (auto& client : clients) {
    if (joined(unless_hung(co_await rt::timeout(60s, std::move(client)), "client"), "client")) {
      ++intact;
    }
  }
  joined(unless_hung(co_await rt::timeout(60s, std::move(server)), "server"), "server");
  co_return intact;
}

TEST(TcpSplit, ReaderAndWriterTasksOnTheHalvesOf200Connections) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  EXPECT_EQ(runtime.block_on(echo_over_split_streams(200)), 200u);
}

struct LifetimeOutcome {
  std::size_t registered_with_halves = 0;
  std::string read_after_read_half_dropped;
  std::size_t read_after_write_half_dropped = 99;
  std::size_t registered_after = 99;
};

rt::Task<LifetimeOutcome> halves_keep_the_connection() {
  LifetimeOutcome out;
  auto listener = must(TcpListener::bind(SocketAddr::ipv4_loopback(0)), "bind");
  auto client = must(co_await TcpStream::connect(must(listener.local_addr(), "addr")), "connect");
  auto server = std::move(must(co_await listener.accept(), "accept").first);
  const std::size_t before = rt::Handle::current().metrics().io_registered;
  {
    auto [read_half, write_half] = std::move(server).into_split();
    out.registered_with_halves = rt::Handle::current().metrics().io_registered - before;
    { auto gone = std::move(read_half); }
    // The write half still owns the connection.
    const std::string text = "still open";
    must(co_await write_half.write_all(std::as_bytes(std::span(text.data(), text.size()))),
         "write");
    std::array<std::byte, 32> buffer;
    const auto n = must(co_await client.read(buffer), "read");
    out.read_after_read_half_dropped.assign(reinterpret_cast<const char*>(buffer.data()), n);
  }
  std::array<std::byte, 32> buffer;
  out.read_after_write_half_dropped = must(co_await client.read(buffer), "read at end");
  out.registered_after = before - rt::Handle::current().metrics().io_registered;
  co_return out;
}

TEST(TcpSplit, EitherHalfKeepsTheConnectionAndTheLastOneClosesIt) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  const auto out = runtime.block_on(halves_keep_the_connection());
  EXPECT_EQ(out.registered_with_halves, 0u);  // the halves share the one registration
  EXPECT_EQ(out.read_after_read_half_dropped, "still open");
  EXPECT_EQ(out.read_after_write_half_dropped, 0u);  // end of stream
  EXPECT_EQ(out.registered_after, 1u);               // deregistered once both halves were gone
}

}  // namespace
