// Mixing both: a request that fetches a body over the network (async), hashes it (CPU, on the
// blocking pool) and stores the digest over the network (async). Each phase runs where it
// belongs: the thread names show it.
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

namespace net = rt::net;
constexpr std::size_t kBodyBytes = 1 << 20;

// The origin: sends kBodyBytes to its one client and closes.
rt::Task<void> origin(net::TcpListener listener) {
  auto accepted = co_await listener.accept();
  if (!accepted) co_return;
  const std::vector<std::byte> body(kBodyBytes, std::byte{'b'});
  static_cast<void>(co_await accepted->first.write_all(body));
}

// The store: reads what its one client sends until it closes; returns how many bytes.
rt::Task<std::size_t> store(net::TcpListener listener) {
  auto accepted = co_await listener.accept();
  if (!accepted) co_return 0;
  std::array<std::byte, 4096> buffer;
  std::size_t total = 0;
  for (;;) {
    auto received = co_await accepted->first.read(buffer);
    if (!received || *received == 0) co_return total;
    total += *received;
  }
}

rt::Task<std::vector<std::byte>> fetch(net::SocketAddr from) {
  std::vector<std::byte> body;
  auto stream = co_await net::TcpStream::connect(from);
  if (!stream) co_return body;
  std::array<std::byte, 64 * 1024> buffer;
  for (;;) {
    auto received = co_await stream->read(buffer);
    if (!received || *received == 0) co_return body;
    body.insert(body.end(), buffer.begin(), buffer.begin() + *received);
  }
}

std::string sha256_hex(const std::vector<std::byte>& body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest.data(), &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 15];
  }
  return hex;
}

rt::Task<bool> put(net::SocketAddr to, std::string digest) {
  auto stream = co_await net::TcpStream::connect(to);
  if (!stream) co_return false;
  auto written = co_await stream->write_all(std::as_bytes(std::span(digest)));
  co_return static_cast<bool>(written);
}

rt::Task<void> run() {
  auto origin_listener = net::TcpListener::bind(net::SocketAddr::ipv4_loopback(0));
  auto store_listener = net::TcpListener::bind(net::SocketAddr::ipv4_loopback(0));
  if (!origin_listener || !store_listener) co_return;
  const auto origin_address = *origin_listener->local_addr();
  const auto store_address = *store_listener->local_addr();
  auto serving = rt::spawn(origin(std::move(*origin_listener)));
  auto storing = rt::spawn(store(std::move(*store_listener)));

  auto start = Clock::now();
  auto fetching = fetch(origin_address);
  auto body = co_await std::move(fetching);
  std::printf("  fetch (async):          %zu bytes in %.1f ms on %s\n", body.size(),
              ms_since(start), thread_name().c_str());

  start = Clock::now();
  auto hashing = rt::spawn_blocking(
      [body = std::move(body)] { return std::pair(sha256_hex(body), thread_name()); });
  auto [digest, hashed_on] = *co_await hashing;
  std::printf("  hash (spawn_blocking):  sha256 %.16s... in %.1f ms on %s\n", digest.c_str(),
              ms_since(start), hashed_on.c_str());

  start = Clock::now();
  auto putting = put(store_address, digest);
  const bool sent = co_await std::move(putting);
  const std::size_t stored = *co_await storing;
  std::printf("  store (async):          %s, %zu bytes stored in %.1f ms on %s\n",
              sent ? "sent" : "failed", stored, ms_since(start), thread_name().c_str());
  co_await serving;
}

}  // namespace

int mixing_both() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
