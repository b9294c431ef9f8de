#include "brigade/server/server.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <expected>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/time.hpp"
#include "connection.hpp"
#include "connection_registry.hpp"
#include "date_cache.hpp"
#include "listener_close.hpp"
#include "response_writer.hpp"
#include "server_core.hpp"
#include "socket_io.hpp"

namespace brigade::server {
namespace {

using namespace std::chrono_literals;
using detail::ServerCore;
using runtime::Clock;
using runtime::net::TcpListener;
using runtime::net::TcpStream;

// Rejected connections (503) whose request is read and dropped before the close, so that the
// close does not reset the connection before the client reads the 503. Past this many at once
// (a flood), a rejected connection is closed straight away.
constexpr std::size_t kMaxLingeringRejections = 1024;
constexpr auto kRejectionLinger = 500ms;
// At shutdown: how long an idle connection, half-closed, waits for its peer to close, and how
// long a new connection gets to send its first request (see close_idle_at_shutdown).
constexpr auto kShutdownLinger = 1s;
// At shutdown: how long the listener stays open for handshakes under way to complete (capped by
// grace_period), and how often it looks.
constexpr auto kHandshakeWait = 1s;
constexpr auto kHandshakePoll = 1ms;

void check_options(const ServerOptions& options) {
  const auto refuse = [](const char* why) {
    throw std::invalid_argument(std::string("ServerOptions: ") + why);
  };
  if (options.max_connections == 0) refuse("max_connections must be at least 1");
  if (options.max_header_bytes == 0) refuse("max_header_bytes must be at least 1");
  if (options.max_headers == 0) refuse("max_headers must be at least 1");
  if (options.max_buffered_body_bytes < options.max_body_bytes) {
    refuse("max_buffered_body_bytes must be at least max_body_bytes");
  }
  if (options.header_timeout <= 0ms) refuse("header_timeout must be positive");
  if (options.keep_alive_timeout <= 0ms) refuse("keep_alive_timeout must be positive");
  if (options.body_timeout <= 0ms) refuse("body_timeout must be positive");
  if (options.write_timeout <= 0ms) refuse("write_timeout must be positive");
  if (options.tls_handshake_timeout <= 0ms) refuse("tls_handshake_timeout must be positive");
  if (options.grace_period < 0ms) refuse("grace_period must not be negative");
  if (options.drain_delay < 0ms) refuse("drain_delay must not be negative");
}

// The watch follows the atomic. Reading the atomic inside the watch's write lock keeps the watch
// from going back when two transitions are published concurrently.
void publish_state(ServerCore& core) {
  core.state_sender.send_modify(
      [&core](ServerState& value) { value = core.state.load(std::memory_order_seq_cst); });
}

void begin_shutdown(ServerCore& core) {
  Clock::rep unset = 0;
  const Clock::rep now = std::max<Clock::rep>(1, Clock::now().time_since_epoch().count());
  core.shutdown_at.compare_exchange_strong(unset, now, std::memory_order_seq_cst);
  ServerState expected = ServerState::serving;
  if (!core.state.compare_exchange_strong(expected, ServerState::draining,
                                          std::memory_order_seq_cst)) {
    return;  // already draining or stopped
  }
  publish_state(core);
}

Clock::time_point shutdown_time(const ServerCore& core) {
  return Clock::time_point(Clock::duration(core.shutdown_at.load(std::memory_order_seq_cst)));
}

// How often the idle deadlines are checked: a connection idles at most this much too long.
Clock::duration sweep_period(const ServerOptions& options) {
  const Clock::duration shortest = std::min(options.header_timeout, options.keep_alive_timeout);
  return std::clamp<Clock::duration>(shortest / 8, 5ms, 1s);
}

// Closes the connections whose idle deadline passed. One task and one timer for all of them,
// instead of a timer armed and cancelled by every connection on every request.
runtime::Task<void> sweep_idle_connections(std::shared_ptr<ServerCore> core) {
  const Clock::duration period = sweep_period(core->options);
  for (;;) {
    co_await runtime::sleep(period);
    const detail::IdleClosed closed = core->connections.close_idle(detail::coarse_now());
    if (core->observer == nullptr) continue;
    for (std::size_t i = 0; i < closed.waiting_for_first_request; ++i) {
      core->observer->on_timeout(TimeoutPhase::header);
    }
    for (std::size_t i = 0; i < closed.between_requests; ++i) {
      core->observer->on_timeout(TimeoutPhase::idle);
    }
  }
}

runtime::Task<void> drain_rejected(std::shared_ptr<ServerCore> core, TcpStream stream) {
  struct Release {
    ServerCore& core;
    ~Release() { core.lingering_rejections.fetch_sub(1, std::memory_order_relaxed); }
  } release{*core};
  std::array<std::byte, 512> scratch;
  co_await detail::linger_close(stream, scratch, kRejectionLinger);
}

// Over max_connections: answers 503 at once, without waiting for the request and without a
// connection task, then closes (over TLS: closes at once).
void reject(const std::shared_ptr<ServerCore>& core, TcpStream stream) {
  if (core->observer != nullptr) {
    core->observer->on_connection_rejected(RejectReason::max_connections);
  }
  // Over TLS an answer would come only after a handshake, the costliest step of a connection,
  // when the server is already overloaded: the connection is closed without one.
  if (core->options.tls) return;
  std::string answer;
  detail::write_response(
      answer, Response::error(503, "too many connections"),
      {.date = detail::http_date(), .version_minor = 1, .head = false, .keep_alive = false});
  // A new socket's send buffer takes these few hundred bytes whole.
  static_cast<void>(detail::try_send(stream.native_handle(), std::as_bytes(std::span(answer))));
  if (core->lingering_rejections.fetch_add(1, std::memory_order_relaxed) <
      kMaxLingeringRejections) {
    static_cast<void>(runtime::spawn(drain_rejected(core, std::move(stream))));  // detached
  } else {
    core->lingering_rejections.fetch_sub(1, std::memory_order_relaxed);
  }
}

void admit(const std::shared_ptr<ServerCore>& core, TcpStream stream,
           const runtime::net::SocketAddr& peer) {
  // Only this loop adds connections, so the check cannot race with another admission.
  if (core->connections.live() >= core->options.max_connections) {
    reject(core, std::move(stream));
    return;
  }
  // Answers are written whole: nothing is gained by holding back a small last segment.
  static_cast<void>(stream.set_nodelay(true));
  core->connections_total.fetch_add(1, std::memory_order_relaxed);
  detail::ConnectionSlot& slot = core->connections.add(stream.native_handle(), peer);
  // From here the RegisteredConnection owns the registration: if spawning fails, destroying it
  // gives the slot back.
  detail::RegisteredConnection connection(core, slot, std::move(stream));
  auto task = runtime::spawn(core->options.tls ? detail::serve_tls_connection(std::move(connection))
                                               : detail::serve_connection(std::move(connection)));
  core->connections.attach(slot, std::move(task));
}

using Accepted = std::expected<std::pair<TcpStream, runtime::net::SocketAddr>, std::error_code>;

// Admits an accepted connection; returns the error when accepting failed for good (the listener
// retries transient failures itself).
std::optional<std::error_code> admit_accepted(const std::shared_ptr<ServerCore>& core,
                                              Accepted accepted) {
  if (!accepted) return accepted.error();
  admit(core, std::move(accepted->first), accepted->second);
  return std::nullopt;
}

// Closes the listener without resetting a connection whose client may already be writing to it.
// The kernel stops starting handshakes (a client's SYN goes unanswered; its retry finds the port
// closed: connection refused, nothing sent), the handshakes under way complete and are admitted
// and served ("Connection: close") with those already queued, then the listener closes.
// Without this, the close resets both the queued connections and those mid-handshake. A
// handshake whose client never completes it is waited for only up to kHandshakeWait.
runtime::Task<void> close_listener(std::shared_ptr<ServerCore> core, TcpListener listener) {
  const auto admit_queued = [&] {
    for (auto accepted = listener.try_accept(); accepted; accepted = listener.try_accept()) {
      admit(core, std::move(accepted->first), accepted->second);
    }
  };
  // Without the filter (it cannot fail on Linux but for lack of memory) the queue is still
  // emptied, which narrows the window to the last instant.
  if (!detail::refuse_new_handshakes(listener.native_handle())) {
    admit_queued();
    co_return;
  }
  const Clock::time_point give_up =
      Clock::now() + std::min<Clock::duration>(kHandshakeWait, core->options.grace_period);
  for (;;) {
    // The first pause lets a SYN the kernel was taking as the filter went on become a handshake
    // that the count sees. Counting before emptying the queue means a handshake that completes
    // in between is still admitted.
    co_await runtime::sleep(kHandshakePoll);
    const std::optional<std::size_t> in_flight =
        detail::handshakes_in_progress(listener.native_handle());
    admit_queued();
    if (!in_flight || *in_flight == 0 || Clock::now() >= give_up) co_return;
  }
}

// After the listener closed: idle connections close now, the others once their request is
// answered ("Connection: close"), and what is left at the grace deadline is aborted.
runtime::Task<void> close_connections(ServerCore& core) {
  detail::ConnectionRegistry& connections = core.connections;
  // Before the sweep, sequentially consistent: see ConnectionSlot::enter_idle.
  core.closing.store(true, std::memory_order_seq_cst);
  // Over TLS close_notify must go first, which only the connection's task can send: the sweep
  // leaves idle TLS connections to their tasks, which the notice wakes.
  connections.close_idle_at_shutdown(Clock::now(), kShutdownLinger, !core.options.tls);
  core.closing_notice.notify_waiters();

  const Clock::time_point grace_end = Clock::now() + core.options.grace_period;
  for (;;) {
    auto emptied = connections.emptied().notified();  // before the check: no wake-up is missed
    if (connections.live() == 0) co_return;
    auto next = co_await runtime::select(std::move(emptied), runtime::sleep_until(grace_end));
    if (next.index() == 1) break;
  }
  connections.abort_all();
  for (;;) {  // aborted tasks end the next time a worker gets to them
    auto emptied = connections.emptied().notified();
    if (connections.live() == 0) co_return;
    co_await emptied;
  }
}

// If run() ends early (its task aborted, or an exception), its connections go with it.
class StopOnExit {
 public:
  explicit StopOnExit(ServerCore& core) noexcept : core_(core) {}
  StopOnExit(const StopOnExit&) = delete;
  StopOnExit& operator=(const StopOnExit&) = delete;
  ~StopOnExit() {
    if (!armed_) return;
    core_.closing.store(true, std::memory_order_seq_cst);
    core_.connections.abort_all();
    core_.state.store(ServerState::stopped, std::memory_order_seq_cst);
    publish_state(core_);
  }
  void disarm() noexcept { armed_ = false; }

