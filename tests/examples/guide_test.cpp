// Each lesson of the guide (runtime/examples/guide) run as a program, and its evidence checked.
// Behaviour, not speed: lower bounds that follow from what the code does (a serial queue of
// 30 ms jobs takes at least their sum) and margins of half the blocking time for lateness, wide
// enough for a loaded 2-core machine. The benchmark lessons' figures are never asserted.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "run_program.hpp"

namespace {

using brigade::test::number_after;
using brigade::test::word_after;

std::string lesson(const std::string& name) {
  const auto result = brigade::test::run_program({GUIDE_BIN, name});
  EXPECT_EQ(result.exit_code, 0) << result.out;
  return result.out;
}

TEST(Guide, ListsItsLessonsAndRefusesAnUnknownOne) {
  EXPECT_NE(brigade::test::run_program({GUIDE_BIN}).out.find("spawn-vs-join"), std::string::npos);
  EXPECT_EQ(brigade::test::run_program({GUIDE_BIN, "no-such-lesson"}).exit_code, 2);
}

TEST(Guide, TenThousandTasksShareTwoWorkers) {
  const auto out = lesson("tasks");
  EXPECT_EQ(number_after(out, "100 ms:"), 10'000) << out;
  EXPECT_LT(number_after(out, "finished after"), 5'000) << out;  // one after another: 1,000 s
  EXPECT_LE(number_after(out, "worker threads that ran them:"), 2) << out;
}

TEST(Guide, JoinTakesTurnsWhereSpawnRunsInParallelAndOutlivesItsSpawner) {
  const auto out = lesson("spawn-vs-join");
  EXPECT_NE(out.find("at the same time: no"), std::string::npos) << out;  // join
  EXPECT_NE(out.find("spawn: ran on brigade-w"), std::string::npos) << out;
  EXPECT_NE(out.find("at the same time: yes"), std::string::npos) << out;  // spawn
  EXPECT_GE(number_after(out, "its work finished after"), 50) << out;
  EXPECT_NE(out.find("its work never finished (cancelled with it)"), std::string::npos) << out;
}

TEST(Guide, DroppedHandlesDetachAndAbortCancels) {
  const auto out = lesson("detach");
  EXPECT_EQ(number_after(out, "the result arrives:"), 42) << out;
  EXPECT_NE(out.find("later, finished: 2 of 2"), std::string::npos) << out;
  EXPECT_NE(out.find("JoinError cancelled; finished: 0 of 1"), std::string::npos) << out;
}

TEST(Guide, ATaskOwnsWhatItTakesByValueAndAReferenceDangles) {
  const auto out = lesson("ownership");
  EXPECT_NE(out.find("the task's own copy alive: yes"), std::string::npos) << out;
  EXPECT_NE(out.find("the spawner's object alive: no"), std::string::npos) << out;
  EXPECT_NE(out.find("the captured copy alive: yes"), std::string::npos) << out;
  EXPECT_NE(out.find("same buffer as the caller's: yes"), std::string::npos) << out;
  EXPECT_EQ(number_after(out, "owners left:"), 1) << out;
}

// The evidence line a lesson printed after `label`, from the label to the end of its line.
std::string line_after(const std::string& out, std::string_view label) {
  const auto at = out.find(label);
  if (at == std::string::npos) return {};
  return out.substr(at, out.find('\n', at) - at);
}

// A call that holds the ticker's only worker: no tick runs while it does, and the ticker is late
// by about the whole call. The tick due first during the call was due at most one 10 ms period
// after it began, so it is late by at least the call less that period (a short call, such as
// 30 ms of CPU on an idle machine, is late by little more than 20 ms).
void expect_ticker_blocked(const std::string& evidence) {
  EXPECT_EQ(number_after(evidence, "ticks while the call ran:"), 0) << evidence;
  EXPECT_GE(number_after(evidence, "late by"),
            0.75 * (number_after(evidence, "ticks while the call ran: 0 in") - 10))
      << evidence;
}

// A call that leaves the worker free: the ticker keeps ticking while it runs. (How late at worst
// is printed, not asserted: on a loaded machine any thread may wait for a core.)
bool ticker_free(const std::string& evidence) {
  return number_after(evidence, "ticks while the call ran:") >= 1;
}

void expect_ticker_free(const std::string& evidence) {
  EXPECT_TRUE(ticker_free(evidence)) << evidence;
}

// Runs a lesson up to three times, until every line starting with one of `free_lines` shows the
// ticker free. A machine whose cores are taken for a whole call by other processes can hide that
// evidence once; nothing makes the opposite evidence, a ticker held by a blocking task, show up
// free, so retrying never passes a lesson that blocks its worker.
std::string lesson_with_free_ticker(const std::string& name,
                                    std::initializer_list<std::string_view> free_lines) {
  std::string out;
  for (int attempt = 0; attempt < 3; ++attempt) {
    out = lesson(name);
    bool all_free = true;
    for (const auto line : free_lines) all_free = all_free && ticker_free(line_after(out, line));
    if (all_free) break;
  }
  return out;
}

TEST(Guide, ABlockingCallHoldsTheTickerAndTheFixesDoNot) {
  const auto out = lesson_with_free_ticker(
      "never-block", {"co_await rt::sleep in a task:", "sleep_for inside spawn_blocking:"});
  expect_ticker_blocked(line_after(out, "sleep_for in a task:"));
  EXPECT_GE(number_after(line_after(out, "sleep_for in a task:"), "late by"), 150) << out;
  expect_ticker_free(line_after(out, "co_await rt::sleep in a task:"));
  expect_ticker_free(line_after(out, "sleep_for inside spawn_blocking:"));
}

TEST(Guide, EveryTaskSeesTheShutdownAndReturnsOnItsOwn) {
  const auto out = lesson("shutdown");
  EXPECT_EQ(number_after(out, "watch    :"), 4) << out;
  EXPECT_EQ(number_after(out, "broadcast:"), 4) << out;
  EXPECT_NE(out.find("4 of 4 tasks returned on their own"), std::string::npos) << out;
}

TEST(Guide, WorkersAreFixedAndTheBlockingPoolGrowsAndShrinks) {
  const auto out = lesson("pools");
  EXPECT_EQ(number_after(out, "at start:                          workers"), 2) << out;
  EXPECT_EQ(number_after(out, "at start:                          workers 2, blocking threads"), 0)
      << out;
  EXPECT_LE(number_after(out, "100 spawned tasks ran on"), 2) << out;
  EXPECT_EQ(number_after(out, "while 8 blocking jobs run:         workers 2, blocking threads"), 8)
      << out;
  EXPECT_EQ(word_after(out, "8 spawn_blocking closures ran on 1 thread(s):"), "brigade-blk") << out;
  EXPECT_NE(out.find("when they are done:                workers 2, blocking threads 8 (8 idle)"),
            std::string::npos)
      << out;
  EXPECT_GE(number_after(out, "all gone after"), 900) << out;  // kept alive ~1 s, then gone
  EXPECT_NE(out.find("workers 2, blocking threads 0 (0 idle)\n", out.find("all gone after")),
            std::string::npos)
      << out;
}

TEST(Guide, TheConfiguredPoolRunsTwoQueuesThreeAndRefusesTheSixth) {
  const auto out = lesson("configure");
  EXPECT_EQ(number_after(out, "after submitting 6 jobs: blocking threads"), 2) << out;
  EXPECT_EQ(number_after(out, "running"), 2) << out;
  EXPECT_EQ(number_after(out, "queued"), 3) << out;
  EXPECT_EQ(number_after(out, "rejected"), 1) << out;
  EXPECT_EQ(number_after(out, "done:"), 5) << out;
  EXPECT_EQ(number_after(out, "refused:"), 1) << out;
  EXPECT_GE(number_after(out, "(JoinError rejected), after"), 90) << out;  // 3 rounds of 30 ms
  EXPECT_EQ(word_after(out, "on threads named:"), "guide-blk") << out;
}

TEST(Guide, CpuWorkInATaskHoldsTheTickerAndOnThePoolItDoesNot) {
  const auto out = lesson_with_free_ticker("cpu", {"spawn_blocking:"});
  EXPECT_EQ(number_after(out, "spawn:"), 25'997) << out;
  EXPECT_EQ(number_after(out, "spawn_blocking:"), 25'997) << out;
  expect_ticker_blocked(line_after(out, "spawn:"));
  expect_ticker_free(line_after(out, "spawn_blocking:"));
}

TEST(Guide, AsyncSocketsNeedNoBlockingThreadsAndBlockingOnesGoInRounds) {
  const auto out = lesson("io");
  EXPECT_EQ(number_after(out, "async sockets in tasks         :"), 48) << out;
  EXPECT_EQ(number_after(out, "blocking threads used:"), 0) << out;
  EXPECT_EQ(number_after(out, "blocking sockets in spawn_blocking:"), 48) << out;
  // 48 waits of 50 ms, 8 at a time: 6 rounds.
  EXPECT_GE(number_after(out, "spawn_blocking: 48 of 48 answered after"), 270) << out;
  const auto sync_line = out.find("blocking sockets");
  EXPECT_LE(number_after(out.substr(sync_line), "blocking threads used:"), 8) << out;
}

TEST(Guide, FailuresOfBothKindsReachTheJoinHandle) {
  const auto out = lesson("errors");
  EXPECT_NE(out.find("spawn:          panicked:"), std::string::npos) << out;
  EXPECT_NE(out.find("panicked: the database is gone"), std::string::npos) << out;
  EXPECT_NE(out.find("spawn_blocking: panicked:"), std::string::npos) << out;
  EXPECT_NE(out.find("errors.cpp:"), std::string::npos) << out;  // the spawn site
  EXPECT_NE(out.find("rethrows it here: std::invalid_argument"), std::string::npos) << out;
  EXPECT_NE(out.find("abort():        cancelled:"), std::string::npos) << out;
  EXPECT_NE(out.find("full pool:      rejected:"), std::string::npos) << out;
  EXPECT_NE(out.find("the job that held the thread: done"), std::string::npos) << out;
}

TEST(Guide, TasksChangeThreadsOnTheMultiThreadRuntimeOnly) {
  const auto out = lesson("send");
  EXPECT_GT(number_after(out, "multi_thread, 2 workers:"), 0) << out;
  EXPECT_EQ(number_after(out, "current_thread:"), 0) << out;
}

TEST(Guide, SpawnLocalTasksShareUnlockedStateOnOneThreadAndTheMultiThreadFlavorRefusesThem) {
  const auto out = lesson("local");
  EXPECT_EQ(number_after(out, "count"), 100'000) << out;                 // no increment lost
  EXPECT_GE(number_after(out, "tasks in progress at once:"), 2) << out;  // they interleaved
  EXPECT_EQ(number_after(out, "threads that ran them:"), 1) << out;
  EXPECT_NE(word_after(out, "in block_on:"), "") << out;
  EXPECT_EQ(word_after(out, "threads that ran them: 1 ("), word_after(out, "in block_on:")) << out;
  EXPECT_EQ(number_after(out, "increments from another thread:"), 0) << out;
  EXPECT_NE(out.find("spawn_local gives std::logic_error: spawn_local needs a current-thread "
                     "runtime"),
            std::string::npos)
      << out;
}

TEST(Guide, PrintsTheCostOfBothKinds) {
  const auto out = lesson("cost");
  EXPECT_GT(number_after(out, "one at a time (5,000)"), 0) << out;
  EXPECT_GT(number_after(out, "then all awaited"), 0) << out;
}

TEST(Guide, ThePoolNeverExceedsItsSizeAndOneThreadRunsTheJobsInTurn) {
  const auto out = lesson("sizing");
  for (const int size : {1, 2, 4, 8, 32}) {
    const std::string row =
        "\n  " + std::string(11 - std::to_string(size).size(), ' ') + std::to_string(size) + " |";
    EXPECT_LE(number_after(out, row), size) << out;  // threads started
  }
  // One thread: 32 jobs of 10 ms one after another.
  const auto first_row = out.find("\n            1 |");
  ASSERT_NE(first_row, std::string::npos) << out;
  EXPECT_GE(number_after(out.substr(first_row), "1 |       1"), 288) << out;
}

TEST(Guide, EachCommonMistakeGoesWrongAndItsFixWorks) {
  const auto out = lesson_with_free_ticker("mistakes", {"1. fixed"});
  expect_ticker_blocked(line_after(out, "1. wrong"));
  expect_ticker_free(line_after(out, "1. fixed"));
  EXPECT_EQ(number_after(out, "the handle dropped:         errors seen:"), 0) << out;
  EXPECT_EQ(number_after(out, "the handle awaited:         errors seen:"), 1) << out;
  const double unbounded = number_after(out, "unbounded spawn_blocking:   200 jobs of 20 ms took");
  const double bounded = number_after(out, "8 permits:   200 jobs of 20 ms took");
  EXPECT_GE(bounded, 200.0 * 20 / 8) << out;  // 8 at a time
  EXPECT_GT(unbounded, 0) << out;
  const auto at_once = [&](std::string_view line_start) {
    return number_after(out.substr(out.find(line_start)), "at most");
  };
  EXPECT_LE(at_once("3. fixed"), 8) << out;
  EXPECT_GT(at_once("3. wrong"), 8) << out;
}

TEST(Guide, OpenSslInATaskHoldsTheTickerAndOnThePoolItDoesNot) {
  const auto out = lesson_with_free_ticker("ffi", {"in spawn_blocking:"});
  const auto in_task = line_after(out, "in a task:");
  const auto on_pool = line_after(out, "in spawn_blocking:");
  EXPECT_FALSE(word_after(in_task, "key").empty()) << out;
  EXPECT_EQ(word_after(in_task, "key"), word_after(on_pool, "key")) << out;
  expect_ticker_blocked(in_task);
  expect_ticker_free(on_pool);
}

TEST(Guide, EachPhaseRunsWhereItBelongs) {
  const auto out = lesson("mixing");
  EXPECT_EQ(number_after(out, "fetch (async):"), 1 << 20) << out;
  EXPECT_NE(out.find(" on brigade-w", out.find("fetch (async)")), std::string::npos) << out;
  const auto hash_line = out.find("hash (spawn_blocking):");
  EXPECT_EQ(word_after(out.substr(hash_line), "ms on"), "brigade-blk") << out;
  EXPECT_NE(out.find("sent, 64 bytes stored"), std::string::npos) << out;
  EXPECT_EQ(word_after(out.substr(out.find("store (async):")), "ms on").substr(0, 9), "brigade-w")
      << out;
}

// The last cell of a table row printed by a lesson: the spawn_blocking column.
std::string last_cell(const std::string& row) {
  const auto at = row.rfind("| ");
  return at == std::string::npos ? std::string{} : row.substr(at);
}

// The table's rows, each cell measured: dropped handles and exceptions from real runs, waits
// and CPU work showing which kind of work belongs where.
TEST(Guide, TheComparisonTableMeasuresEveryRow) {
  std::string out;
  std::string ticker;
  // The pool side of the ticker row is the evidence a loaded machine can hide once.
  for (int attempt = 0; attempt < 3; ++attempt) {
    out = lesson("compare");
    ticker = line_after(out, "| 10 ms ticker");
    if (number_after(last_cell(ticker), "ms,") >= 1) break;
  }
  for (const char* row : {"| runs on |", "| spawn + await, one at a time |"}) {
    EXPECT_NE(out.find(row), std::string::npos) << row << "\n" << out;
  }
  EXPECT_GE(number_after(ticker, "| late"), 75) << out;         // of 100
  EXPECT_EQ(number_after(ticker, "ms,"), 0) << out;             // ticks during it in a task
  EXPECT_GE(number_after(last_cell(ticker), "ms,"), 1) << out;  // and on the pool

  // Waiting belongs in tasks: 500 waits share the workers; on the pool each holds a thread.
  const auto waits = line_after(out, "| 500 concurrent 20 ms waits |");
  EXPECT_LE(number_after(waits, "ms on"), 2) << out;
  EXPECT_GT(number_after(last_cell(waits), "ms on"), 2) << out;

  EXPECT_NE(
      out.find("| dropped JoinHandle | detaches: ran to its end | detaches: ran to its end |"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("| an exception | JoinError panicked | JoinError panicked |"),
            std::string::npos)
      << out;
}

}  // namespace
