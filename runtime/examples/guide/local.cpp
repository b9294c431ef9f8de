// Non-thread-safe state and spawn_local. State that is not safe to share across threads (a
// plain counter, a cache without a lock, an object tied to the thread that made it) may be shared
// by tasks that never leave one thread. spawn_local says so: its tasks stay on the thread in
// block_on of a current-thread runtime. Here 1,000 of them interleave 100 increments each of one
// unlocked tally, and each increment checks it runs on the tally's thread. On the multi-thread
// flavor, where a task may resume on any worker, spawn_local refuses: the message is printed.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/spawn_local.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

constexpr int kTasks = 1'000;
constexpr int kIncrements = 100;

// No lock, no atomics: safe only while one thread touches it, which it checks.
struct Tally {
  const std::thread::id owner = std::this_thread::get_id();
  long count = 0;
  long touched_from_another_thread = 0;
  int in_progress = 0;
  int most_in_progress = 0;
  std::set<std::string> threads;
};

rt::Task<void> add_up(std::shared_ptr<Tally> tally) {
  tally->most_in_progress = std::max(tally->most_in_progress, ++tally->in_progress);
  for (int i = 0; i < kIncrements; ++i) {
    co_await rt::yield_now();  // let the other tasks run in between
    ++tally->count;
    if (std::this_thread::get_id() != tally->owner) ++tally->touched_from_another_thread;
    tally->threads.insert(thread_name());
  }
  --tally->in_progress;
}

rt::Task<std::shared_ptr<Tally>> share_unlocked_tally() {
  auto tally = std::make_shared<Tally>();
  std::vector<rt::JoinHandle<void>> tasks;
  for (int i = 0; i < kTasks; ++i) tasks.push_back(rt::spawn_local(add_up(tally)));
  for (auto& task : tasks) static_cast<void>(co_await task);
  co_return tally;
}

rt::Task<std::string> try_spawn_local() {
  try {
    auto task = rt::spawn_local(add_up(std::make_shared<Tally>()));
    static_cast<void>(co_await task);
    co_return "spawned (unexpected)";
  } catch (const std::logic_error& refused) {
    co_return std::string("std::logic_error: ") + refused.what();
  }
}

}  // namespace

int local_state() {
  {
    auto runtime = rt::Builder::current_thread().build();
    const auto start = Clock::now();
    const auto tally = runtime.block_on(share_unlocked_tally());
    std::printf("  current_thread, %d spawn_local tasks x %d increments of one unlocked tally:\n",
                kTasks, kIncrements);
    std::printf("    count %ld of %d, after %.0f ms; tasks in progress at once: %d\n", tally->count,
                kTasks * kIncrements, ms_since(start), tally->most_in_progress);
    std::printf("    threads that ran them: %zu (", tally->threads.size());
    for (const auto& name : tally->threads) std::printf(" %s", name.c_str());
    std::printf(" ), the thread in block_on: %s\n", thread_name().c_str());
    std::printf("    increments from another thread: %ld\n", tally->touched_from_another_thread);
  }
  {
    auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
    std::printf("  multi_thread, 2 workers: spawn_local gives %s\n",
                runtime.block_on(try_spawn_local()).c_str());
  }
  return 0;
}

}  // namespace guide
