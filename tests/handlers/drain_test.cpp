// Graceful shutdown as pooled keep-alive clients see it: from the signal on every answer says
// "Connection: close", an idle connection is closed with a FIN (over TLS, close_notify first) and
// never a reset, and a POST either gets its whole answer or is never sent. The real `brigade`
// binary, real signals, and Boost.Asio/Beast clients on blocking sockets (to see a reset apart
// from an orderly close), over plain TCP and over TLS.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <latch>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

// One POST /echo on `stream`; `written_at` is when its last byte was written.
template <class Stream>
beast::error_code post_on(Stream& stream, beast::flat_buffer& buffer, const std::string& body,
                          Response& response, std::chrono::steady_clock::time_point& written_at) {
  http::request<http::string_body> request{http::verb::post, "/echo", 11};
  request.set(http::field::host, "127.0.0.1");
  request.body() = body;
  request.prepare_payload();
  beast::error_code error;
  http::write(stream, request, error);
  written_at = std::chrono::steady_clock::now();
  if (error) return error;
  http::read(stream, buffer, response, error);
  return error;
}

// A blocking connection, as a pooled HTTP client holds one.
class PooledConnection {
 public:
  explicit PooledConnection(asio::io_context& io) : socket_(io) {}

  beast::error_code connect(std::uint16_t port) {
    beast::error_code error;
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
    return error;
  }

  // What a pool checks before it reuses a connection: whether the server has closed it (end of
  // stream or a reset waiting to be read).
  bool closed_by_server() {
    pollfd event{.fd = socket_.native_handle(), .events = POLLIN, .revents = 0};
    if (::poll(&event, 1, 0) == 0) return false;
    char byte;
    return ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
  }

  // Sends one POST /echo; on success, `response` holds the whole answer. `written_at`: when the
  // request was all written.
  beast::error_code post(const std::string& body, Response& response,
                         std::chrono::steady_clock::time_point& written_at) {
    return post_on(socket_, buffer_, body, response, written_at);
  }

  tcp::socket& socket() { return socket_; }

 private:
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// The same over TLS, as a pooled HTTPS client holds one (the test's certificate is not verified:
// what is tested is the close, not the identity).
class PooledTlsConnection {
 public:
  explicit PooledTlsConnection(asio::io_context& io)
      : context_(asio::ssl::context::tls_client), stream_(io, context_) {
    context_.set_verify_mode(asio::ssl::verify_none);
  }

  beast::error_code connect(std::uint16_t port) {
    beast::error_code error;
    socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
    if (error) return error;
    stream_.handshake(asio::ssl::stream_base::client, error);
    return error;
  }

  // Between requests a server sends nothing but its close (close_notify, then FIN): any byte or
  // end of stream waiting means the server has closed.
  bool closed_by_server() {
    pollfd event{.fd = socket().native_handle(), .events = POLLIN, .revents = 0};
    return ::poll(&event, 1, 0) != 0;
  }

  beast::error_code post(const std::string& body, Response& response,
                         std::chrono::steady_clock::time_point& written_at) {
    return post_on(stream_, buffer_, body, response, written_at);
  }

  // A TLS 1.3 KeyUpdate: a record that carries no request. The server reads it and has nothing
  // to answer.
  beast::error_code send_key_update() {
    if (SSL_key_update(stream_.native_handle(), SSL_KEY_UPDATE_NOT_REQUESTED) != 1) {
      return asio::error::operation_not_supported;
    }
    beast::error_code error;
    stream_.handshake(asio::ssl::stream_base::client, error);  // sends it
    return error;
  }

  asio::ssl::stream<tcp::socket>& stream() { return stream_; }
  tcp::socket& socket() { return stream_.next_layer(); }

 private:
  asio::ssl::context context_;
  asio::ssl::stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
};

// A self-signed certificate for localhost, made with the openssl command line.
class TestCertificate {
 public:
  TestCertificate() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "brigade-drain-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=localhost -keyout '" +
        key().string() + "' -out '" + cert().string() + "' 2>/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
  }
  ~TestCertificate() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path cert() const { return dir_ / "cert.pem"; }
  std::filesystem::path key() const { return dir_ / "key.pem"; }
  std::vector<std::string> flags() const {
    return {"--tls-cert", cert().string(), "--tls-key", key().string()};
  }

 private:
  std::filesystem::path dir_;
};

