// Error handling: an exception escaping a task or a blocking closure never terminates the process;
// it reaches the JoinHandle as a JoinError that carries it and names the spawn site. Aborts and
// refusals arrive the same way.
#include <cstdio>
#include <future>
#include <stdexcept>
#include <string>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

rt::Task<int> failing_task() {
  co_await rt::sleep(1ms);
  throw std::runtime_error("the database is gone");
}

rt::Task<int> sleep_an_hour() {
  co_await rt::sleep(1h);
  co_return 0;
}

const char* kind_name(const rt::JoinError& error) {
  if (error.is_panic()) return "panicked";
  if (error.is_cancelled()) return "cancelled";
  return "rejected";
}

rt::Task<void> run() {
  auto task = rt::spawn(failing_task());
  auto from_task = co_await task;
  std::printf("  spawn:          %s: %s\n", kind_name(from_task.error()),
              from_task.error().message().c_str());

  auto closure =
      rt::spawn_blocking([]() -> int { throw std::invalid_argument("not a number: 'abc'"); });
  auto from_closure = co_await closure;
  std::printf("  spawn_blocking: %s: %s\n", kind_name(from_closure.error()),
              from_closure.error().message().c_str());

  try {
    from_closure.error().resume_panic();  // rethrow it in the joining task, if it should spread
  } catch (const std::invalid_argument& error) {
    std::printf("  resume_panic rethrows it here: std::invalid_argument \"%s\"\n", error.what());
  }

  auto endless = rt::spawn(sleep_an_hour());
  endless.abort();
  auto aborted = co_await endless;
  std::printf("  abort():        %s: %s\n", kind_name(aborted.error()),
              aborted.error().message().c_str());

  // The pool's one thread back from the failed closure, then busy again, and no room to queue.
  auto thread_idle =
      poll_until([] { return rt::Handle::current().metrics().blocking_idle_threads == 1; }, 5s);
  co_await std::move(thread_idle);
  std::promise<void> release;
  auto occupy = rt::spawn_blocking([held = release.get_future()] { held.wait(); });
  auto one_more = rt::spawn_blocking([] { return 1; });  // the pool's one thread is busy
  auto refused = co_await one_more;
  release.set_value();
  std::printf(
      "  full pool:      %s\n",
      refused
          ? "accepted"
          : (std::string(kind_name(refused.error())) + ": " + refused.error().message()).c_str());
  const auto occupied = co_await occupy;
  std::printf("  the job that held the thread: %s\n", occupied ? "done" : "refused too");
}

}  // namespace

int errors() {
  auto runtime = rt::Builder::multi_thread()
                     .worker_threads(1)
                     .max_blocking_threads(1)
                     .blocking_queue_limit(0)
                     .build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
