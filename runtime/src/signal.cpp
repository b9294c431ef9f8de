#include "brigade/runtime/signal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstddef>
#include <mutex>
#include <source_location>
#include <utility>
#include <vector>

#include "brigade/runtime/detail/io_handle.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/task.hpp"
#include "readiness.hpp"
#include "runtime_core.hpp"

// How a delivery travels:
//  1. The handler (any thread, async-signal context) bumps the kind's delivery count and writes
//     one byte, the signal number, to a process-wide non-blocking self-pipe.
//  2. Each runtime that has a listener runs one dispatcher task, which waits for the pipe's read
//     end (its own dup of it) on the runtime's driver like any socket, drains it, and wakes the
//     recv() awaiters whose Signal has not yet seen the current count.
// The count lives in the handler rather than in the dispatcher so that "delivered after the
// Signal was created" means after the handler ran, not after the dispatcher got round to it.
namespace brigade::runtime {
namespace {

constexpr std::size_t kKinds = 3;

std::size_t index_of(SignalKind kind) noexcept { return static_cast<std::size_t>(kind); }

int number_of(SignalKind kind) noexcept {
  switch (kind) {
    case SignalKind::interrupt:
      return SIGINT;
    case SignalKind::terminate:
      return SIGTERM;
    case SignalKind::hangup:
      return SIGHUP;
  }
  return 0;
}

// --- Touched by the signal handler: lock-free atomics only, and trivially destructible, so a
// signal arriving while the process exits still finds them.
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

constinit std::array<std::atomic<std::uint64_t>, kKinds> deliveries{};
constinit std::atomic<int> pipe_write_end{-1};

extern "C" void on_signal(int number) {
  const int saved_errno = errno;  // the interrupted code may be about to read errno
  switch (number) {
    case SIGINT:
      deliveries[index_of(SignalKind::interrupt)].fetch_add(1);
      break;
    case SIGTERM:
      deliveries[index_of(SignalKind::terminate)].fetch_add(1);
      break;
    case SIGHUP:
      deliveries[index_of(SignalKind::hangup)].fetch_add(1);
      break;
    default:
      break;
  }
  // A full pipe (EAGAIN) loses nothing: the bytes already in it will wake a dispatcher, which
  // looks at every kind's count.
  const auto byte = static_cast<unsigned char>(number);
  [[maybe_unused]] const ssize_t written = ::write(pipe_write_end.load(), &byte, 1);
  errno = saved_errno;
}

// --- Everything else, under `state_mutex`.
constinit std::mutex state_mutex;
constinit std::array<detail::WaitList, kKinds> waiters{};  // of SignalWaitNode
constinit std::array<bool, kKinds> installed{};
constinit int pipe_read_end = -1;

// The runtimes that have a dispatcher. Not constinit (a vector), but only touched while a
// runtime runs.
std::vector<detail::RuntimeCore*>& dispatched_runtimes() {
  static std::vector<detail::RuntimeCore*> runtimes;
  return runtimes;
}

std::error_code last_error() noexcept { return {errno, std::generic_category()}; }

std::expected<void, std::error_code> ensure_pipe_locked() {
  if (pipe_read_end >= 0) return {};
  int ends[2];
  // Non-blocking: the handler must never block, and the dispatcher drains until EAGAIN.
  if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0) return std::unexpected(last_error());
  pipe_read_end = ends[0];
  pipe_write_end.store(ends[1]);  // before any handler that could read it is installed
  return {};
}

std::expected<void, std::error_code> ensure_handler_locked(SignalKind kind) {
  if (installed[index_of(kind)]) return {};
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: the rest of the process (blocking closures, libraries) should not start seeing
  // EINTR just because someone listens for a signal.
  action.sa_flags = SA_RESTART;
  if (::sigaction(number_of(kind), &action, nullptr) != 0) return std::unexpected(last_error());
  installed[index_of(kind)] = true;
  return {};
}

// Wakes every waiter whose Signal has not seen its kind's current count. Woken under the lock
// the awaiters take to unlink themselves (the Waiter protocol).
void wake_delivered() noexcept {
  std::lock_guard lock(state_mutex);
  for (std::size_t kind = 0; kind < kKinds; ++kind) {
    const std::uint64_t count = deliveries[kind].load();
    waiters[kind].wake_if([count](detail::WaitNode& node) {
      return static_cast<detail::SignalWaitNode&>(node).seen != count;
    });
  }
}

// Marks a runtime as having a dispatcher for as long as the dispatcher's frame lives; the frame
// is destroyed when the runtime shuts down (or at once, if it already had), which lets a later
// runtime at the same address start its own.
class DispatcherSlot {
 public:
  explicit DispatcherSlot(detail::RuntimeCore* core) noexcept : core_(core) {}
  DispatcherSlot(DispatcherSlot&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  DispatcherSlot& operator=(DispatcherSlot&&) = delete;
  ~DispatcherSlot() {
    if (core_ == nullptr) return;
    std::lock_guard lock(state_mutex);
    std::erase(dispatched_runtimes(), core_);
  }

 private:
  detail::RuntimeCore* core_;
};

Task<void> dispatch(detail::IoHandle pipe, DispatcherSlot slot) {
  static_cast<void>(slot);  // held for the frame's lifetime
  auto& io = pipe.registration();
  std::array<unsigned char, 64> bytes;
  for (;;) {
    const auto tick = co_await detail::ready(io, detail::Interest::read);
    bool drained = false;
    while (!drained) {
      const ssize_t received = ::read(pipe.fd(), bytes.data(), bytes.size());
      if (received > 0) continue;
      if (received < 0 && errno == EINTR) continue;
      if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        detail::clear_readiness(io, detail::Interest::read, tick);
        drained = true;
      } else {
        co_return;  // the write end never closes; nothing sensible is left to do
      }
    }
    wake_delivered();
  }
}

// Starts the current runtime's dispatcher unless it has one.
std::expected<void, std::error_code> ensure_dispatcher(detail::RuntimeCore& core) {
  int read_end = -1;
  {
    std::lock_guard lock(state_mutex);
    auto& runtimes = dispatched_runtimes();
    if (std::find(runtimes.begin(), runtimes.end(), &core) != runtimes.end()) return {};
    runtimes.push_back(&core);
    read_end = pipe_read_end;
  }
  DispatcherSlot slot(&core);  // from here, failing (or the task ending) undoes the push_back
  // A descriptor of its own per runtime: IoHandle owns and closes what it registers, and each
  // driver's epoll set needs an entry. It shares the pipe's non-blocking flag.
  const int fd = ::fcntl(read_end, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(last_error());
  auto io = detail::IoHandle::adopt(fd);
  if (!io) return std::unexpected(io.error());
  // Detached: it lives until the runtime shuts down and cancels it.
  static_cast<void>(detail::spawn_on(core, dispatch(std::move(*io), std::move(slot)),
                                     std::source_location::current()));
  return {};
}

}  // namespace

std::size_t detail::signal_waiters(SignalKind kind) noexcept {
  std::lock_guard lock(state_mutex);
  std::size_t count = 0;
  for (const WaitNode* node = waiters[index_of(kind)].front(); node != nullptr;
       node = waiters[index_of(kind)].next_of(*node)) {
    ++count;
  }
  return count;
}

std::expected<Signal, std::error_code> Signal::listen(SignalKind kind) {
  detail::RuntimeCore& core = detail::expect_current_runtime();
  {
    std::lock_guard lock(state_mutex);
    if (auto made = ensure_pipe_locked(); !made) return std::unexpected(made.error());
    if (auto set = ensure_handler_locked(kind); !set) return std::unexpected(set.error());
  }
  if (auto started = ensure_dispatcher(core); !started) return std::unexpected(started.error());
  return Signal(kind, deliveries[index_of(kind)].load());
}

Signal::Recv::Recv(Recv&& other) noexcept : signal_(other.signal_) {
  assert(!other.suspended_ && "a Recv cannot move once awaited");
}

Signal::Recv::~Recv() {
  if (!suspended_ || resumed_) return;
  waiters[index_of(signal_->kind_)].withdraw(node_, state_mutex);
}

bool Signal::Recv::await_ready() const noexcept {
  return deliveries[index_of(signal_->kind_)].load() != signal_->seen_;
}

bool Signal::Recv::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  detail::record_wait(WaitReason::signal);
  const std::size_t kind = index_of(signal_->kind_);
  std::lock_guard lock(state_mutex);
  // Checked again under the lock: the dispatcher reads the count under it too, so a delivery
  // either shows here or finds this node in the list.
  if (deliveries[kind].load() != signal_->seen_) return false;
  node_.seen = signal_->seen_;
  node_.arm(awaiting);
  waiters[kind].push_back(node_);
  suspended_ = true;
  return true;
}

void Signal::Recv::await_resume() noexcept {
  resumed_ = true;
  // Coalesce: every delivery up to now is consumed by this one completion.
  signal_->seen_ = deliveries[index_of(signal_->kind_)].load();
}

}  // namespace brigade::runtime