struct Tally {
  std::atomic<std::size_t> answered{0};
  std::atomic<std::size_t> answered_with_close{0};
  std::atomic<std::size_t> refused{0};
  std::atomic<std::size_t> raced_idle_close{0};
  // When SIGTERM was sent (steady clock, in its ticks); 0 before.
  std::atomic<std::chrono::steady_clock::rep> signalled_at{0};
  std::mutex mutex;
  std::vector<std::string> failures;  // guarded by mutex

  void fail(std::string what) {
    const std::lock_guard lock(mutex);
    failures.push_back(std::move(what));
  }
};

// How long the server keeps serving after SIGTERM before it closes idle connections.
constexpr auto kDrainDelay = 1s;
// How long, once it closes idle connections, the server still waits for the first request of a
// connection it accepted before (the server's kShutdownLinger).
constexpr auto kFirstRequestGrace = 1s;

// The one way any HTTP server may leave a written request unanswered, and RFC 9112 §9.3.1 leaves
// to the client: it closes a connection that is idle just as the client uses it. The server
// looks for input before it closes, so the request crossed the close (close_notify and FIN) only
// if its last byte was written after that look, and it meets the end of the stream before any
// byte of an answer. The look comes at the earliest `kDrainDelay` after the signal for a
// connection kept alive before it, and `kFirstRequestGrace` later for a connection that has not
// sent its first request yet: only a client starved of the CPU about that long can be there.
bool raced_the_idle_close(const Tally& tally, bool kept_alive,
                          std::chrono::steady_clock::time_point written_at,
                          const beast::error_code& error) {
  const auto signalled = tally.signalled_at.load();
  if (signalled == 0 || error != http::error::end_of_stream) return false;
  const std::chrono::steady_clock::time_point closed_at =
      std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(signalled)) +
      kDrainDelay + (kept_alive ? 0s : kFirstRequestGrace);
  return written_at >= closed_at;
}

// How many milliseconds after the signal `at` was (negative before it), for failure messages.
long long ms_after_signal(const Tally& tally, std::chrono::steady_clock::time_point at) {
  const auto signalled = tally.signalled_at.load();
  if (signalled == 0) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             at.time_since_epoch() - std::chrono::steady_clock::duration(signalled))
      .count();
}

// POSTs in a loop over kept-alive connections until the server refuses a new one. A request
// that was written must get its whole answer: a reset, an early end of stream or a wrong answer
// is a failure, except the race above.
template <class Connection>
void post_until_refused(std::uint16_t port, std::size_t id, std::latch& warmed_up, Tally& tally) {
  asio::io_context io;
  std::optional<Connection> connection;
  bool counted_down = false;
  bool kept_alive = false;  // the connection has answered before and stayed open
  for (std::size_t n = 0;; ++n) {
    if (connection && connection->closed_by_server()) connection.reset();
    if (!connection) {
      kept_alive = false;
      connection.emplace(io);
      const beast::error_code error = connection->connect(port);
      if (error == asio::error::connection_refused) {
        tally.refused.fetch_add(1);
        break;
      }
      if (error) {
        tally.fail("connect: " + error.message());
        break;
      }
    }
    const std::string body = "client " + std::to_string(id) + " post " + std::to_string(n);
    Response response;
    std::chrono::steady_clock::time_point written_at;
    const beast::error_code error = connection->post(body, response, written_at);
    if (error && raced_the_idle_close(tally, kept_alive, written_at, error)) {
      tally.raced_idle_close.fetch_add(1);
      connection.reset();  // as a client does: its next connection is refused, which ends this
      continue;
    }
    if (error) {
      tally.fail("POST " + std::to_string(n) + " of client " + std::to_string(id) + " on a " +
                 (kept_alive ? "kept-alive" : "new") + " connection, written " +
                 std::to_string(ms_after_signal(tally, written_at)) +
                 " ms after the signal, got no whole answer: " + error.message());
      break;
    }
    if (response.result_int() != 200 || response.body() != body) {
      tally.fail("wrong answer: " + std::to_string(response.result_int()) + " " + response.body());
      break;
    }
    tally.answered.fetch_add(1);
    kept_alive = response.keep_alive();
    if (!kept_alive) {
      tally.answered_with_close.fetch_add(1);
      connection.reset();
    }
    if (n == 3 && !counted_down) {
      warmed_up.count_down();
      counted_down = true;
    }
  }
  if (!counted_down) warmed_up.count_down();
}

