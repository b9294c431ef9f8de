// The multi-thread scheduler as a whole: stealing, no lost or doubled tasks under heavy spawning,
// wake-ups across threads, fairness (yield, injection queue, LIFO slot bound), runtime metrics,
// shutdown_timeout, and spawning from blocking closures.
//
// Nothing here asserts an upper bound on wall-clock time. Waits for something that must happen
// are bounded only to fail (or, through the Watchdog, abort with a message) instead of hanging CI.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../support/allowed_cpus.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/sync/notify.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif

// Scales an iteration count down under ThreadSanitizer, which is 5-15 times slower.
constexpr std::size_t scaled(std::size_t normal, std::size_t tsan) {
  return kThreadSanitizer ? tsan : normal;
}

// Aborts the process with a message if the scope is not left within `limit`: a lost wake-up then
// fails the run loudly instead of hanging it.
class Watchdog {
 public:
  Watchdog(std::chrono::seconds limit, std::string what)
      : what_(std::move(what)), thread_([this, limit] {
          std::unique_lock lock(mutex_);
          if (!changed_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: '%s' did not finish within %lld s (lost wake-up?)\n",
                         what_.c_str(), static_cast<long long>(limit.count()));
            std::fflush(stderr);
            std::abort();
          }
        }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard guard(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

 private:
  std::string what_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// Polls `condition` until it holds or `limit` passes; returns whether it held. For states that
// must be reached eventually (a counter published after a wake-up); the limit only bounds failure.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 10s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) return condition();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A latch for blocking closures: they wait until the test opens it. Opening is idempotent, so a
// guard can open it on every exit path (a runtime waits for running closures when destroyed).
class Gate {
 public:
  void wait() const {
    while (!open_.load(std::memory_order_acquire)) open_.wait(false, std::memory_order_acquire);
  }
  void open() {
    open_.store(true, std::memory_order_release);
    open_.notify_all();
  }

 private:
  std::atomic<bool> open_{false};
};

struct OpenOnExit {
  Gate* gate;
  ~OpenOnExit() { gate->open(); }
};

void wait_for_count(const std::atomic<int>& counter, int at_least) {
  for (int seen = counter.load(); seen < at_least; seen = counter.load()) counter.wait(seen);
}

void bump_and_notify(std::atomic<int>& counter) {
  counter.fetch_add(1);
  counter.notify_all();
}

// The index of the runtime worker running this thread, from its name ("<name>-w<index>").
std::optional<std::size_t> worker_index_of_this_thread() {
  char name[16] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return std::nullopt;
  const std::string_view view(name);
  const auto at = view.rfind("-w");
  if (at == std::string_view::npos || at + 2 >= view.size()) return std::nullopt;
  std::size_t index = 0;
  for (char c : view.substr(at + 2)) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  return index;
}

std::string this_thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

rt::Task<void> set_flag(std::atomic<bool>* flag) {
  flag->store(true, std::memory_order_release);
  co_return;
}

rt::Task<void> sleep_forever(std::shared_ptr<int> held) {
  co_await rt::sleep(1h);
  ++*held;
}

std::uint64_t total_polls(const rt::RuntimeMetrics& m) {
  std::uint64_t sum = 0;
  for (const auto& w : m.worker) sum += w.polls;
  return sum;
}

std::uint64_t total_parks(const rt::RuntimeMetrics& m) {
  std::uint64_t sum = 0;
  for (const auto& w : m.worker) sum += w.parks;
  return sum;
}

// Runtimes with a single worker: the current-thread flavor, and the multi-thread flavor with one
// worker thread. On both, scheduling order is deterministic enough to count turns.
class SchedulerOneWorkerTest : public ::testing::TestWithParam<bool> {
 protected:
  static rt::Runtime make() {
    return GetParam() ? rt::Builder::multi_thread().worker_threads(1).build()
                      : rt::Builder::current_thread().build();
  }
};

// Both flavors; the multi-thread one with two workers.
class SchedulerFlavorTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool multi_thread() { return GetParam(); }
  static rt::Runtime make() {
    return GetParam() ? rt::Builder::multi_thread().worker_threads(2).build()
                      : rt::Builder::current_thread().build();
  }
};

std::string flavor_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "MultiThread" : "CurrentThread";
}

// ---------------------------------------------------------------------------------------------
// Stealing

struct StealProbe {
  static constexpr int kTasks = 128;  // below the local queue's 256 slots: nothing overflows
  std::atomic<int> ran{0};
  std::atomic<bool> spinning{false};
  std::atomic<int> ran_on_spinner_while_spinning{0};
  std::atomic<int> ran_elsewhere_while_spinning{0};
  std::thread::id spinner;
  std::optional<std::size_t> spinner_worker;
  int ran_when_spin_ended = 0;
  int joined_ok = 0;
};

rt::Task<void> note_where_i_ran(StealProbe* probe) {
  if (probe->spinning.load(std::memory_order_acquire)) {
    auto& counter = std::this_thread::get_id() == probe->spinner
                        ? probe->ran_on_spinner_while_spinning
                        : probe->ran_elsewhere_while_spinning;
    counter.fetch_add(1);
  }
  probe->ran.fetch_add(1, std::memory_order_release);
  co_return;
}