 private:
  ServerCore& core_;
  bool armed_ = true;
};

// A helper task that lives as long as the scope that spawned it.
class AbortOnExit {
 public:
  explicit AbortOnExit(runtime::JoinHandle<void> task) noexcept : task_(std::move(task)) {}
  AbortOnExit(const AbortOnExit&) = delete;
  AbortOnExit& operator=(const AbortOnExit&) = delete;
  ~AbortOnExit() { task_.abort(); }

 private:
  runtime::JoinHandle<void> task_;
};

}  // namespace

Server::Server(ServerOptions options, Router router) {
  check_options(options);
  core_ = std::make_shared<ServerCore>(std::move(options), std::move(router));
}

Server::~Server() = default;

runtime::Task<void> Server::run(TcpListener listener) {
  const std::shared_ptr<ServerCore> core = core_;
  auto state = core->state_sender.subscribe();
  StopOnExit stop_on_exit(*core);
  const AbortOnExit sweeper(runtime::spawn(sweep_idle_connections(core)));
  std::optional<TcpListener> open(std::move(listener));
  std::optional<std::error_code> failure;

  // Serving, until shutdown() (the state changes) or accepting fails for good.
  while (!failure && core->state.load(std::memory_order_seq_cst) == ServerState::serving) {
    auto next = co_await runtime::select(open->accept(), state.changed());
    if (next.index() == 0) failure = admit_accepted(core, std::get<0>(std::move(next)));
  }
  if (failure) begin_shutdown(*core);  // close what is open as a shutdown would

  // Draining: readiness says so, but for drain_delay connections are still accepted and served,
  // while load balancers take the instance out of rotation.
  const Clock::time_point drain_end = shutdown_time(*core) + core->options.drain_delay;
  while (!failure && Clock::now() < drain_end) {
    auto next = co_await runtime::select(open->accept(), runtime::sleep_until(drain_end));
    if (next.index() == 1) break;
    failure = admit_accepted(core, std::get<0>(std::move(next)));
  }
  // From here on the kernel refuses new connections.
  {
    // Made apart from the co_await: GCC 12 can destroy a by-value coroutine argument twice when
    // the call sits inside the co_await expression. The scope ends the task, and with it the
    // listener it holds: the port closes here.
    auto closing = close_listener(core, std::move(*open));
    open.reset();
    co_await std::move(closing);
  }

  co_await close_connections(*core);
  stop_on_exit.disarm();
  core->state.store(ServerState::stopped, std::memory_order_seq_cst);
  publish_state(*core);
  if (failure) throw std::system_error(*failure, "brigade: accepting connections failed");
}

void Server::shutdown() { begin_shutdown(*core_); }

bool Server::replace_tls(TlsContext tls) {
  if (!core_->options.tls) return false;
  core_->replace_tls(std::move(tls));
  return true;
}

ServerState Server::state() const noexcept { return core_->state.load(std::memory_order_acquire); }

runtime::watch::Receiver<ServerState> Server::subscribe() const {
  return core_->state_sender.subscribe();
}

std::size_t Server::active_connections() const noexcept { return core_->connections.live(); }

std::uint64_t Server::connections_total() const noexcept {
  return core_->connections_total.load(std::memory_order_relaxed);
}

}  // namespace brigade::server