// `clients` clients POST in a loop over kept-alive connections across a SIGTERM with a drain
// delay of 1 s: none loses a request, and the server exits 0.
template <class Connection>
void post_across_sigterm(std::size_t clients, std::vector<std::string> flags) {
  flags.insert(flags.end(), {"--drain-delay", "1s", "--grace-period", "10s"});
  static_assert(kDrainDelay == 1s, "the flag above");
  RunningBrigade server(std::move(flags));
  Tally tally;
  std::latch warmed_up(static_cast<std::ptrdiff_t>(clients));
  std::vector<std::jthread> threads;
  threads.reserve(clients);
  for (std::size_t id = 0; id < clients; ++id) {
    threads.emplace_back(post_until_refused<Connection>, server.port(), id, std::ref(warmed_up),
                         std::ref(tally));
  }
  warmed_up.wait();  // every client has kept-alive connections going
  const std::size_t before_signal = tally.answered.load();
  tally.signalled_at = std::chrono::steady_clock::now().time_since_epoch().count();
  server.process().signal(SIGTERM);
  threads.clear();  // joins: each ends when a new connection is refused
  EXPECT_EQ(server.process().wait_exit_code(kBrigadeExitTimeout), 0)
      << server.process().stderr_text();

  const std::lock_guard lock(tally.mutex);
  EXPECT_TRUE(tally.failures.empty())
      << tally.failures.size() << " failures, the first: " << tally.failures.front()
      << "\nthe server's log:\n"
      << server.process().stderr_text();
  EXPECT_EQ(tally.refused.load(), clients);
  // The loop went on across the signal and the drain delay, and the server said close.
  EXPECT_GT(tally.answered.load(), before_signal + clients);
  EXPECT_GE(tally.answered_with_close.load(), clients);
  // Only a client starved for the whole drain delay can race the idle close: a few on a loaded
  // machine, never most of them (that would be the server dropping requests).
  EXPECT_LE(tally.raced_idle_close.load(), clients / 20);
}

TEST(Drain, KeepAliveClientsPostingAcrossSigtermLoseNoRequest) {
  post_across_sigterm<PooledConnection>(200, {});
}

TEST(Drain, KeepAliveTlsClientsPostingAcrossSigtermLoseNoRequest) {
  const TestCertificate certificate;
  post_across_sigterm<PooledTlsConnection>(200, certificate.flags());
}

// From the signal on, during drain_delay, an answer on a kept-alive connection says close, and
// a new connection is still served (also with close).
TEST(Drain, EveryAnswerSaysCloseFromTheSignalOn) {
  RunningBrigade server({"--drain-delay", "3s"});
  Client kept(server.port());
  EXPECT_TRUE(kept.get("/").keep_alive());
  server.process().signal(SIGTERM);
  ASSERT_TRUE(server.process().wait_for_stderr_line("shutting down", 5s));

  const Response answer = kept.get("/");
  EXPECT_EQ(answer.result_int(), 200);
  EXPECT_FALSE(answer.keep_alive());
  EXPECT_TRUE(kept.closed_by_peer(5s));

  Client fresh(server.port());
  const Response readiness = fresh.get("/readyz");
  EXPECT_EQ(readiness.result_int(), 503);
  EXPECT_FALSE(readiness.keep_alive());
  EXPECT_EQ(server.process().wait_exit_code(kBrigadeExitTimeout), 0)
      << server.process().stderr_text();
}

// An idle kept-alive connection is closed at shutdown with a FIN, and a request its client
// writes after that (it had not seen the FIN yet) is read and dropped, not answered with a reset.
TEST(Drain, IdleConnectionIsHalfClosedAndALateRequestGetsNoReset) {
  RunningBrigade server;
  asio::io_context io;
  PooledConnection connection(io);
  ASSERT_FALSE(connection.connect(server.port()));
  Response first;
  std::chrono::steady_clock::time_point written_at;
  ASSERT_FALSE(connection.post("before", first, written_at));
  ASSERT_TRUE(first.keep_alive());

  server.process().signal(SIGTERM);
  // The FIN: an orderly end of stream.
  char byte;
  beast::error_code error;
  connection.socket().read_some(asio::buffer(&byte, 1), error);
  ASSERT_EQ(error, asio::error::eof) << error.message();

  // The late request: the server still reads (it lingers), so neither it nor a second write
  // meets a reset (after the FIN a read would report end of stream either way; a reset shows
  // as the socket's error and fails the next write).
  const std::string late = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nlate";
  asio::write(connection.socket(), asio::buffer(late), error);
  EXPECT_FALSE(error) << error.message();
  asio::write(connection.socket(), asio::buffer(late), error);
  EXPECT_FALSE(error) << error.message();
  int socket_error = 0;
  socklen_t size = sizeof socket_error;
  ::getsockopt(connection.socket().native_handle(), SOL_SOCKET, SO_ERROR, &socket_error, &size);
  EXPECT_EQ(socket_error, 0) << std::strerror(socket_error);
  connection.socket().close();
  EXPECT_EQ(server.process().wait_exit_code(kBrigadeExitTimeout), 0)
      << server.process().stderr_text();
}

