#include "stack_capture.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "brigade/runtime/detail/task_header.hpp"
#include "scheduler.hpp"

namespace brigade::runtime::detail {
namespace {

constexpr int kMaxFrames = 64;
constexpr std::size_t kMaxAnnotation = 256;

// The one request in flight, process-wide: signal dispositions are process-wide too. The
// requester arms it with the target's thread id; the handler claims it by disarming (so a
// late signal, after the requester gave up, finds nothing to do), fills the fields, publishes
// them with a release store of `filled` and wakes the requester with sem_post, which is
// async-signal-safe. The requester reads the fields after an acquire load of `filled`.
struct CaptureSlot {
  std::atomic<int> target{0};
  std::atomic<bool> armed{false};
  std::atomic<bool> filled{false};
  sem_t answered;
  void* frames[kMaxFrames];
  int depth = 0;
  std::int64_t poll_started_ns = 0;
  std::uint64_t task_id = 0;
  std::source_location spawned_at;
  char annotation[kMaxAnnotation];
};

CaptureSlot slot;
std::mutex requests;  // one requester at a time (several runtimes may each have a monitor)

void on_capture_signal(int) {
  const int saved_errno = errno;
  if (slot.target.load(std::memory_order_acquire) == static_cast<int>(::gettid()) &&
      slot.armed.exchange(false, std::memory_order_acq_rel)) {
    slot.depth = ::backtrace(slot.frames, kMaxFrames);
    slot.poll_started_ns = WorkStealingScheduler::current_poll_started_ns();
    // The interrupted thread cannot free its task while we run on it.
    const TaskHeader* task = current_task;
    slot.task_id = task != nullptr ? task->id() : 0;
    slot.spawned_at = task != nullptr ? task->spawned_at() : std::source_location{};
    const char* annotation = task != nullptr ? task->annotation() : nullptr;
    std::size_t length = 0;
    while (annotation != nullptr && annotation[length] != '\0' && length + 1 < kMaxAnnotation) {
      slot.annotation[length] = annotation[length];
      ++length;
    }
    slot.annotation[length] = '\0';
    slot.filled.store(true, std::memory_order_release);
    ::sem_post(&slot.answered);
  }
  errno = saved_errno;
}

void install_handler() {
  ::sem_init(&slot.answered, 0, 0);
  // The first backtrace() loads libgcc's unwinder with dlopen: here, on an ordinary thread.
  void* warm_up[1];
  ::backtrace(warm_up, 1);
  struct sigaction action {};
  action.sa_handler = on_capture_signal;
  action.sa_flags = SA_RESTART;  // an interrupted blocking call resumes
  sigemptyset(&action.sa_mask);
  ::sigaction(capture_signal(), &action, nullptr);
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> plain(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && plain ? std::string(plain.get()) : std::string(name);
}

std::string symbolize(void* address) {
  char hex[64];
  Dl_info info{};
  if (::dladdr(address, &info) == 0 || info.dli_fname == nullptr) {
    std::snprintf(hex, sizeof hex, "[%p]", address);
    return hex;
  }
  const char* module = std::strrchr(info.dli_fname, '/');
  std::string line = module != nullptr ? module + 1 : info.dli_fname;
  std::snprintf(
      hex, sizeof hex, "(+0x%zx)",
      static_cast<std::size_t>(static_cast<char*>(address) - static_cast<char*>(info.dli_fbase)));
  line += hex;
  if (info.dli_sname != nullptr) {
    std::snprintf(
        hex, sizeof hex, "+0x%zx",
        static_cast<std::size_t>(static_cast<char*>(address) - static_cast<char*>(info.dli_saddr)));
    line += ' ';
    line += demangle(info.dli_sname);
    line += hex;
  }
  return line;
}

}  // namespace

int capture_signal() noexcept { return SIGRTMAX - 2; }

void prepare_stack_capture() {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
}

std::optional<WorkerSnapshot> capture_thread(int thread_id, std::chrono::milliseconds patience) {
  prepare_stack_capture();
  std::lock_guard guard(requests);
  slot.filled.store(false, std::memory_order_relaxed);
  slot.target.store(thread_id, std::memory_order_release);
  slot.armed.store(true, std::memory_order_release);
  if (::syscall(SYS_tgkill, ::getpid(), thread_id, capture_signal()) != 0) {
    slot.armed.store(false, std::memory_order_relaxed);
    return std::nullopt;  // the thread has gone
  }
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(patience).count();
  deadline.tv_sec += static_cast<time_t>((deadline.tv_nsec + wait) / 1'000'000'000);
  deadline.tv_nsec = static_cast<long>((deadline.tv_nsec + wait) % 1'000'000'000);
  while (::sem_clockwait(&slot.answered, CLOCK_MONOTONIC, &deadline) != 0) {
    if (errno == EINTR) continue;
    // Timed out. If the handler has not claimed the request, it never will; if it has, it is
    // running now and about to post: take that post, so the next request starts clean.
    if (slot.armed.exchange(false, std::memory_order_acq_rel)) return std::nullopt;
    while (::sem_wait(&slot.answered) != 0) {
    }
    break;
  }
  if (!slot.filled.load(std::memory_order_acquire)) return std::nullopt;
  WorkerSnapshot snapshot;
  snapshot.poll_started_ns = slot.poll_started_ns;
  snapshot.task_id = slot.task_id;
  snapshot.spawned_at = slot.spawned_at;
  snapshot.annotation = slot.annotation;
  // The first two frames are the handler and the kernel's signal trampoline, not the worker's.
  constexpr int kHandlerFrames = 2;
  for (int i = kHandlerFrames; i < slot.depth; ++i) {
    snapshot.backtrace.push_back(symbolize(slot.frames[i]));
  }
  return snapshot;
}

}  // namespace brigade::runtime::detail
