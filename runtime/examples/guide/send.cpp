// Rust's Send, in C++. A task may resume on another worker after any co_await, so what it holds
// across one must not be tied to a thread. Nothing in C++ checks that; here is what breaks. Each
// task takes a pointer to its thread's thread_local scratch buffer (as code caching a per-thread
// allocator, an errno or OpenSSL's per-thread error queue does), sleeps, and checks whether the
// pointer still names its current thread's buffer. On the multi-thread runtime some tasks come
// back on the other worker: their pointer is another thread's buffer, a data race waiting to
// happen. On the current-thread runtime every task stays on its thread.
#include <cstdio>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr int kTasks = 100;

thread_local std::vector<char> scratch_buffer;

// The calling thread's buffer, looked up afresh: noipa keeps the compiler from reusing an
// address it computed before the co_await.
[[gnu::noipa]] std::vector<char>* this_threads_buffer() { return &scratch_buffer; }

// Returns whether the thread_local pointer taken before the awaits went stale after one.
rt::Task<bool> hold_across_await() {
  std::vector<char>* mine = this_threads_buffer();
  for (int i = 0; i < 10; ++i) {
    co_await rt::sleep(1ms);
    if (mine != this_threads_buffer()) co_return true;
  }
  co_return false;
}

rt::Task<int> count_moved() {
  std::vector<rt::JoinHandle<bool>> tasks;
  for (int i = 0; i < kTasks; ++i) tasks.push_back(rt::spawn(hold_across_await()));
  int moved = 0;
  for (auto& task : tasks) moved += *co_await task ? 1 : 0;
  co_return moved;
}

}  // namespace

int thread_affinity() {
  {
    auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
    // On a loaded machine one worker may do everything for a while; try a few rounds.
    int moved = 0;
    for (int round = 0; round < 20 && moved == 0; ++round) moved = runtime.block_on(count_moved());
    std::printf(
        "  multi_thread, 2 workers: %d of %d tasks resumed on another thread with a "
        "stale thread_local pointer\n",
        moved, kTasks);
  }
  {
    auto runtime = rt::Builder::current_thread().build();
    const int moved = runtime.block_on(count_moved());
    std::printf(
        "  current_thread:          %d of %d tasks resumed on another thread with a "
        "stale thread_local pointer\n",
        moved, kTasks);
  }
  std::printf(
      "  (spawn_local, which keeps a task on the thread that spawned it, lands with "
      "issue 11)\n");
  return 0;
}

}  // namespace guide