// Spawns kTasks onto this worker's own queue (spawns from a task go to its worker: the last one
// sits in the LIFO slot, the others in the local queue), then keeps the worker busy without ever
// suspending. Only another worker stealing from this queue can run them meanwhile.
rt::Task<void> spawn_then_hog_the_worker(StealProbe* probe) {
  probe->spinner = std::this_thread::get_id();
  probe->spinner_worker = worker_index_of_this_thread();
  probe->spinning.store(true, std::memory_order_release);
  std::vector<rt::JoinHandle<void>> handles;
  handles.reserve(StealProbe::kTasks);
  for (int i = 0; i < StealProbe::kTasks; ++i) {
    handles.push_back(rt::spawn(note_where_i_ran(probe)));
  }
  // The LIFO slot cannot be stolen, so kTasks - 1 is all the other worker can take.
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (probe->ran.load(std::memory_order_acquire) < StealProbe::kTasks - 1 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  probe->ran_when_spin_ended = probe->ran.load();
  probe->spinning.store(false, std::memory_order_release);
  for (auto& handle : handles) {
    if (co_await handle) ++probe->joined_ok;
  }
}

TEST(SchedulerTest, AnIdleWorkerStealsTheQueuedTasksOfABusyOne) {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).thread_name("steal").build();
  StealProbe probe;
  runtime.block_on(spawn_then_hog_the_worker(&probe));

  EXPECT_EQ(probe.ran_when_spin_ended, StealProbe::kTasks - 1)
      << "the other worker did not take the busy worker's queued tasks";
  EXPECT_EQ(probe.ran_on_spinner_while_spinning.load(), 0);
  EXPECT_EQ(probe.ran_elsewhere_while_spinning.load(), StealProbe::kTasks - 1);
  EXPECT_EQ(probe.joined_ok, StealProbe::kTasks);

  ASSERT_TRUE(probe.spinner_worker.has_value()) << "worker threads should be named steal-w<i>";
  ASSERT_LT(*probe.spinner_worker, 2u);
  const std::size_t thief = 1 - *probe.spinner_worker;
  const auto metrics = runtime.metrics();
  ASSERT_EQ(metrics.worker.size(), 2u);
  // Every task the thief ran while the victim was busy came out of the victim's local queue.
  EXPECT_GE(metrics.worker[thief].steals, static_cast<std::uint64_t>(StealProbe::kTasks - 1));
  EXPECT_GE(metrics.worker[thief].steal_operations, 1u);
  // The thief takes half of what is queued at a time, so it needed several steal operations.
  EXPECT_LT(metrics.worker[thief].steal_operations, metrics.worker[thief].steals);
}

// ---------------------------------------------------------------------------------------------
// No task lost, none run twice

struct Ledger {
  explicit Ledger(std::size_t tasks)
      : size(tasks), hits(std::make_unique<std::atomic<std::uint32_t>[]>(tasks)) {}
  const std::size_t size;
  std::unique_ptr<std::atomic<std::uint32_t>[]> hits;  // value-initialised: all zero
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::uint64_t> issued{0};  // tasks spawned or about to be (outside + children)
};

constexpr std::size_t kNoChild = ~std::size_t{0};

rt::Task<void> record_once(Ledger* ledger, std::size_t index, std::size_t child) {
  // Some tasks suspend first, so that they are woken and rescheduled, not just run once.
  if (index % 5 == 0) co_await rt::yield_now();
  if (child != kNoChild) static_cast<void>(rt::spawn(record_once(ledger, child, kNoChild)));
  ledger->hits[index].fetch_add(1, std::memory_order_relaxed);
  ledger->total.fetch_add(1, std::memory_order_release);
}

TEST(SchedulerTest, NoTaskIsLostOrRunTwiceUnderMillionsOfSpawnsFromSeveralThreads) {
  constexpr std::size_t kThreads = 4;
  // Each outside spawn also spawns one child from inside the runtime: 2M tasks (50k under TSan).
  constexpr std::size_t kPerThread = scaled(250'000, 6'250);
  constexpr std::size_t kOutside = kThreads * kPerThread;
  constexpr std::size_t kTotal = 2 * kOutside;
  // Bounds memory: outside threads wait while this many tasks are spawned but not yet run.
  constexpr std::uint64_t kMaxBacklog = 100'000;
  constexpr std::size_t kBatch = 256;

  Watchdog watchdog(120s, "NoTaskIsLostOrRunTwice");
  Ledger ledger(kTotal);
  {
    auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
    const auto handle = runtime.handle();
    std::vector<std::thread> spawners;
    for (std::size_t t = 0; t < kThreads; ++t) {
      spawners.emplace_back([&ledger, handle, t] {
        const std::size_t first = t * kPerThread;
        for (std::size_t i = first; i < first + kPerThread; ++i) {
          if ((i - first) % kBatch == 0) {
            while (ledger.issued.load() - ledger.total.load() > kMaxBacklog) {
              std::this_thread::yield();
            }
            ledger.issued.fetch_add(2 * kBatch);
          }
          static_cast<void>(handle.spawn(record_once(&ledger, i, kOutside + i)));
        }
      });
    }
    for (auto& spawner : spawners) spawner.join();

    EXPECT_TRUE(eventually([&] { return ledger.total.load() >= kTotal; }, 100s))
        << "only " << ledger.total.load() << " of " << kTotal << " tasks ran";
    EXPECT_TRUE(eventually([&] {
      const auto m = runtime.metrics();
      return m.tasks_spawned == kTotal && m.tasks_alive == 0;
    }));
    const auto metrics = runtime.metrics();
    EXPECT_EQ(metrics.tasks_spawned, kTotal);
    EXPECT_EQ(metrics.tasks_alive, 0u);
    EXPECT_GE(total_polls(metrics), kTotal);
  }  // the runtime's workers are joined here: every run that will ever happen has happened

  EXPECT_EQ(ledger.total.load(), kTotal);
  std::size_t never = 0;
  std::size_t twice = 0;
  std::size_t first_bad = kNoChild;
  for (std::size_t i = 0; i < kTotal; ++i) {
    const auto hits = ledger.hits[i].load();
    if (hits == 1) continue;
    (hits == 0 ? never : twice) += 1;
    if (first_bad == kNoChild) first_bad = i;
  }
  EXPECT_EQ(never, 0u) << "tasks never run; first bad index " << first_bad;
  EXPECT_EQ(twice, 0u) << "tasks run more than once; first bad index " << first_bad;
}

// ---------------------------------------------------------------------------------------------
// Wake-ups across threads

// Each round trip: a blocking-pool thread completes the closure and wakes the awaiting task from
// outside the workers.
rt::Task<std::uint64_t> blocking_round_trips(std::uint64_t rounds) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 1; i <= rounds; ++i) {
    auto result = co_await rt::spawn_blocking([i] { return i; });
    if (result) sum += *result;
  }
  co_return sum;
}

rt::Task<std::uint64_t> many_blocking_round_trips(std::uint64_t tasks, std::uint64_t rounds) {
  std::vector<rt::JoinHandle<std::uint64_t>> handles;
  for (std::uint64_t t = 0; t < tasks; ++t) {
    handles.push_back(rt::spawn(blocking_round_trips(rounds)));
  }
  std::uint64_t sum = 0;
  for (auto& handle : handles) {
    auto result = co_await handle;
    if (result) sum += *result;
  }
  co_return sum;
}

