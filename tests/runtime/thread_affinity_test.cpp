// Which thread runs what: spawn_local keeps tasks on the thread in block_on (and refuses runtimes
// where it could not), and block_in_place hands the worker's queued tasks to another worker
// before blocking in place (and is refused on the current-thread flavor).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "brigade/runtime/block_in_place.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/spawn_local.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

// ---- spawn_local ------------------------------------------------------------------------------

rt::Task<std::thread::id> thread_after_waits() {
  for (int i = 0; i < 3; ++i) {
    co_await rt::sleep(1ms);
    co_await rt::yield_now();
  }
  co_return std::this_thread::get_id();
}

rt::Task<std::vector<std::thread::id>> local_tasks() {
  std::vector<rt::JoinHandle<std::thread::id>> handles;
  for (int i = 0; i < 8; ++i) handles.push_back(rt::spawn_local(thread_after_waits()));
  std::vector<std::thread::id> threads;
  for (auto& handle : handles) {
    auto id = co_await handle;
    if (!id) throw std::runtime_error("local task failed");
    threads.push_back(*id);
  }
  co_return threads;
}

TEST(SpawnLocal, TasksStayOnTheThreadInBlockOn) {
  auto runtime = rt::Builder::current_thread().build();
  const auto threads = runtime.block_on(local_tasks());
  ASSERT_EQ(threads.size(), 8u);
  for (const auto& id : threads) EXPECT_EQ(id, std::this_thread::get_id());
}

rt::Task<void> spawn_local_here() {
  static_cast<void>(rt::spawn_local(thread_after_waits()));
  co_return;
}

TEST(SpawnLocal, IsRefusedOnTheMultiThreadFlavor) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  EXPECT_THROW(runtime.block_on(spawn_local_here()), std::logic_error);
}

TEST(SpawnLocalDeathTest, BlockOnFromAnotherThreadIsRefusedOnceLocalTasksExist) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto runtime = rt::Builder::current_thread().build();
        runtime.block_on(spawn_local_here());
        std::thread other([&] { runtime.block_on(thread_after_waits()); });
        other.join();
      },
      "spawn_local tasks belong to another thread");
}

// ---- block_in_place ---------------------------------------------------------------------------

struct Flag {
  std::mutex mutex;
  std::condition_variable changed;
  bool set = false;

  void raise() {
    std::lock_guard lock(mutex);
    set = true;
    changed.notify_all();
  }
  bool wait_for(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return set; });
  }
};

rt::Task<void> raise(Flag* flag) {
  flag->raise();
  co_return;
}

rt::Task<bool> block_until_queued_task_ran() {
  Flag flag;
  // Spawned from this task, so queued on this worker (in its LIFO slot, which others never
  // steal): only the hand-off lets it run while this task blocks.
  auto queued = rt::spawn(raise(&flag));
  const bool ran = rt::block_in_place([&] { return flag.wait_for(20s); });
  static_cast<void>(co_await queued);
  co_return ran;
}

TEST(BlockInPlace, TasksQueuedOnTheWorkerRunElsewhereWhileItBlocks) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  EXPECT_TRUE(runtime.block_on(block_until_queued_task_ran()));
}

rt::Task<int> block_in_place_value() {
  co_return rt::block_in_place([] { return 42; });
}

TEST(BlockInPlace, GivesTheClosuresValue) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  EXPECT_EQ(runtime.block_on(block_in_place_value()), 42);
}

TEST(BlockInPlace, IsRefusedOnTheCurrentThreadFlavor) {
  auto runtime = rt::Builder::current_thread().build();
  EXPECT_THROW(runtime.block_on(block_in_place_value()), std::logic_error);
}

}  // namespace
