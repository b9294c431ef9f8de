// Handle::dump_tasks(): every live async task with its spawn site, state and annotation, grouped
// by describe() like a goroutine dump; finished tasks leave it; dumping while tasks come and go
// on several workers stays consistent (and race-free under ThreadSanitizer).
#include "brigade/runtime/task_dump.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <source_location>
#include <string>
#include <thread>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/sync/cancellation_token.hpp"
#include "brigade/runtime/task_annotation.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;

namespace {

using namespace std::chrono_literals;
using State = rt::TaskInfo::State;

rt::Task<void> wait_for(rt::CancellationToken release) {
  auto cancelled = release.cancelled();
  co_await std::move(cancelled);
}

rt::Task<void> annotated_wait(rt::CancellationToken release) {
  const rt::TaskAnnotation serving("/sleep");
  auto cancelled = release.cancelled();
  co_await std::move(cancelled);
}

bool spawned_at(const rt::TaskInfo& task, const std::source_location& site) {
  return task.spawned_at.line() == site.line() &&
         std::string(task.spawned_at.file_name()) == site.file_name();
}

std::size_t count(const std::vector<rt::TaskInfo>& tasks, const std::source_location& site,
                  State state) {
  return static_cast<std::size_t>(std::ranges::count_if(tasks, [&](const rt::TaskInfo& task) {
    return spawned_at(task, site) && task.state == state;
  }));
}

std::size_t count(const std::vector<rt::TaskInfo>& tasks, const std::source_location& site) {
  return static_cast<std::size_t>(std::ranges::count_if(
      tasks, [&](const rt::TaskInfo& task) { return spawned_at(task, site); }));
}

std::string site_line(const std::source_location& site, std::size_t tasks) {
  return std::to_string(tasks) + " tasks spawned at " + site.file_name() + ":" +
         std::to_string(site.line()) + " (";
}

// On the current-thread runtime nothing spawned runs before the root yields: the new tasks are
// deterministically `scheduled`, then `idle` once they have run up to their wait.
TEST(TaskDump, GroupsTasksBySpawnSiteWithTheirCountsAndStates) {
  auto runtime = rt::Builder::current_thread().build();
  runtime.block_on([]() -> rt::Task<void> {
    const rt::Handle handle = rt::Handle::current();
    const rt::CancellationToken release;
    std::vector<rt::JoinHandle<void>> joins;
    const std::source_location site_a = std::source_location::current();
    for (int i = 0; i < 3; ++i) joins.push_back(handle.spawn(wait_for(release), site_a));
    const std::source_location site_b = std::source_location::current();
    for (int i = 0; i < 2; ++i) joins.push_back(handle.spawn(annotated_wait(release), site_b));

    std::vector<rt::TaskInfo> tasks = handle.dump_tasks();
    EXPECT_EQ(count(tasks, site_a, State::scheduled), 3u);
    EXPECT_EQ(count(tasks, site_b, State::scheduled), 2u);
    // The root, calling dump_tasks, is itself a live task being polled.
    EXPECT_EQ(std::ranges::count(tasks, State::running, &rt::TaskInfo::state), 1);

    for (int turns = 0; turns < 100 && count(handle.dump_tasks(), site_a, State::idle) +
                                               count(handle.dump_tasks(), site_b, State::idle) <
                                           5;
         ++turns) {
      co_await rt::yield_now();
    }
    tasks = handle.dump_tasks();
    EXPECT_EQ(count(tasks, site_a, State::idle), 3u);
    EXPECT_EQ(count(tasks, site_b, State::idle), 2u);
    for (const rt::TaskInfo& task : tasks) {
      if (spawned_at(task, site_b)) {
        EXPECT_EQ(task.annotation, "/sleep");
      } else if (spawned_at(task, site_a)) {
        EXPECT_EQ(task.annotation, "");
      }
    }
    std::set<std::uint64_t> ids;
    for (const rt::TaskInfo& task : tasks) ids.insert(task.id);
    EXPECT_EQ(ids.size(), tasks.size()) << "a task listed twice";

    const std::string text = rt::describe(tasks, 2);
    EXPECT_NE(text.find(site_line(site_a, 3)), std::string::npos) << text;
    EXPECT_NE(text.find(site_line(site_b, 2)), std::string::npos) << text;
    EXPECT_NE(text.find("): 3 idle (3 cancellation)\n"), std::string::npos) << text;
    EXPECT_NE(text.find(" idle on cancellation, age "), std::string::npos) << text;
    EXPECT_NE(text.find(" 1 poll, annotation=/sleep\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  ... 1 more\n"), std::string::npos) << text;  // site A, capped at 2
    // The busiest site comes first.
    EXPECT_LT(text.find(site_line(site_a, 3)), text.find(site_line(site_b, 2))) << text;

    release.cancel();
    for (auto& join : joins) co_await join;
    tasks = handle.dump_tasks();
    EXPECT_EQ(count(tasks, site_a), 0u);
    EXPECT_EQ(count(tasks, site_b), 0u);
    EXPECT_EQ(tasks.size(), 1u);  // the root alone
  }());
}

// Threads take task ids in blocks, so a lower id may be a younger task: the tasks shown are the
// oldest by spawn time, the id breaking ties.
TEST(TaskDump, DescribeShowsTheOldestTasksByAgeNotById) {
  const std::source_location site = std::source_location::current();
  auto task = [&site](std::uint64_t id, std::chrono::milliseconds age) {
    rt::TaskInfo info;
    info.id = id;
    info.spawned_at = site;
    info.age = age;
    return info;
  };
  const std::vector<rt::TaskInfo> tasks = {task(5, 10ms), task(70, 900ms), task(9, 10ms)};
  const std::string text = rt::describe(tasks, 2);
  const std::size_t oldest = text.find("  task 70 ");
  const std::size_t tie_first = text.find("  task 5 ");
  ASSERT_NE(oldest, std::string::npos) << text;
  ASSERT_NE(tie_first, std::string::npos) << text;
  EXPECT_LT(oldest, tie_first) << text;
  EXPECT_EQ(text.find("  task 9 "), std::string::npos) << text;
  EXPECT_NE(text.find("  ... 1 more\n"), std::string::npos) << text;
}

rt::Task<void> short_lived(int yields) {
  for (int i = 0; i < yields; ++i) co_await rt::yield_now();
}

rt::Task<void> churn(std::atomic<bool>* stop, std::atomic<std::uint64_t>* spawned) {
  while (!stop->load(std::memory_order_relaxed)) {
    std::vector<rt::JoinHandle<void>> joins;
    for (int i = 0; i < 64; ++i) joins.push_back(rt::spawn(short_lived(i % 3)));
    spawned->fetch_add(joins.size(), std::memory_order_relaxed);
    for (auto& join : joins) co_await join;
  }
}

// Workers spawn and complete tasks without pause while another thread dumps: every dump lists
// each task at most once, and the dumps never hold the workers up for good (the churn keeps
// making progress while they run).
TEST(TaskDump, StaysConsistentWhileTasksComeAndGoOnSeveralWorkers) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> spawned{0};
  auto churners = std::vector<rt::JoinHandle<void>>{};
  for (int i = 0; i < 2; ++i) churners.push_back(runtime.spawn(churn(&stop, &spawned)));

  std::uint64_t seen_churn_at_least = 0;
  for (int dump = 0; dump < 200 || spawned.load() < 2000; ++dump) {
    const std::vector<rt::TaskInfo> tasks = runtime.dump_tasks();
    std::set<std::uint64_t> ids;
    for (const rt::TaskInfo& task : tasks) {
      ids.insert(task.id);
      EXPECT_NE(task.id, 0u);
    }
    EXPECT_EQ(ids.size(), tasks.size()) << "a task listed twice";
    seen_churn_at_least = std::max<std::uint64_t>(seen_churn_at_least, tasks.size());
    EXPECT_FALSE(rt::describe(tasks, 4).empty());
    if (dump > 1'000'000) break;  // only to fail instead of hanging
  }
  EXPECT_GE(spawned.load(), 2000u);
  EXPECT_GE(seen_churn_at_least, 2u);  // the two churn loops at least
  stop.store(true);
  runtime.block_on([](std::vector<rt::JoinHandle<void>>* joins) -> rt::Task<void> {
    for (auto& join : *joins) co_await join;
  }(&churners));
}

}  // namespace