TEST_P(SchedulerFlavorTest, TasksWokenByBlockingClosuresNeverMissAWakeUp) {
  const std::uint64_t tasks = 8;
  const std::uint64_t rounds = scaled(2'500, 250);
  Watchdog watchdog(60s, "TasksWokenByBlockingClosuresNeverMissAWakeUp");
  auto runtime = make();
  EXPECT_EQ(runtime.block_on(many_blocking_round_trips(tasks, rounds)),
            tasks * rounds * (rounds + 1) / 2);
}

// A task and an outside thread take turns: the thread wakes the task through a Notify, the task
// answers through an atomic the thread waits on.
struct OutsidePingPong {
  rt::Notify to_task;
  std::atomic<std::uint64_t> answered{0};
};

rt::Task<void> answer_pings(OutsidePingPong* game, std::uint64_t rounds) {
  for (std::uint64_t i = 1; i <= rounds; ++i) {
    co_await game->to_task.notified();
    game->answered.store(i, std::memory_order_release);
    game->answered.notify_one();
  }
}

void send_pings(OutsidePingPong& game, std::uint64_t rounds) {
  for (std::uint64_t i = 1; i <= rounds; ++i) {
    game.to_task.notify_one();
    for (auto seen = game.answered.load(std::memory_order_acquire); seen < i;
         seen = game.answered.load(std::memory_order_acquire)) {
      game.answered.wait(seen, std::memory_order_acquire);
    }
  }
}

TEST_P(SchedulerFlavorTest, TasksWokenFromOutsideThreadsNeverMissAWakeUp) {
  const std::uint64_t rounds = scaled(10'000, 2'000);
  Watchdog watchdog(60s, "TasksWokenFromOutsideThreadsNeverMissAWakeUp");
  auto runtime = make();
  OutsidePingPong games[2];
  auto first = runtime.spawn(answer_pings(&games[0], rounds));
  auto second = runtime.spawn(answer_pings(&games[1], rounds));
  std::thread other([&] { send_pings(games[1], rounds); });
  if (multi_thread()) {
    send_pings(games[0], rounds);
  } else {
    // The current-thread flavor runs only inside block_on: drive it from here meanwhile.
    std::thread driver([&] { send_pings(games[0], rounds); });
    runtime.block_on([](rt::JoinHandle<void>* a, rt::JoinHandle<void>* b) -> rt::Task<void> {
      co_await *a;
      co_await *b;
    }(&first, &second));
    driver.join();
  }
  other.join();
  EXPECT_EQ(games[0].answered.load(), rounds);
  EXPECT_EQ(games[1].answered.load(), rounds);
  EXPECT_TRUE(eventually([&] { return first.is_finished() && second.is_finished(); }));
}

// Two tasks wake each other through two Notify objects. On two workers they migrate between the
// workers (LIFO slot, local queue, steals), so wake-ups cross threads in every direction.
struct TaskPingPong {
  rt::Notify ping;
  rt::Notify pong;
  std::atomic<bool> stop{false};
  std::uint64_t rounds = 0;  // written by the pinger only
};

rt::Task<void> pinger(TaskPingPong* game, std::uint64_t max_rounds) {
  while (!game->stop.load(std::memory_order_acquire) && game->rounds < max_rounds) {
    game->ping.notify_one();
    co_await game->pong.notified();
    ++game->rounds;
  }
  game->stop.store(true, std::memory_order_release);
  game->ping.notify_one();  // lets the ponger see `stop`
}

rt::Task<void> ponger(TaskPingPong* game) {
  for (;;) {
    co_await game->ping.notified();
    game->pong.notify_one();  // always answer, so the pinger never waits for a pong in vain
    if (game->stop.load(std::memory_order_acquire)) co_return;
  }
}

rt::Task<std::uint64_t> play_ping_pong(TaskPingPong* game, std::uint64_t rounds) {
  auto a = rt::spawn(pinger(game, rounds));
  auto b = rt::spawn(ponger(game));
  co_await a;
  co_await b;
  co_return game->rounds;
}

TEST(SchedulerTest, TwoTasksPingPongAcrossWorkersWithoutLosingAWakeUp) {
  const std::uint64_t rounds = scaled(50'000, 5'000);
  Watchdog watchdog(60s, "TwoTasksPingPongAcrossWorkersWithoutLosingAWakeUp");
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  // Several games at once keep both workers busy and stealing from each other.
  constexpr int kGames = 4;
  TaskPingPong games[kGames];
  std::vector<rt::JoinHandle<std::uint64_t>> handles;
  for (auto& game : games) handles.push_back(runtime.spawn(play_ping_pong(&game, rounds)));
  const auto results = runtime.block_on(
      [](std::vector<rt::JoinHandle<std::uint64_t>>* all) -> rt::Task<std::vector<std::uint64_t>> {
        std::vector<std::uint64_t> out;
        for (auto& handle : *all) {
          auto result = co_await handle;
          out.push_back(result ? *result : 0);
        }
        co_return out;
      }(&handles));
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kGames));
  for (auto result : results) EXPECT_EQ(result, rounds);
}

// A chain of spawn-and-join: each child may be stolen by the other worker, which then wakes the
// parent across threads when it completes.
rt::Task<std::uint64_t> child_value(std::uint64_t i) { co_return i; }

rt::Task<std::uint64_t> spawn_and_join_repeatedly(std::uint64_t rounds) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 1; i <= rounds; ++i) {
    auto result = co_await rt::spawn(child_value(i));
    if (result) sum += *result;
  }
  co_return sum;
}

TEST_P(SchedulerFlavorTest, JoinHandlesWakeTheirAwaitersAcrossWorkers) {
  const std::uint64_t rounds = scaled(20'000, 2'000);
  Watchdog watchdog(60s, "JoinHandlesWakeTheirAwaitersAcrossWorkers");
  auto runtime = make();
  std::vector<rt::JoinHandle<std::uint64_t>> handles;
  for (int i = 0; i < 4; ++i) handles.push_back(runtime.spawn(spawn_and_join_repeatedly(rounds)));
  const auto sum = runtime.block_on(
      [](std::vector<rt::JoinHandle<std::uint64_t>>* all) -> rt::Task<std::uint64_t> {
        std::uint64_t total = 0;
        for (auto& handle : *all) {
          auto result = co_await handle;
          if (result) total += *result;
        }
        co_return total;
      }(&handles));
  EXPECT_EQ(sum, 4 * rounds * (rounds + 1) / 2);
}

// ---------------------------------------------------------------------------------------------
// Fairness

