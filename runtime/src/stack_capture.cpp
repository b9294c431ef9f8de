#include "stack_capture.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unwind.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>

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
  bool cut_short = false;  // the last frame is in code whose unwind tables are not followed
  std::int64_t poll_started_ns = 0;
  std::uint64_t task_id = 0;
  std::source_location spawned_at;
  char annotation[kMaxAnnotation];
};

CaptureSlot slot;
std::mutex requests;  // one requester at a time (several runtimes may each have a monitor)

// The handler unwinds a thread stopped at any instruction, which only works where the unwind
// tables describe every instruction exactly. The compiler's do; hand-written assembly's need
// not: OpenSSL's libcrypto has an epilogue whose tables are wrong for one instruction, and
// unwinding a worker stopped there read a wild pointer and crashed brigade. So the handler
// follows the tables of the program itself, the C and C++ runtimes, the dynamic loader, the vDSO
// and the sanitizer runtimes, and stops at the first frame anywhere else: that frame is still
// reported, its callers are not.
constexpr std::array<std::string_view, 9> kFollowedLibraries = {
    "libc.so.",   "libm.so.",   "libstdc++.so.", "libgcc_s.so.", "ld-linux",
    "linux-vdso", "libasan.so", "libtsan.so",    "libubsan.so"};

struct CodeRange {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
};
// Written once, by install_handler, before the handler is installed; only read after.
constexpr std::size_t kMaxFollowedRanges = 64;
std::array<CodeRange, kMaxFollowedRanges> followed_code;
std::size_t followed_ranges = 0;

bool followed_module(const char* path) {
  if (path == nullptr || *path == '\0') return true;  // the program itself
  const char* slash = std::strrchr(path, '/');
  const std::string_view name = slash != nullptr ? slash + 1 : path;
  for (const std::string_view library : kFollowedLibraries) {
    if (name.starts_with(library)) return true;
  }
  return false;
}

int collect_followed_code(dl_phdr_info* info, std::size_t /*size*/, void* /*data*/) {
  if (!followed_module(info->dlpi_name)) return 0;
  for (std::size_t i = 0; i < info->dlpi_phnum && followed_ranges < kMaxFollowedRanges; ++i) {
    const ElfW(Phdr)& header = info->dlpi_phdr[i];
    if (header.p_type != PT_LOAD || (header.p_flags & PF_X) == 0) continue;
    const std::uintptr_t begin = info->dlpi_addr + header.p_vaddr;
    followed_code[followed_ranges++] = {begin, begin + header.p_memsz};
  }
  return 0;
}

bool in_followed_code(std::uintptr_t address) noexcept {
  for (std::size_t i = 0; i < followed_ranges; ++i) {
    if (address >= followed_code[i].begin && address < followed_code[i].end) return true;
  }
  return false;
}

// One frame of the unwinding (libgcc calls it innermost first). Returning anything but
// _URC_NO_REASON ends the unwinding before libgcc reads this frame's tables to find its caller.
_Unwind_Reason_Code record_frame(_Unwind_Context* context, void* /*data*/) {
  const std::uintptr_t address = _Unwind_GetIP(context);
  if (address == 0 || slot.depth == kMaxFrames) return _URC_END_OF_STACK;
  slot.frames[slot.depth++] = reinterpret_cast<void*>(address);
  if (in_followed_code(address)) return _URC_NO_REASON;
  slot.cut_short = true;
  return _URC_END_OF_STACK;
}

void unwind_into_slot() noexcept {
  slot.depth = 0;
  slot.cut_short = false;
  _Unwind_Backtrace(record_frame, nullptr);
}

void on_capture_signal(int) {
  const int saved_errno = errno;
  if (slot.target.load(std::memory_order_acquire) == static_cast<int>(::gettid()) &&
      slot.armed.exchange(false, std::memory_order_acq_rel)) {
    unwind_into_slot();
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
  ::dl_iterate_phdr(collect_followed_code, nullptr);
  // The first unwinding binds libgcc's entry points and reads its tables: here, on an ordinary
  // thread, not in the handler.
  unwind_into_slot();
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
  if (slot.cut_short) snapshot.backtrace.push_back(std::string(kCutShort));
  return snapshot;
}

}  // namespace brigade::runtime::detail
