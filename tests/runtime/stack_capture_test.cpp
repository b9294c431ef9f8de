// The stall detector's stack capture interrupts a thread wherever it is. It follows the unwind
// tables of the program and of the C and C++ runtimes only: a thread stopped in a library whose
// tables are wrong at that instruction (OpenSSL's libcrypto has such an instruction) is reported
// down to that frame, and the capture does not crash the process.
#include "stack_capture.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

extern "C" void brigade_spin_with_bad_unwind_tables(const volatile int* stop,
                                                    volatile int* spinning);

namespace brigade::runtime::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto kPatience = 5s;

// ThreadSanitizer holds an asynchronous signal until the thread enters a call it intercepts,
// which a spinning thread never does: there the capture could only time out.
#if defined(__SANITIZE_THREAD__)
constexpr bool kSignalsWaitForInterceptedCalls = true;
#else
constexpr bool kSignalsWaitForInterceptedCalls = false;
#endif

TEST(StackCapture, StopsAtALibraryWhoseUnwindTablesItDoesNotFollow) {
  if (kSignalsWaitForInterceptedCalls) GTEST_SKIP() << "the thread spins without a call";
  volatile int stop = 0;
  volatile int spinning = 0;
  std::atomic<int> thread_id{0};
  std::thread spinner([&] {
    thread_id = static_cast<int>(::gettid());
    brigade_spin_with_bad_unwind_tables(&stop, &spinning);
  });
  while (spinning == 0) std::this_thread::yield();

  // Each capture would fault if it followed the spinning frame's tables to its caller.
  for (int capture = 0; capture < 20; ++capture) {
    const auto snapshot = capture_thread(thread_id, kPatience);
    ASSERT_TRUE(snapshot.has_value()) << "capture " << capture;
    ASSERT_GE(snapshot->backtrace.size(), 2U);
    EXPECT_EQ(snapshot->backtrace.back(), kCutShort);
    // The last frame reported is the spinning one.
    const std::string& last = snapshot->backtrace[snapshot->backtrace.size() - 2];
    EXPECT_NE(last.find("libbrigade_bad_unwind_tables"), std::string::npos) << last;
  }
  stop = 1;
  spinner.join();
}

// A thread in the program's own code is unwound through to its start.
TEST(StackCapture, FollowsTheProgramsOwnFramesToTheThreadsStart) {
  if (kSignalsWaitForInterceptedCalls) GTEST_SKIP() << "the thread spins without a call";
  std::atomic<bool> stop{false};
  std::atomic<int> thread_id{0};
  std::thread spinner([&] {
    thread_id = static_cast<int>(::gettid());
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  while (thread_id.load() == 0) std::this_thread::yield();

  const auto snapshot = capture_thread(thread_id, kPatience);
  stop = true;
  spinner.join();
  ASSERT_TRUE(snapshot.has_value());
  ASSERT_FALSE(snapshot->backtrace.empty());
  EXPECT_NE(snapshot->backtrace.back(), kCutShort);
  bool reached_thread_start = false;
  for (const std::string& frame : snapshot->backtrace) {
    if (frame.find("libc.so") != std::string::npos) reached_thread_start = true;
  }
  EXPECT_TRUE(reached_thread_start) << "the frames below the thread's function (libc's start)";
}

}  // namespace
}  // namespace brigade::runtime::detail