struct YieldRace {
  std::atomic<bool> done{false};
  std::uint64_t spinner_yields = 0;
  std::uint64_t spinner_yields_when_done = 0;
};

rt::Task<void> yield_until_done(YieldRace* race, std::uint64_t limit) {
  while (!race->done.load() && race->spinner_yields < limit) {
    co_await rt::yield_now();
    ++race->spinner_yields;
  }
}

rt::Task<void> yield_k_times_then_finish(YieldRace* race, std::uint64_t k) {
  for (std::uint64_t i = 0; i < k; ++i) co_await rt::yield_now();
  race->spinner_yields_when_done = race->spinner_yields;
  race->done.store(true);
}

rt::Task<void> yield_race(YieldRace* race, std::uint64_t k, std::uint64_t limit) {
  auto spinner = rt::spawn(yield_until_done(race, limit));
  auto other = rt::spawn(yield_k_times_then_finish(race, k));
  co_await spinner;
  co_await other;
}

TEST_P(SchedulerOneWorkerTest, AYieldingTaskCannotStarveAnother) {
  constexpr std::uint64_t kTurns = 1'000;
  constexpr std::uint64_t kLimit = 1'000'000;
  auto runtime = make();
  YieldRace race;
  runtime.block_on(yield_race(&race, kTurns, kLimit));
  ASSERT_TRUE(race.done.load()) << "the other task never finished its " << kTurns << " turns";
  EXPECT_LT(race.spinner_yields, kLimit);
  // A yield goes to the back of the queue, so the two take turns: about one spinner yield per
  // turn of the other task.
  EXPECT_GE(race.spinner_yields_when_done, kTurns / 2);
  EXPECT_LE(race.spinner_yields_when_done, 2 * kTurns);
}

// A task that yields forever keeps the worker's local queue non-empty; a task spawned from an
// outside thread lands in the injection queue and must still run (the periodic injection check).
rt::Task<bool> yield_until_an_injected_task_runs() {
  std::atomic<bool> ran{false};
  const auto handle = rt::Handle::current();
  std::thread outside([handle, &ran] { static_cast<void>(handle.spawn(set_flag(&ran))); });
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!ran.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
    co_await rt::yield_now();
  }
  outside.join();  // it has long finished spawning; joining from a task is harmless here
  co_return ran.load();
}

TEST_P(SchedulerOneWorkerTest, ATaskInjectedFromOutsideRunsWhileTheWorkerIsBusyYielding) {
  auto runtime = make();
  EXPECT_TRUE(runtime.block_on(yield_until_an_injected_task_runs()));
}

// Two tasks waking each other would live in the LIFO slot forever without its bound; the third
// task (it only yields) must keep getting turns.
struct Bystander {
  std::uint64_t progress = 0;
  std::uint64_t ping_pong_rounds_when_done = 0;
};

rt::Task<void> make_progress(Bystander* bystander, TaskPingPong* game, std::uint64_t steps) {
  for (std::uint64_t i = 0; i < steps; ++i) {
    co_await rt::yield_now();
    ++bystander->progress;
  }
  bystander->ping_pong_rounds_when_done = game->rounds;
  game->stop.store(true, std::memory_order_release);
}

rt::Task<void> ping_pong_beside_a_bystander(TaskPingPong* game, Bystander* bystander,
                                            std::uint64_t steps, std::uint64_t max_rounds) {
  auto a = rt::spawn(pinger(game, max_rounds));
  auto b = rt::spawn(ponger(game));
  // Let the ping-pong get going before the third task exists.
  while (game->rounds < 10 && !game->stop.load()) co_await rt::yield_now();
  auto c = rt::spawn(make_progress(bystander, game, steps));
  co_await a;
  co_await b;
  co_await c;
}

TEST_P(SchedulerOneWorkerTest, TwoTasksWakingEachOtherDoNotStarveAThird) {
  constexpr std::uint64_t kSteps = 500;
  constexpr std::uint64_t kMaxRounds = 200'000;
  Watchdog watchdog(60s, "TwoTasksWakingEachOtherDoNotStarveAThird");
  auto runtime = make();
  TaskPingPong game;
  Bystander bystander;
  runtime.block_on(ping_pong_beside_a_bystander(&game, &bystander, kSteps, kMaxRounds));
  EXPECT_EQ(bystander.progress, kSteps) << "the third task was starved";
  EXPECT_LT(game.rounds, kMaxRounds) << "the ping-pong ran to its limit before the third task "
                                        "finished";
  // And the ping-pong did go on while the third task made progress.
  EXPECT_GE(bystander.ping_pong_rounds_when_done, 10 + kSteps / 4);
}

// ---------------------------------------------------------------------------------------------
// Metrics

rt::Task<void> nothing() { co_return; }

rt::Task<int> spawn_and_join_n(int n) {
  std::vector<rt::JoinHandle<void>> handles;
  for (int i = 0; i < n; ++i) handles.push_back(rt::spawn(nothing()));
  int ok = 0;
  for (auto& handle : handles) {
    if (co_await handle) ++ok;
  }
  co_return ok;
}

TEST_P(SchedulerFlavorTest, MetricsCountSpawnedAndAliveTasksExactly) {
  constexpr int kTasks = 500;
  auto runtime = make();
  const auto before = runtime.metrics();
  EXPECT_EQ(before.tasks_spawned, 0u);
  EXPECT_EQ(before.tasks_alive, 0u);

  EXPECT_EQ(runtime.block_on(spawn_and_join_n(kTasks)), kTasks);
  // The children plus block_on's own root task. The root's completion is counted just after
  // block_on has its value, so wait for it.
  EXPECT_TRUE(eventually([&] { return runtime.metrics().tasks_alive == 0; }));
  auto after = runtime.metrics();
  EXPECT_EQ(after.tasks_spawned, static_cast<std::uint64_t>(kTasks + 1));
  EXPECT_EQ(after.tasks_alive, 0u);
  EXPECT_GE(total_polls(after), static_cast<std::uint64_t>(kTasks + 1));

  // Tasks spawned from outside and still pending are alive.
  std::vector<rt::JoinHandle<void>> sleepers;
  auto held = std::make_shared<int>(0);
  for (int i = 0; i < 3; ++i) sleepers.push_back(runtime.spawn(sleep_forever(held)));
  after = runtime.metrics();
  EXPECT_EQ(after.tasks_spawned, static_cast<std::uint64_t>(kTasks + 4));
  EXPECT_EQ(after.tasks_alive, 3u);
  for (auto& sleeper : sleepers) sleeper.abort();
  runtime.block_on([](std::vector<rt::JoinHandle<void>>* all) -> rt::Task<void> {
    for (auto& handle : *all) static_cast<void>(co_await handle);
  }(&sleepers));
  EXPECT_TRUE(eventually([&] { return runtime.metrics().tasks_alive == 0; }));
  EXPECT_EQ(runtime.metrics().tasks_spawned, static_cast<std::uint64_t>(kTasks + 5));
}

