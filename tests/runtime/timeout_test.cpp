// timeout / timeout_at: Elapsed for a slow operation (which is then cancelled), the value for a
// fast one, void operations, exceptions, JoinHandle operands, and sleeps never ending early.
// Only lower bounds on elapsed time are asserted: a loaded machine may always be late.
#include "brigade/runtime/timeout.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <expected>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

enum class Flavor { multi_thread, current_thread };

rt::Runtime make_runtime(Flavor flavor) {
  return flavor == Flavor::multi_thread ? rt::Builder::multi_thread().worker_threads(2).build()
                                        : rt::Builder::current_thread().build();
}

std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return info.param == Flavor::multi_thread ? "MultiThread" : "CurrentThread";
}

class TimeoutTest : public ::testing::TestWithParam<Flavor> {
 protected:
  rt::Runtime runtime_ = make_runtime(GetParam());
};

struct SetOnDestroy {
  bool* flag;
  ~SetOnDestroy() { *flag = true; }
};

rt::Task<int> value_after(std::chrono::milliseconds delay, int value) {
  co_await rt::sleep(delay);
  co_return value;
}

rt::Task<int> guarded_value_after(std::chrono::milliseconds delay, int value, bool* destroyed) {
  SetOnDestroy guard{destroyed};
  co_await rt::sleep(delay);
  co_return value;
}

struct TimeoutOutcome {
  bool timed_out = false;
  bool operation_destroyed = false;
  rt::Clock::duration waited{};
};

rt::Task<void> time_out_slow_task(TimeoutOutcome* out) {
  bool destroyed = false;
  const auto start = rt::Clock::now();
  std::expected<int, rt::Elapsed> result =
      co_await rt::timeout(10ms, guarded_value_after(1h, 1, &destroyed));
  out->waited = rt::Clock::now() - start;
  out->timed_out = !result.has_value() && result.error() == rt::Elapsed{};
  out->operation_destroyed = destroyed;
}

TEST_P(TimeoutTest, SlowOperationGivesElapsedAndIsCancelled) {
  TimeoutOutcome out;
  runtime_.block_on(time_out_slow_task(&out));
  EXPECT_TRUE(out.timed_out);
  EXPECT_TRUE(out.operation_destroyed);
  EXPECT_GE(out.waited, 10ms);
}

rt::Task<std::expected<int, rt::Elapsed>> fast_task() {
  co_return co_await rt::timeout(1h, value_after(1ms, 42));
}

TEST_P(TimeoutTest, FastOperationGivesItsValue) {
  auto result = runtime_.block_on(fast_task());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 42);
}

rt::Task<void> nothing() { co_return; }

rt::Task<bool> void_operation() {
  auto result = co_await rt::timeout(1h, nothing());
  static_assert(std::is_same_v<decltype(result), std::expected<void, rt::Elapsed>>);
  co_return result.has_value();
}

TEST_P(TimeoutTest, VoidOperation) { EXPECT_TRUE(runtime_.block_on(void_operation())); }

rt::Task<int> ready_value(int value) { co_return value; }

rt::Task<bool> zero_timeout_ready_operation() {
  // The operation is polled first, as in Tokio: a ready one beats an expired deadline.
  auto result = co_await rt::timeout(0ms, ready_value(7));
  co_return result.has_value() && *result == 7;
}

TEST_P(TimeoutTest, AReadyOperationBeatsAZeroTimeout) {
  EXPECT_TRUE(runtime_.block_on(zero_timeout_ready_operation()));
}

rt::Task<int> throw_after(std::chrono::milliseconds delay) {
  co_await rt::sleep(delay);
  throw std::runtime_error("operation failed");
}

rt::Task<std::string> operation_throws() {
  try {
    co_await rt::timeout(1h, throw_after(1ms));
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

TEST_P(TimeoutTest, AnExceptionFromTheOperationPropagates) {
  EXPECT_EQ(runtime_.block_on(operation_throws()), "operation failed");
}

rt::Task<int> timeout_on_join_handle() {
  auto handle = rt::spawn(value_after(1ms, 5));
  std::expected<std::expected<int, rt::JoinError>, rt::Elapsed> result =
      co_await rt::timeout(1h, std::move(handle));
  co_return result.value().value();
}

TEST_P(TimeoutTest, TimeoutOnAJoinHandle) {
  EXPECT_EQ(runtime_.block_on(timeout_on_join_handle()), 5);
}

rt::Task<bool> timeout_at_deadline(rt::Clock::duration* waited) {
  const auto start = rt::Clock::now();
  auto result = co_await rt::timeout_at(start + 5ms, value_after(1h, 1));
  *waited = rt::Clock::now() - start;
  co_return !result.has_value();
}

TEST_P(TimeoutTest, TimeoutAtAnAbsoluteDeadline) {
  rt::Clock::duration waited{};
  EXPECT_TRUE(runtime_.block_on(timeout_at_deadline(&waited)));
  EXPECT_GE(waited, 5ms);
}

rt::Task<void> measure_sleeps(std::vector<rt::Clock::duration>* waited) {
  for (auto requested : {0ms, 1ms, 3ms, 10ms, 25ms}) {
    const auto start = rt::Clock::now();
    co_await rt::sleep(requested);
    waited->push_back(rt::Clock::now() - start);
  }
}

TEST_P(TimeoutTest, SleepNeverReturnsEarly) {
  std::vector<rt::Clock::duration> waited;
  runtime_.block_on(measure_sleeps(&waited));
  ASSERT_EQ(waited.size(), 5u);
  EXPECT_GE(waited[0], 0ms);
  EXPECT_GE(waited[1], 1ms);
  EXPECT_GE(waited[2], 3ms);
  EXPECT_GE(waited[3], 10ms);
  EXPECT_GE(waited[4], 25ms);
}

rt::Task<int> many_timeouts() {
  // Half time out, half finish: every timer and every operation is cleaned up either way.
  int finished = 0;
  for (int i = 0; i < 20; ++i) {
    auto result = co_await rt::timeout(2ms, value_after(i % 2 == 0 ? 0ms : 1h, i));
    if (result) ++finished;
  }
  co_return finished;
}

TEST_P(TimeoutTest, RepeatedTimeouts) { EXPECT_EQ(runtime_.block_on(many_timeouts()), 10); }

INSTANTIATE_TEST_SUITE_P(Flavors, TimeoutTest,
                         ::testing::Values(Flavor::multi_thread, Flavor::current_thread),
                         flavor_name);

}  // namespace
