// spawn vs join on the same work. join runs its operations inside the calling task, taking turns
// on one thread; spawn makes independent tasks, which other workers pick up and which run on
// after the spawner has returned.
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "brigade/runtime/join.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

// How many pieces of work are running right now, and whether two ever ran at once.
struct Overlap {
  std::atomic<int> running{0};
  std::atomic<bool> seen{false};
};

// CPU work that keeps its thread busy until another piece is running too, or 500 ms passed.
rt::Task<std::string> piece(std::shared_ptr<Overlap> overlap) {
  overlap->running.fetch_add(1);
  const auto give_up = Clock::now() + 500ms;
  while (Clock::now() < give_up && !overlap->seen) {
    if (overlap->running.load() == 2) overlap->seen = true;
  }
  overlap->running.fetch_sub(1);
  co_return thread_name();
}

rt::Task<void> with_join() {
  auto overlap = std::make_shared<Overlap>();
  const auto start = Clock::now();
  auto first = piece(overlap);
  auto second = piece(overlap);
  auto [a, b] = co_await rt::join(std::move(first), std::move(second));
  std::printf("  join:  ran on %s and %s, at the same time: %s, %.0f ms\n", a.c_str(), b.c_str(),
              overlap->seen ? "yes" : "no", ms_since(start));
}

rt::Task<void> with_spawn() {
  auto overlap = std::make_shared<Overlap>();
  const auto start = Clock::now();
  auto first = rt::spawn(piece(overlap));
  auto second = rt::spawn(piece(overlap));
  auto a = co_await first;
  auto b = co_await second;
  std::printf("  spawn: ran on %s and %s, at the same time: %s, %.0f ms\n", a->c_str(), b->c_str(),
              overlap->seen ? "yes" : "no", ms_since(start));
}

// A piece of background work: records when it finished (ms after `start`).
rt::Task<void> background(Clock::time_point start, std::shared_ptr<std::atomic<double>> done_at) {
  co_await rt::sleep(50ms);
  done_at->store(ms_since(start));
}

// Starts the background work as a task of its own and returns at once, dropping the handle.
rt::Task<void> spawner(Clock::time_point start, std::shared_ptr<std::atomic<double>> done_at) {
  static_cast<void>(rt::spawn(background(start, std::move(done_at))));
  co_return;
}

// Starts the same work inside itself, with join, but gives up after 10 ms.
rt::Task<void> joiner(Clock::time_point start, std::shared_ptr<std::atomic<double>> done_at) {
  auto work = background(start, std::move(done_at));
  auto give_up = rt::sleep(10ms);
  auto work_or_give_up = rt::select(rt::join(std::move(work)), std::move(give_up));
  static_cast<void>(co_await work_or_give_up);
}

void report_outlived(const char* how, double returned_at, double done_at) {
  std::printf("  %s returned after %.1f ms; its work ", how, returned_at);
  if (done_at < 0) {
    std::printf("never finished (cancelled with it)\n");
  } else {
    std::printf("finished after %.1f ms\n", done_at);
  }
}

rt::Task<void> outliving_the_spawner() {
  for (const bool spawned : {true, false}) {
    const auto start = Clock::now();
    auto done_at = std::make_shared<std::atomic<double>>(-1.0);
    auto parent = spawned ? spawner(start, done_at) : joiner(start, done_at);
    co_await std::move(parent);
    const double returned_at = ms_since(start);
    // The spawned work gets up to 5 s to show it ran on; the joined one 150 ms to show it did not.
    auto finished = poll_until([done_at] { return done_at->load() >= 0; }, spawned ? 5s : 150ms);
    co_await std::move(finished);
    report_outlived(spawned ? "spawner" : "joiner ", returned_at, done_at->load());
  }
}

rt::Task<void> run() {
  std::printf("  two pieces of CPU work, each busy until the other runs too (at most 500 ms):\n");
  co_await with_join();
  co_await with_spawn();
  std::printf("  50 ms of work started by a parent that returns before it is done:\n");
  co_await outliving_the_spawner();
}

}  // namespace

int spawn_vs_join() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
