#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "body_budget.hpp"
#include "brigade/runtime/sync/notify.hpp"
#include "brigade/runtime/sync/watch.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/server/router.hpp"
#include "brigade/server/server.hpp"
#include "connection_registry.hpp"

namespace brigade::server::detail {

// What the server's accept loop and its connection tasks share. Connection tasks hold it by
// shared_ptr, so it outlives them even if the Server goes first.
struct ServerCore {
  ServerCore(ServerOptions server_options, Router server_router)
      : options(std::move(server_options)),
        router(std::move(server_router)),
        observer(options.observer.get()),
        body_budget(options.max_buffered_body_bytes),
        tls_(options.tls) {}

  // The certificate and key new TLS connections get (options.tls is set). replace_tls() swaps
  // them; a connection keeps the ones it started with.
  TlsContext current_tls() const {
    const std::lock_guard lock(tls_mutex_);
    return *tls_;
  }
  void replace_tls(TlsContext tls) {
    const std::lock_guard lock(tls_mutex_);
    tls_ = std::move(tls);
  }

  const ServerOptions options;
  const Router router;
  RequestObserver* const observer;  // null: no observation at all

  ConnectionRegistry connections;
  BodyBudget body_budget;

  // serving -> draining -> stopped: the atomic for state() and the connection tasks, the watch
  // for tasks that wait for a change (the accept loop). The atomic is set first.
  std::atomic<ServerState> state{ServerState::serving};
  runtime::watch::Sender<ServerState> state_sender =
      runtime::watch::channel(ServerState::serving).first;
  // When shutdown() was called (Clock ticks; 0: not yet).
  std::atomic<runtime::Clock::rep> shutdown_at{0};
  // Set once the listener is closed: responses say "Connection: close" and connections close
  // instead of waiting for another request. Sequentially consistent with ConnectionSlot's state.
  std::atomic<bool> closing{false};
  // Notified (notify_waiters) once `closing` is set: wakes the idle TLS connections, which must
  // write their close_notify themselves (the shutdown's sweep half-closes plain ones).
  runtime::Notify closing_notice;

  std::atomic<std::uint64_t> connections_total{0};
  // Rejected connections (503) still draining the request they were sent.
  std::atomic<std::size_t> lingering_rejections{0};

 private:
  mutable std::mutex tls_mutex_;  // taken once per new TLS connection, and by a reload
  std::optional<TlsContext> tls_;
};

}  // namespace brigade::server::detail
