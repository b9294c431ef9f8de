#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/sync/watch.hpp"
#include "brigade/runtime/task.hpp"
#include "brigade/server/http.hpp"
#include "brigade/server/router.hpp"
#include "brigade/server/tls.hpp"

namespace brigade::server {

namespace detail {
struct ServerCore;
}

// Why a connection was closed without being served.
enum class RejectReason : std::uint8_t {
  max_connections,        // over max_connections (answered 503 over plain TCP)
  tls_handshake_failed,   // the TLS handshake failed, or the peer left during it
  tls_handshake_timeout,  // not done within tls_handshake_timeout
};
// Which deadline ran out.
enum class TimeoutPhase : std::uint8_t {
  header,  // header_timeout: the request's header section (408), or a new connection's first
  body,    // body_timeout: the request's body (408)
  idle,    // keep_alive_timeout between requests (closed silently)
  write,   // write_timeout: the peer did not read the answer (closed)
};

// One answered request as RequestObserver::on_request reports it.
struct Exchange {
  int status = 0;
  // On the wire: the request head and body as received; the response head and body (chunk
  // framing included).
  std::size_t request_bytes = 0;
  std::size_t response_bytes = 0;
  // Of response_bytes, the body's content (without chunk framing; 0 for HEAD), as nginx's
  // $body_bytes_sent.
  std::size_t response_body_bytes = 0;
  // From the first byte of the request until the response was written (or failed to be).
  std::chrono::nanoseconds duration{};
  // The client's address, as accepted.
  const runtime::net::SocketAddr* peer = nullptr;
};

// Sees every answered request and every connection, for metrics and access logs (the handlers'
// Prometheus metrics and the app's access log implement it). Called on the worker that runs the
// connection, concurrently from several workers: implementations must be thread-safe and quick (no
// I/O, no locks held for long).
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;

  // After the response was written (or failed to be). `request` is what was parsed: for a
  // malformed request (status 4xx from the parser) method and target may be empty and
  // `request.route` is empty unless the router matched.
  virtual void on_request(const Request& request, const Exchange& exchange) = 0;
  // Instead of on_request: the client went away while the handler ran, and the handler was
  // cancelled (nothing was answered).
  virtual void on_request_cancelled(const Request& /*request*/) {}
  virtual void on_connection_opened() {}
  virtual void on_connection_closed() {}
  // A connection closed without being served (over max_connections: answered 503 first).
  virtual void on_connection_rejected(RejectReason /*reason*/) {}
  // A connection closed because a deadline passed.
  virtual void on_timeout(TimeoutPhase /*phase*/) {}
  // A handler threw: the request is answered 500. `what` is the exception's message (what() of
  // a std::exception, else a fixed text). `request.route` is the route's pattern.
  virtual void on_handler_failed(const Request& /*request*/, std::string_view /*what*/) {}
};

struct ServerOptions {
  // Connections served at once; beyond it a new connection is answered 503 and closed (over
  // TLS, closed without an answer: see tls).
  std::size_t max_connections = 10'000;
  // The request line and header section (431 beyond), and the body (413, before reading it).
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  // Header fields of a request at most (431 beyond; as many again in a trailer section).
  std::size_t max_headers = 100;
  // Request bodies held by all connections together: a request whose body would take the total
  // past it is answered 503 with Retry-After before its body is read (a chunked one before the
  // chunk that would), and the connection closes.
  std::size_t max_buffered_body_bytes = 64 * 1024 * 1024;
  // From the first byte of a request until its header section is complete (slow clients get
  // 408 and are closed).
  std::chrono::milliseconds header_timeout{10'000};
  // Idle time allowed between requests on a kept-alive connection (closed silently after it).
  std::chrono::milliseconds keep_alive_timeout{60'000};
  // From the end of the header section until the whole body is received (408 after it).
  std::chrono::milliseconds body_timeout{30'000};
  // For each response write that has to wait for the peer (the connection is closed after it).
  std::chrono::milliseconds write_timeout{30'000};
  // After the listener closed at shutdown: how long in-flight requests may take before what is
  // left is aborted.
  std::chrono::milliseconds grace_period{30'000};
  // After shutdown(): how long the server keeps accepting and serving normally (while readiness
  // says "draining") before the listener closes.
  std::chrono::milliseconds drain_delay{0};
  // When set, every connection speaks TLS (see tls.hpp); plain TCP when empty.
  std::optional<TlsContext> tls;
  // From accept until the TLS handshake is done (the connection is closed after it). The
  // header timeout of the first request starts once it is done.
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  // Optional; when null the request path does no observer work at all (not even a clock read).
  std::shared_ptr<RequestObserver> observer;
};

enum class ServerState : std::uint8_t { serving, draining, stopped };

// HTTP/1.1 on the runtime: run() accepts connections and serves each in a task of its own until
// shutdown(). One Server runs once; it must outlive the task running run().
//
// Graceful shutdown, after shutdown() (from any thread, e.g. a signal task):
//   1. state() turns draining at once (readiness handlers answer 503 from it);
//   2. for drain_delay the server still accepts and serves as usual;
//   3. the listener closes (new connections are refused by the kernel); connections idle between
//      requests close at once (a FIN, close_notify first over TLS, then what the peer still
//      sends is read and dropped for a second, so that it meets no reset); a request in flight
//      finishes and its response says "Connection: close";
//   4. grace_period later, the connection tasks still running are aborted;
//   5. state() turns stopped and run() returns.
class Server {
 public:
  // Throws std::invalid_argument for options that cannot work (zero limits or timeouts).
  Server(ServerOptions options, Router router);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Serves connections from `listener` until shutdown() has run its course. Throws
  // std::system_error if accepting fails for good (after shutting down what was open).
  runtime::Task<void> run(runtime::net::TcpListener listener);

  // Begins the graceful shutdown. Thread-safe and idempotent; may come before run().
  void shutdown();

  // Serves new TLS connections with `tls` from now on (a certificate renewed, on SIGHUP);
  // connections already open keep theirs. False, and nothing changes, when the server does not
  // speak TLS. Thread-safe.
  bool replace_tls(TlsContext tls);

  ServerState state() const noexcept;
  // A receiver of the state, for tasks that wait for draining (a streaming handler that wants
  // to end early, the composition root waiting for stopped).
  runtime::watch::Receiver<ServerState> subscribe() const;

  // Connections open now, and served since the start (those answered 503 at max_connections
  // count in neither).
  std::size_t active_connections() const noexcept;
  std::uint64_t connections_total() const noexcept;

 private:
  std::shared_ptr<detail::ServerCore> core_;
};

}  // namespace brigade::server