// Spawns from several outside threads at once all land in the same "not on a worker" counter: none
// may be lost. (The current-thread flavor runs nothing meanwhile, so the count is exact as soon as
// the threads are joined.)
TEST(SchedulerMetricsTest, TasksSpawnedCountsConcurrentSpawnsFromOutsideThreads) {
  constexpr int kThreads = 4;
  const int per_thread = static_cast<int>(scaled(50'000, 5'000));
  std::atomic<int> ran{0};
  auto runtime = rt::Builder::current_thread().build();
  const auto handle = runtime.handle();
  std::vector<std::thread> spawners;
  for (int t = 0; t < kThreads; ++t) {
    spawners.emplace_back([handle, per_thread, &ran] {
      for (int i = 0; i < per_thread; ++i) {
        static_cast<void>(handle.spawn([](std::atomic<int>* counter) -> rt::Task<void> {
          counter->fetch_add(1);
          co_return;
        }(&ran)));
      }
    });
  }
  for (auto& spawner : spawners) spawner.join();
  const auto total = static_cast<std::uint64_t>(kThreads * per_thread);
  auto metrics = runtime.metrics();
  EXPECT_EQ(metrics.tasks_spawned, total);
  EXPECT_EQ(metrics.tasks_alive, total);
  runtime.block_on([](std::atomic<int>* counter, int expected) -> rt::Task<void> {
    while (counter->load() < expected) co_await rt::yield_now();
  }(&ran, kThreads * per_thread));
  EXPECT_EQ(ran.load(), kThreads * per_thread);
  EXPECT_TRUE(eventually([&] { return runtime.metrics().tasks_alive == 0; }));
  EXPECT_EQ(runtime.metrics().tasks_spawned, total + 1);  // and block_on's root
}

rt::Task<void> sleep_a_little() { co_await rt::sleep(20ms); }

TEST_P(SchedulerFlavorTest, MetricsPollsAndParksGrow) {
  auto runtime = make();
  const auto before = runtime.metrics();
  EXPECT_EQ(runtime.block_on(spawn_and_join_n(100)), 100);
  const auto mid = runtime.metrics();
  EXPECT_GE(total_polls(mid), total_polls(before) + 101);
  // While the only task sleeps, every worker has nothing to do and parks (the parks are counted
  // before the wake-up that lets block_on return).
  runtime.block_on(sleep_a_little());
  EXPECT_TRUE(eventually([&] { return total_parks(runtime.metrics()) > total_parks(mid); }));
  const auto after = runtime.metrics();
  EXPECT_GT(total_parks(after), total_parks(mid));
  EXPECT_GE(total_polls(after), total_polls(mid) + 1);
  std::chrono::nanoseconds busy{0};
  for (const auto& worker : after.worker) busy += worker.busy;
  EXPECT_GT(busy.count(), 0);
}

// More spawns from one task than its worker's local queue holds (256): half the queue spills into
// the injection queue, and every task still runs exactly once.
struct SpillCount {
  std::unique_ptr<std::atomic<int>[]> hits;
  explicit SpillCount(int n)
      : hits(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n))) {}
};

rt::Task<void> hit(SpillCount* count, int index) {
  count->hits[static_cast<std::size_t>(index)].fetch_add(1);
  co_return;
}

rt::Task<int> spawn_more_than_the_local_queue_holds(SpillCount* count, int n) {
  std::vector<rt::JoinHandle<void>> handles;
  for (int i = 0; i < n; ++i) handles.push_back(rt::spawn(hit(count, i)));
  int ok = 0;
  for (auto& handle : handles) {
    if (co_await handle) ++ok;
  }
  co_return ok;
}

constexpr int kSpillTasks = 1'000;

TEST_P(SchedulerOneWorkerTest, TasksOverflowingTheLocalQueueAllRunOnce) {
  auto runtime = make();
  SpillCount count(kSpillTasks);
  EXPECT_EQ(runtime.block_on(spawn_more_than_the_local_queue_holds(&count, kSpillTasks)),
            kSpillTasks);
  int once = 0;
  for (int i = 0; i < kSpillTasks; ++i) once += count.hits[static_cast<std::size_t>(i)].load() == 1;
  EXPECT_EQ(once, kSpillTasks);
}

// Wake-ups from the driver go behind tasks already waiting in the injection queue. A burst of
// timer wake-ups overflows the local queue (256 slots) into the injection queue; wake-ups from a
// later driver poll must not overtake them through the local queue, or the oldest wait longest
// (the latency tail of a server with more ready connections than the queue holds).
struct WakeOrder {
  std::atomic<int> next{0};
  std::atomic<int> last_early{-1};
  std::atomic<int> first_late{1 << 30};
};

// Set by the spawner once every task is spawned: a task reads its deadline when it first runs,
// so however long spawning takes (under a sanitizer, on a loaded machine) the deadlines are
// still ahead when the tasks go to sleep.
struct Deadlines {
  rt::Clock::time_point early;
  rt::Clock::time_point late;
};

rt::Task<void> record_wake_order(WakeOrder* order, const Deadlines* deadlines, bool early) {
  co_await rt::sleep_until(early ? deadlines->early : deadlines->late);
  const int position = order->next.fetch_add(1);
  if (early) {
    // Each early task takes a while, so the driver (polled every 61 tasks) sees the late
    // deadline pass while hundreds of early tasks still wait.
    const auto until = std::chrono::steady_clock::now() + 100us;
    while (std::chrono::steady_clock::now() < until) {
    }
    int seen = order->last_early.load();
    while (seen < position && !order->last_early.compare_exchange_weak(seen, position)) {
    }
  } else {
    int seen = order->first_late.load();
    while (seen > position && !order->first_late.compare_exchange_weak(seen, position)) {
    }
  }
}

