#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <system_error>
#include <thread>
#include <utility>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/server/router.hpp"
#include "brigade/server/server.hpp"

// The in-process server the server tests talk to over loopback (server_test, tls_test).
namespace brigade::testing {

// Set on the listening socket before the server runs on it (socket options a test needs).
using PrepareListener = std::function<void(int fd)>;

// Binds 127.0.0.1:0, says which port through `bound`, and runs `server` on it.
inline runtime::Task<void> serve_on_free_port(server::Server* server,
                                              std::promise<std::uint16_t>* bound,
                                              PrepareListener prepare = {}) {
  auto listener = runtime::net::TcpListener::bind(*runtime::net::SocketAddr::parse("127.0.0.1:0"));
  if (!listener) {
    bound->set_exception(std::make_exception_ptr(std::system_error(listener.error(), "bind")));
    co_return;
  }
  if (prepare) prepare(listener->native_handle());
  bound->set_value(listener->local_addr()->port());
  co_await server->run(std::move(*listener));
}

// A Server on its own runtime (two workers) on a free loopback port, run from a thread of its
// own. Destroying it shuts the server down and waits for run() to return.
class ServerUnderTest {
 public:
  ServerUnderTest(server::ServerOptions options, server::Router router,
                  PrepareListener prepare = {})
      : runtime_(runtime::Builder::multi_thread().worker_threads(2).build()),
        server_(std::move(options), std::move(router)) {
    std::promise<std::uint16_t> bound;
    auto port = bound.get_future();
    thread_ = std::thread([this, &bound, &prepare] {
      try {
        runtime_.block_on(serve_on_free_port(&server_, &bound, std::move(prepare)));
      } catch (...) {
        failure_ = std::current_exception();
      }
      returned_.store(true);
    });
    port_ = port.get();
  }
  ServerUnderTest(const ServerUnderTest&) = delete;
  ServerUnderTest& operator=(const ServerUnderTest&) = delete;
  ~ServerUnderTest() { stop(); }

  std::uint16_t port() const noexcept { return port_; }
  server::Server& server() noexcept { return server_; }
  bool returned() const noexcept { return returned_.load(); }

  // Shuts down and waits for run() to return (rethrowing what it threw).
  void stop() {
    if (!thread_.joinable()) return;
    server_.shutdown();
    join();
  }
  // Waits for run() to return after a shutdown begun elsewhere.
  void join() {
    thread_.join();
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  }

 private:
  runtime::Runtime runtime_;
  server::Server server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::exception_ptr failure_;
  std::atomic<bool> returned_{false};
};

// Polls `pred` every 2 ms until it holds (true) or `limit` passes (false).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace brigade::testing
