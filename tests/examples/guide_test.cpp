// Each lesson of the guide (runtime/examples/guide) run as a program, and its evidence checked.
// Behaviour, not speed: lower bounds that follow from what the code does (a serial queue of
// 30 ms jobs takes at least their sum) and margins of half the blocking time for lateness, wide
// enough for a loaded 2-core machine. The benchmark lessons' figures are never asserted.
#include <gtest/gtest.h>

#include <string>

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
  EXPECT_NE(out.find("same buffer as the caller's: yes"), std::string::npos) << out;
  EXPECT_EQ(number_after(out, "owners left:"), 1) << out;
}

TEST(Guide, ABlockingCallMakesTheTickerLateByItsDurationAndTheFixesDoNot) {
  const auto out = lesson("never-block");
  EXPECT_GE(number_after(out, "sleep_for in a task: ticker late by"), 150) << out;  // of 200
  EXPECT_LT(number_after(out, "rt::sleep in a task:          ticker late by"), 100) << out;
  EXPECT_LT(number_after(out, "inside spawn_blocking:       ticker late by"), 100) << out;
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
  EXPECT_GE(number_after(out, "all gone after"), 150) << out;  // kept alive ~200 ms, then gone
  EXPECT_NE(out.find("workers 2, blocking threads 0 (0 idle)\n", out.find("all gone after")),
            std::string::npos)
      << out;
}

TEST(Guide, TheConfiguredPoolRunsTwoQueuesThreeAndRefusesTheSixth) {
  const auto out = lesson("configure");
  EXPECT_EQ(number_after(out, "after submitting 6 jobs: blocking threads"), 2) << out;
  EXPECT_EQ(number_after(out, "rejected"), 1) << out;
  EXPECT_EQ(number_after(out, "done:"), 5) << out;
  EXPECT_EQ(number_after(out, "refused:"), 1) << out;
  EXPECT_GE(number_after(out, "(JoinError rejected), after"), 90) << out;  // 3 rounds of 30 ms
  EXPECT_EQ(word_after(out, "on threads named:"), "guide-blk") << out;
}

TEST(Guide, CpuWorkInATaskDelaysTheTickerAndOnThePoolItDoesNot) {
  const auto out = lesson("cpu");
  const auto in_task = out.find("spawn         :");
  const auto in_pool = out.find("spawn_blocking:");
  ASSERT_NE(in_task, std::string::npos) << out;
  ASSERT_NE(in_pool, std::string::npos) << out;
  const std::string task_line = out.substr(in_task, out.find('\n', in_task) - in_task);
  const std::string pool_line = out.substr(in_pool, out.find('\n', in_pool) - in_pool);
  EXPECT_EQ(number_after(task_line, ":"), 25'997);
  EXPECT_EQ(number_after(pool_line, ":"), 25'997);
  const double computing = number_after(task_line, "300000 in");
  EXPECT_GE(number_after(task_line, "late by"), computing / 2) << out;
  EXPECT_LT(number_after(pool_line, "late by"), number_after(pool_line, "300000 in") / 2) << out;
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
}

TEST(Guide, TasksChangeThreadsOnTheMultiThreadRuntimeOnly) {
  const auto out = lesson("send");
  EXPECT_GT(number_after(out, "multi_thread, 2 workers:"), 0) << out;
  EXPECT_EQ(number_after(out, "current_thread:"), 0) << out;
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
  const auto out = lesson("mistakes");
  EXPECT_GE(number_after(out, "a 200 ms call in a task:  ticker late by"), 100) << out;
  EXPECT_LT(number_after(out, "the call in spawn_blocking: ticker late by"), 100) << out;
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

TEST(Guide, OpenSslOnThePoolLeavesTheTickerOnTime) {
  const auto out = lesson("ffi");
  const auto in_task = out.find("in a task:");
  const auto in_pool = out.find("in spawn_blocking:");
  ASSERT_NE(in_task, std::string::npos) << out;
  ASSERT_NE(in_pool, std::string::npos) << out;
  const std::string task_line = out.substr(in_task, out.find('\n', in_task) - in_task);
  const std::string pool_line = out.substr(in_pool, out.find('\n', in_pool) - in_pool);
  EXPECT_EQ(word_after(task_line, "key"), word_after(pool_line, "key")) << out;
  EXPECT_GE(number_after(task_line, "late by"), number_after(task_line, "took") / 2) << out;
  EXPECT_LT(number_after(pool_line, "late by"), number_after(pool_line, "took") / 2) << out;
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

TEST(Guide, TheComparisonTableHasEveryRow) {
  const auto out = lesson("compare");
  for (const char* row :
       {"| runs on |", "| spawn + await, one at a time |", "| 500 concurrent 20 ms waits |",
        "| 10 ms ticker beside 100 ms of CPU", "| dropped JoinHandle | detaches | detaches |"}) {
    EXPECT_NE(out.find(row), std::string::npos) << row << "\n" << out;
  }
  const auto ticker = out.find("| 10 ms ticker");
  EXPECT_GE(number_after(out.substr(ticker), "| late"), 50) << out;  // of 100
}

}  // namespace