rt::Task<void> wake_early_and_late_batches(WakeOrder* order, int early, int late) {
  Deadlines deadlines;
  std::vector<rt::JoinHandle<void>> handles;
  for (int i = 0; i < early; ++i)
    handles.push_back(rt::spawn(record_wake_order(order, &deadlines, true)));
  for (int i = 0; i < late; ++i)
    handles.push_back(rt::spawn(record_wake_order(order, &deadlines, false)));
  // Nothing spawned has run yet: this task holds the one worker until it awaits.
  deadlines.early = rt::Clock::now() + 100ms;
  deadlines.late = deadlines.early + 3ms;
  for (auto& handle : handles) static_cast<void>(co_await handle);
}

TEST_P(SchedulerOneWorkerTest, LaterWakeUpsDoNotOvertakeTasksWaitingInTheInjectionQueue) {
  constexpr int kEarly = 1'000;
  constexpr int kLate = 50;
  auto runtime = make();
  WakeOrder order;
  runtime.block_on(wake_early_and_late_batches(&order, kEarly, kLate));
  ASSERT_EQ(order.next.load(), kEarly + kLate);
  EXPECT_LT(order.last_early.load(), order.first_late.load())
      << "a task woken by the later deadline ran before an earlier one";
}

TEST(SchedulerMetricsTest, WorkerCountIsTheConfiguredOne) {
  {
    auto runtime = rt::Builder::multi_thread().worker_threads(3).build();
    const auto metrics = runtime.metrics();
    EXPECT_EQ(metrics.workers, 3u);
    EXPECT_EQ(metrics.worker.size(), 3u);
    EXPECT_EQ(metrics.injection_queue_depth, 0u);
  }
  {
    auto runtime = rt::Builder::current_thread().build();
    const auto metrics = runtime.metrics();
    EXPECT_EQ(metrics.workers, 1u);
    EXPECT_EQ(metrics.worker.size(), 1u);
  }
  {
    auto runtime = rt::Builder::multi_thread().build();  // default: one per core
    const auto cores = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_EQ(runtime.metrics().workers, cores);
  }
}

TEST(SchedulerMetricsTest, InjectionQueueDepthShowsTasksSpawnedFromOutside) {
  // The current-thread flavor runs nothing outside block_on, so spawned tasks wait where they were
  // put: in the injection queue.
  auto runtime = rt::Builder::current_thread().build();
  std::vector<rt::JoinHandle<void>> handles;
  for (int i = 0; i < 7; ++i) handles.push_back(runtime.spawn(nothing()));
  const auto metrics = runtime.metrics();
  EXPECT_EQ(metrics.injection_queue_depth, 7u);
  EXPECT_EQ(metrics.worker[0].local_queue_depth, 0u);
  EXPECT_EQ(metrics.tasks_alive, 7u);
  runtime.block_on([](std::vector<rt::JoinHandle<void>>* all) -> rt::Task<void> {
    for (auto& handle : *all) static_cast<void>(co_await handle);
  }(&handles));
  EXPECT_EQ(runtime.metrics().injection_queue_depth, 0u);
}

int nice_of_this_thread() {
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  return errno == 0 ? nice : -100;
}

// spawn_blocking's closures run blocking_nice nicer than the tasks on the workers.
TEST(BuilderTest, BlockingNiceLowersThePoolThreadsBelowTheWorkers) {
  ASSERT_LE(nice_of_this_thread(), 14) << "the test needs room for +5 below the ceiling of 19";
  auto runtime = rt::Builder::multi_thread().worker_threads(1).blocking_nice(5).build();
  const auto [worker, pool] = runtime.block_on([]() -> rt::Task<std::pair<int, int>> {
    auto on_worker = rt::spawn([]() -> rt::Task<int> { co_return nice_of_this_thread(); }());
    const int worker_nice = (co_await std::move(on_worker)).value();
    auto on_pool = rt::spawn_blocking(nice_of_this_thread);
    co_return std::pair(worker_nice, (co_await std::move(on_pool)).value());
  }());
  EXPECT_EQ(pool, worker + 5);
  EXPECT_THROW(rt::Builder::multi_thread().blocking_nice(20), std::invalid_argument);
  EXPECT_THROW(rt::Builder::multi_thread().blocking_nice(-1), std::invalid_argument);
}

// What the calling thread may run on: a worker or a pool thread, here.
using brigade::testing::allowed_cpus;

// spawn_blocking's closures run on the blocking_cpus alone; the workers keep every CPU.
// The workers' CPUs and the pool's, as a task and a blocking closure see them.
rt::Task<std::pair<std::vector<std::size_t>, std::vector<std::size_t>>> where_things_run() {
  auto on_worker =
      rt::spawn([]() -> rt::Task<std::vector<std::size_t>> { co_return allowed_cpus(); }());
  auto worker_cpus = (co_await std::move(on_worker)).value();
  auto on_pool = rt::spawn_blocking(allowed_cpus);
  co_return std::pair(std::move(worker_cpus), (co_await std::move(on_pool)).value());
}

TEST(BuilderTest, BlockingCpusConfineThePoolThreadsOnly) {
  const std::vector<std::size_t> all = allowed_cpus();
  ASSERT_FALSE(all.empty());
  const std::size_t last = all.back();
  auto runtime = rt::Builder::multi_thread().worker_threads(1).blocking_cpus({last, last}).build();
  const auto [worker, pool] = runtime.block_on(where_things_run());
  EXPECT_EQ(worker, all);
  EXPECT_EQ(pool, std::vector<std::size_t>{last});
}