// The same over TLS: the idle connection's task writes close_notify, then the FIN, and reads what
// the client still sends. Before, an idle TLS connection was closed outright, and a late request
// met a reset.
TEST(Drain, IdleTlsConnectionSaysCloseNotifyAndALateRequestGetsNoReset) {
  const TestCertificate certificate;
  RunningBrigade server(certificate.flags());
  asio::io_context io;
  PooledTlsConnection connection(io);
  ASSERT_FALSE(connection.connect(server.port()));
  Response first;
  std::chrono::steady_clock::time_point written_at;
  ASSERT_FALSE(connection.post("before", first, written_at));
  ASSERT_TRUE(first.keep_alive());

  server.process().signal(SIGTERM);
  // close_notify: an orderly end of the TLS stream (a FIN alone would be stream_truncated).
  char byte;
  beast::error_code error;
  connection.stream().read_some(asio::buffer(&byte, 1), error);
  ASSERT_EQ(error, asio::error::eof) << error.message();

  // The late request, as the bytes a client that had not seen the close yet would send: the
  // server reads and drops them until its linger ends, and exits.
  const std::string late(512, 'x');
  asio::write(connection.socket(), asio::buffer(late), error);
  EXPECT_FALSE(error) << error.message();
  EXPECT_EQ(server.process().wait_exit_code(kBrigadeExitTimeout), 0)
      << server.process().stderr_text();
  // Once the server is gone, whatever it answered to those bytes has arrived: a reset (a socket
  // closed with unread input) would show as the socket's error.
  int socket_error = 0;
  socklen_t size = sizeof socket_error;
  ::getsockopt(connection.socket().native_handle(), SOL_SOCKET, SO_ERROR, &socket_error, &size);
  EXPECT_EQ(socket_error, 0) << std::strerror(socket_error);
}

// Waits until the server's port refuses connections: its listener has closed.
bool wait_until_refused(std::uint16_t port, std::chrono::seconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  asio::io_context io;
  while (std::chrono::steady_clock::now() < give_up) {
    tcp::socket probe(io);
    beast::error_code error;
    probe.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
    if (error == asio::error::connection_refused) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// A new connection that has sent bytes which carry no request (here a TLS KeyUpdate) is still a
// connection waiting for its first request: at shutdown it gets its time to send it, like any
// new connection, and is answered. (Taking it for one that had been served, brigade closed it at
// once, and the request its client sent next met close_notify: the drain tests lost a POST so.)
TEST(Drain, ANewConnectionWokenWithoutARequestStillGetsItsFirstRequestAnswered) {
  const TestCertificate certificate;
  std::vector<std::string> flags = certificate.flags();
  flags.insert(flags.end(), {"--drain-delay", "1s"});
  RunningBrigade server(std::move(flags));
  asio::io_context io;
  PooledTlsConnection connection(io);
  ASSERT_FALSE(connection.connect(server.port()));
  ASSERT_FALSE(connection.send_key_update());

  server.process().signal(SIGTERM);
  ASSERT_TRUE(server.process().wait_for_stderr_line("shutting down", 5s));
  // The drain delay has passed and the server closes its connections: idle ones that have been
  // served at once, new ones after a grace of a second.
  ASSERT_TRUE(wait_until_refused(server.port(), 10s));
  std::this_thread::sleep_for(100ms);

  Response response;
  std::chrono::steady_clock::time_point written_at;
  const beast::error_code error = connection.post("first", response, written_at);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "first");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(server.process().wait_exit_code(kBrigadeExitTimeout), 0)
      << server.process().stderr_text();
}

}  // namespace
}  // namespace brigade::testing
