// Rust's `move` and 'static in C++: a spawned task must own what it uses, because it may run
// after the code that spawned it has returned. Coroutine parameters taken by value live in the
// task's frame, so passing by value (moving what is big) is the safe way and the easy one; a
// reference parameter, like a lambda coroutine's captures, points into someone else's frame,
// unless spawn(fn, args...) keeps the lambda alive with the task.
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "lessons.hpp"
#include "support.hpp"

namespace guide {
namespace {

// An object that keeps a registry of the live ones, so a task can ask whether what it refers to
// still exists without touching it (touching a dead object is the bug itself).
class Tracked {
 public:
  Tracked() { registry(this, true); }
  Tracked(const Tracked&) { registry(this, true); }
  Tracked& operator=(const Tracked&) = default;
  ~Tracked() { registry(this, false); }

  static bool alive(const Tracked* object) { return registry(object, std::nullopt); }

 private:
  // Adds, removes or (with no change) looks up `object`.
  static bool registry(const Tracked* object, std::optional<bool> add) {
    static std::mutex mutex;
    static std::set<const Tracked*> live;
    std::scoped_lock lock(mutex);
    if (add) {
      if (*add) live.insert(object);
      if (!*add) live.erase(object);
    }
    return live.contains(object);
  }
};

rt::Task<void> by_value(Tracked order) {
  co_await rt::sleep(20ms);
  std::printf("  by value:     after 20 ms, the task's own copy alive: %s\n",
              Tracked::alive(&order) ? "yes" : "no");
}

rt::Task<void> by_reference(const Tracked& order) {
  co_await rt::sleep(20ms);
  std::printf("  by reference: after 20 ms, the spawner's object alive: %s%s\n",
              Tracked::alive(&order) ? "yes" : "no",
              Tracked::alive(&order) ? "" : " (reading it now would be a use after free)");
}

// Each spawner makes an object, spawns a task that uses it, and returns, as a handler does.
rt::Task<rt::JoinHandle<void>> spawner_by_value() {
  Tracked order;
  co_return rt::spawn(by_value(order));
}

rt::Task<rt::JoinHandle<void>> spawner_by_reference() {
  Tracked order;
  co_return rt::spawn(by_reference(order));
}

// spawn(fn, args...) keeps the lambda itself alive with its task: its captures are the task's own,
// whereas spawn(lambda()) would leave the frame pointing at a lambda that is gone.
rt::Task<rt::JoinHandle<void>> spawner_of_a_lambda() {
  Tracked order;
  auto report = [order](std::chrono::milliseconds delay) -> rt::Task<void> {
    co_await rt::sleep(delay);
    std::printf("  lambda:       after 20 ms, the captured copy alive: %s\n",
                Tracked::alive(&order) ? "yes" : "no");
  };
  co_return rt::spawn(std::move(report), 20ms);
}

// A moved argument is not copied: the task's string owns the very buffer the caller filled.
rt::Task<void> owns_the_buffer(std::string body, const void* caller_buffer) {
  co_await rt::sleep(1ms);
  std::printf("  moved in:     %zu bytes, same buffer as the caller's: %s\n", body.size(),
              static_cast<const void*>(body.data()) == caller_buffer ? "yes" : "no");
}

// State shared with a task goes through a shared_ptr: the task holds a reference of its own.
rt::Task<void> shares_state(std::shared_ptr<const std::string> config) {
  co_await rt::sleep(20ms);
  std::printf("  shared_ptr:   after the caller dropped its pointer, owners left: %ld\n",
              config.use_count());
}

rt::Task<void> run() {
  auto by_value_task = co_await spawner_by_value();
  co_await by_value_task;
  auto by_reference_task = co_await spawner_by_reference();
  co_await by_reference_task;
  auto lambda_task = co_await spawner_of_a_lambda();
  co_await lambda_task;

  std::string body(1 << 20, 'x');
  const void* buffer = body.data();
  auto moved = rt::spawn(owns_the_buffer(std::move(body), buffer));
  co_await moved;

  auto config = std::make_shared<const std::string>("workers = 2");
  auto sharing = rt::spawn(shares_state(config));
  config.reset();
  co_await sharing;
}

}  // namespace

int ownership() {
  auto runtime = rt::Builder::multi_thread().worker_threads(2).build();
  runtime.block_on(run());
  return 0;
}

}  // namespace guide