TEST(BuilderTest, BlockingCpusRefusesACpuTheProcessMayNotRunOn) {
  const std::vector<std::size_t> all = allowed_cpus();
  ASSERT_FALSE(all.empty());
  const std::size_t absent = all.back() + 1;
  try {
    rt::Builder::multi_thread().blocking_cpus({all.front(), absent});
    FAIL() << "CPU " << absent << " was accepted";
  } catch (const std::invalid_argument& error) {
    const std::string expected =
        "blocking_cpus: CPU " + std::to_string(absent) + " is not one this process may run on";
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

// The pool's threads are started by a worker: without CPUs of their own they must not inherit
// the workers' narrower set.
TEST(BuilderTest, WorkerCpusConfineTheWorkersNotThePool) {
  const std::vector<std::size_t> all = allowed_cpus();
  ASSERT_FALSE(all.empty());
  auto runtime = rt::Builder::multi_thread().worker_cpus({all.front()}).build();
  EXPECT_EQ(runtime.metrics().workers, 1u) << "one worker per CPU named";
  const auto [worker, pool] = runtime.block_on(where_things_run());
  EXPECT_EQ(worker, std::vector<std::size_t>{all.front()});
  EXPECT_EQ(pool, all);
}

TEST(BuilderTest, WorkerCpusAndBlockingCpusKeepEachToItsOwn) {
  const std::vector<std::size_t> all = allowed_cpus();
  if (all.size() < 2) GTEST_SKIP() << "needs two CPUs this process may run on";
  auto runtime = rt::Builder::multi_thread()
                     .worker_threads(2)
                     .worker_cpus({all.front()})
                     .blocking_cpus({all.back()})
                     .build();
  const auto [worker, pool] = runtime.block_on(where_things_run());
  EXPECT_EQ(worker, std::vector<std::size_t>{all.front()});
  EXPECT_EQ(pool, std::vector<std::size_t>{all.back()});
}

TEST(BuilderTest, WorkerCpusRefusesACpuTheProcessMayNotRunOnAndACurrentThreadRuntime) {
  const std::vector<std::size_t> all = allowed_cpus();
  ASSERT_FALSE(all.empty());
  const std::size_t absent = all.back() + 1;
  try {
    rt::Builder::multi_thread().worker_cpus({absent});
    FAIL() << "CPU " << absent << " was accepted";
  } catch (const std::invalid_argument& error) {
    const std::string expected =
        "worker_cpus: CPU " + std::to_string(absent) + " is not one this process may run on";
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
  EXPECT_THROW(rt::Builder::current_thread().worker_cpus({all.front()}).build(),
               std::invalid_argument);
}

// Spawns `count` tasks from one task, so that they queue on its worker, then joins them.
rt::Task<void> spawn_many(std::size_t count) {
  std::vector<rt::JoinHandle<void>> handles;
  for (std::size_t i = 0; i < count; ++i) handles.push_back(rt::spawn(nothing()));
  for (auto& handle : handles) EXPECT_TRUE((co_await std::move(handle)).has_value());
}

// A worker's queue holds 256 tasks: the 300 spawned at once overflow it, and the metric says so;
// 100 do not.
TEST(SchedulerMetricsTest, OverflowsCountWhenALocalQueueSpills) {
  auto runtime = rt::Builder::multi_thread().worker_threads(1).stall_threshold(0ms).build();
  runtime.block_on(spawn_many(100));
  EXPECT_EQ(runtime.metrics().worker.at(0).overflows, 0u);
  runtime.block_on(spawn_many(300));
  EXPECT_GE(runtime.metrics().worker.at(0).overflows, 1u);
}

TEST(SchedulerMetricsTest, BlockingThreadsGrowWhileClosuresBlock) {
  Gate gate;
  std::atomic<int> started{0};
  auto runtime = rt::Builder::multi_thread().worker_threads(1).max_blocking_threads(8).build();
  OpenOnExit open_gate{&gate};  // before the runtime waits for the closures
  const auto handle = runtime.handle();
  const auto idle_before = runtime.metrics();
  EXPECT_EQ(idle_before.blocking_threads, 0u);
  EXPECT_EQ(idle_before.blocking_tasks_spawned, 0u);

  std::vector<rt::JoinHandle<int>> handles;
  for (int i = 0; i < 4; ++i) {
    handles.push_back(handle.spawn_blocking([&gate, &started, i] {
      bump_and_notify(started);
      gate.wait();
      return i;
    }));
  }
  wait_for_count(started, 4);
  const auto blocked = runtime.metrics();
  EXPECT_EQ(blocked.blocking_threads, 4u);
  EXPECT_EQ(blocked.blocking_idle_threads, 0u);
  EXPECT_EQ(blocked.blocking_queue_depth, 0u);
  EXPECT_EQ(blocked.blocking_tasks_spawned, 4u);

  gate.open();
  // The threads stay for their keep-alive (10 s by default), now idle.
  EXPECT_TRUE(eventually([&] { return runtime.metrics().blocking_idle_threads == 4; }));
  const auto idle = runtime.metrics();
  EXPECT_EQ(idle.blocking_threads, 4u);
  EXPECT_EQ(idle.blocking_queue_depth, 0u);
  for (auto& h : handles) EXPECT_TRUE(h.is_finished());
}

TEST(SchedulerMetricsTest, BlockingQueueDepthIsVisibleWhenThePoolIsFull) {
  Gate gate;
  std::atomic<int> started{0};
  auto runtime = rt::Builder::multi_thread().worker_threads(1).max_blocking_threads(1).build();
  OpenOnExit open_gate{&gate};
  const auto handle = runtime.handle();

  std::vector<rt::JoinHandle<int>> handles;
  for (int i = 0; i < 4; ++i) {
    handles.push_back(handle.spawn_blocking([&gate, &started, i] {
      bump_and_notify(started);
      gate.wait();
      return i;
    }));
  }
  wait_for_count(started, 1);
  const auto full = runtime.metrics();
  EXPECT_EQ(full.blocking_threads, 1u);
  EXPECT_EQ(full.blocking_idle_threads, 0u);
  EXPECT_EQ(full.blocking_queue_depth, 3u);
  EXPECT_EQ(full.blocking_tasks_spawned, 4u);
  EXPECT_EQ(started.load(), 1);  // one thread: the others wait in the queue

  gate.open();
  const auto values = runtime.block_on([](std::vector<rt::JoinHandle<int>>* all) -> rt::Task<int> {
    int sum = 0;
    for (auto& h : *all) {
      auto result = co_await h;
      sum += result ? *result : -100;
    }
    co_return sum;
  }(&handles));
  EXPECT_EQ(values, 0 + 1 + 2 + 3);
  EXPECT_EQ(started.load(), 4);
  EXPECT_TRUE(eventually([&] { return runtime.metrics().blocking_idle_threads == 1; }));
  const auto drained = runtime.metrics();
  EXPECT_EQ(drained.blocking_queue_depth, 0u);
  EXPECT_EQ(drained.blocking_threads, 1u);
}

// ---------------------------------------------------------------------------------------------
// shutdown_timeout

struct Outcomes {
  int cancelled = 0;
  int other = 0;
};

rt::Task<Outcomes> classify(std::vector<rt::JoinHandle<void>>* handles) {
  Outcomes out;
  for (auto& handle : *handles) {
    auto result = co_await handle;
    (!result && result.error().is_cancelled() ? out.cancelled : out.other) += 1;
  }
  co_return out;
}

rt::Task<std::optional<int>> value_of(rt::JoinHandle<int>* handle) {
  auto result = co_await *handle;
  if (!result) co_return std::nullopt;
  co_return *result;
}

TEST_P(SchedulerFlavorTest, ShutdownTimeoutCancelsTasksAndDoesNotWaitForAStuckClosure) {
  Watchdog watchdog(60s, "ShutdownTimeoutCancelsTasksAndDoesNotWaitForAStuckClosure");
  Gate release;
  std::atomic<int> started{0};
  std::atomic<bool> late_task_ran{false};
  auto held = std::make_shared<int>(0);
  auto runtime = make();
  OpenOnExit open_gate{&release};  // the stuck thread must get to exit before the test ends
  const auto handle = runtime.handle();

  std::vector<rt::JoinHandle<void>> sleepers;
  for (int i = 0; i < 5; ++i) sleepers.push_back(runtime.spawn(sleep_forever(held)));
  auto stuck = handle.spawn_blocking([&release, &started] {
    bump_and_notify(started);
    release.wait();
    return 7;
  });
  wait_for_count(started, 1);

  runtime.shutdown_timeout(50ms);

  // It returned although the closure is still blocked.
  EXPECT_FALSE(stuck.is_finished());
  for (auto& sleeper : sleepers) EXPECT_TRUE(sleeper.is_finished());
  EXPECT_EQ(*held, 0);
  EXPECT_EQ(held.use_count(), 1) << "cancelled tasks must free their frames";

  // After shutdown, a spawn through a Handle is cancelled on the spot and never runs.
  sleepers.push_back(handle.spawn(set_flag(&late_task_ran)));
  EXPECT_TRUE(sleepers.back().is_finished());

  {
    // The outcomes, read from another runtime (they are all final, so nothing needs waking).
    auto inspector = rt::Builder::current_thread().build();
    const auto outcomes = inspector.block_on(classify(&sleepers));
    EXPECT_EQ(outcomes.cancelled, 6);
    EXPECT_EQ(outcomes.other, 0);
  }
  EXPECT_FALSE(late_task_ran.load());

  // Released, the closure finishes after all and its value still reaches its handle.
  release.open();
  EXPECT_TRUE(eventually([&] { return stuck.is_finished(); }));
  {
    auto inspector = rt::Builder::current_thread().build();
    EXPECT_EQ(inspector.block_on(value_of(&stuck)), std::optional<int>(7));
  }
  // Let the left-behind thread leave the pool before the runtime is destroyed.
  EXPECT_TRUE(eventually([&] { return runtime.metrics().blocking_threads == 0; }));
}

// block_on returns as soon as its root task has its value, a moment before the worker has taken
// the root off the runtime's list of tasks. A Runtime destroyed right then must still see the
// last task leave: its shutdown waits for every owned task without a deadline, so a lost
// notification hangs it. Waiting for tasks_alive == 0 first puts the destruction inside the
// worker's task_completed (the counter is bumped before the task leaves the list).
TEST(SchedulerShutdownTest, DestroyingTheRuntimeAsTheLastTaskCompletesNeverHangs) {
  const int iterations = static_cast<int>(scaled(3'000, 500));
  Watchdog watchdog(120s, "DestroyingTheRuntimeAsTheLastTaskCompletesNeverHangs");
  for (int i = 0; i < iterations; ++i) {
    auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
    std::vector<rt::JoinHandle<void>> sleepers;
    auto held = std::make_shared<int>(0);
    for (int t = 0; t < 3; ++t) sleepers.push_back(runtime.spawn(sleep_forever(held)));
    for (auto& sleeper : sleepers) sleeper.abort();
    runtime.block_on([](std::vector<rt::JoinHandle<void>>* all) -> rt::Task<void> {
      for (auto& handle : *all) static_cast<void>(co_await handle);
    }(&sleepers));
    while (runtime.metrics().tasks_alive != 0) std::this_thread::yield();
  }
}

// ---------------------------------------------------------------------------------------------
// Spawning from a blocking closure

rt::Task<std::thread::id> report_thread() {
  co_await rt::yield_now();
  co_return std::this_thread::get_id();
}

struct SpawnFromBlocking {
  std::thread::id blocking_thread;
  std::optional<std::thread::id> task_thread;
  std::string task_thread_name;
  bool handle_current_worked = false;
};

rt::Task<std::string> thread_name_task() { co_return this_thread_name(); }

rt::Task<void> spawn_from_a_blocking_closure(SpawnFromBlocking* out) {
  auto outer = co_await rt::spawn_blocking([out] {
    out->blocking_thread = std::this_thread::get_id();
    // Both ways of reaching the runtime work on a blocking thread.
    auto via_handle = rt::Handle::current().spawn(thread_name_task());
    out->handle_current_worked = true;
    return std::make_pair(rt::spawn(report_thread()), std::move(via_handle));
  });
  if (!outer) co_return;
  auto& [inner, named] = *outer;
  auto tid = co_await inner;
  if (tid) out->task_thread = *tid;
  auto name = co_await named;
  if (name) out->task_thread_name = *name;
}

TEST_P(SchedulerFlavorTest, ABlockingClosureCanSpawnOnItsRuntime) {
  Watchdog watchdog(60s, "ABlockingClosureCanSpawnOnItsRuntime");
  auto runtime = make();
  SpawnFromBlocking out;
  runtime.block_on(spawn_from_a_blocking_closure(&out));
  ASSERT_TRUE(out.task_thread.has_value());
  EXPECT_TRUE(out.handle_current_worked);
  // The spawned task ran as a task, on the runtime, not on the blocking thread.
  EXPECT_NE(*out.task_thread, out.blocking_thread);
  if (multi_thread()) {
    EXPECT_TRUE(out.task_thread_name.starts_with("brigade-w")) << out.task_thread_name;
  } else {
    EXPECT_EQ(*out.task_thread, std::this_thread::get_id());  // block_on's thread
  }
}

INSTANTIATE_TEST_SUITE_P(Flavors, SchedulerFlavorTest, ::testing::Values(true, false), flavor_name);
INSTANTIATE_TEST_SUITE_P(OneWorker, SchedulerOneWorkerTest, ::testing::Values(true, false),
                         flavor_name);

}  // namespace
