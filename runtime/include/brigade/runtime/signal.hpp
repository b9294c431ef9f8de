#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <system_error>

#include "brigade/runtime/detail/wait_list.hpp"

namespace brigade::runtime {

// The Unix signals a process can wait for, as in tokio::signal::unix::SignalKind.
enum class SignalKind : std::uint8_t {
  interrupt,  // SIGINT (Ctrl-C)
  terminate,  // SIGTERM (kill, a container runtime stopping the service)
  hangup,     // SIGHUP (the terminal went away; often "reload configuration")
};

namespace detail {

// A recv() waiting in the process-wide list of its signal kind. `seen` is its Signal's delivery
// count: the dispatcher wakes it only once the count has moved past it, so a byte left in the
// pipe by a delivery from before the Signal was created cannot wake it for nothing.
struct SignalWaitNode : WaitNode {
  std::uint64_t seen = 0;
};

// How many recv() awaiters of `kind` are waiting right now, process-wide (tests, diagnostics).
std::size_t signal_waiters(SignalKind kind) noexcept;

}  // namespace detail

// Receives deliveries of one Unix signal, like tokio::signal::unix::Signal.
//
// The first listen() for a kind installs the process's handler for that signal (and from then on
// the signal no longer has its default effect, such as terminating the process: as in Tokio, the
// handler stays for the life of the process). Every Signal sees the deliveries that happen after
// it was created; deliveries are coalesced: several arriving before a recv() completes count as
// one. Several tasks can each wait on a Signal of their own for the same kind: one delivery wakes
// them all.
//
//   auto terminate = Signal::listen(SignalKind::terminate);
//   if (!terminate) return std::unexpected(terminate.error());
//   co_await terminate->recv();  // or: co_await select(listener.accept(), *terminate)
//
// A Signal is used by one task at a time. It can move while no recv() is pending.
class Signal {
 public:
  // Creates a receiver for `kind`, installing the handler on first use. Call it on a runtime
  // thread (inside a task or block_on): that runtime's driver is what wakes the receivers.
  // Fails if the handler, the process's self-pipe or the runtime's registration cannot be set up.
  static std::expected<Signal, std::error_code> listen(SignalKind kind);

  Signal(Signal&&) noexcept = default;
  Signal& operator=(Signal&&) noexcept = default;
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;
  ~Signal() = default;

  SignalKind kind() const noexcept { return kind_; }

  // The awaiter of recv(): completes once the signal was delivered since the Signal was created
  // or since the last completed recv(). Destroyed while waiting (its task aborted, or it lost a
  // select) it leaves the waiters' list and consumes nothing. Movable until awaited; the Signal
  // must outlive it.
  class [[nodiscard]] Recv {
   public:
    explicit Recv(Signal& signal) noexcept : signal_(&signal) {}
    Recv(Recv&& other) noexcept;
    Recv(const Recv&) = delete;
    Recv& operator=(const Recv&) = delete;
    Recv& operator=(Recv&&) = delete;
    ~Recv();

    bool await_ready() const noexcept;
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
    void await_resume() noexcept;

   private:
    Signal* signal_;
    detail::SignalWaitNode node_;
    bool suspended_ = false;
    bool resumed_ = false;
  };

  Recv recv() noexcept { return Recv(*this); }
  // `co_await signal` is `co_await signal.recv()`; it also lets select() borrow a Signal awaited
  // in a loop.
  Recv operator co_await() noexcept { return Recv(*this); }

 private:
  Signal(SignalKind kind, std::uint64_t seen) noexcept : kind_(kind), seen_(seen) {}

  SignalKind kind_;
  std::uint64_t seen_;  // the process's delivery count for kind_ that this Signal has consumed
};

}  // namespace brigade::runtime
