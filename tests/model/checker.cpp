#include "brigade_model/checker.hpp"

#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <utility>

namespace brigade::model {
namespace {

constexpr std::size_t kStackSize = 256 * 1024;
constexpr std::size_t kTraceLines = 80;

enum class Status : std::uint8_t { runnable, blocked, timed, finished };

struct Fiber {
  ucontext_t context{};
  std::function<void()> fn;
  Status status = Status::runnable;
  const void* waiting_on = nullptr;
  std::uint64_t wait_order = 0;  // wake_one wakes the longest waiter
  bool woken = false;            // how the last timed wait ended
  std::vector<std::byte> locals;
};

// One scheduling decision: the alternatives in the order the search tries them (the first never
// preempts), and which one this path takes.
struct Choice {
  std::vector<int> options;
  std::vector<bool> preempts;
  std::size_t taken = 0;
  int preemptions_before = 0;
};

class Execution;
Execution* running = nullptr;  // the execution on this (real) thread, if any

[[noreturn]] void misuse(const char* what) {
  std::fprintf(stderr, "brigade model checker: %s\n", what);
  std::abort();
}

class Execution {
 public:
  Execution(const Options& options, std::vector<Choice>& path, std::vector<int> forced,
            std::vector<std::unique_ptr<char[]>>& stacks)
      : options_(options), path_(path), forced_(std::move(forced)), stacks_(stacks) {}

  // Runs the body to the end of this path. Returns the failure, if any.
  std::optional<Failure> run(const std::function<void()>& body) {
    std::vector<std::byte> outer = save_locals();
    initial_locals_ = outer;
    running = this;
    spawn(body);
    current_ = 0;
    while (!done_ && !failure_) {
      Fiber& fiber = *fibers_[current_];
      restore_locals(fiber.locals);
      swapcontext(&main_, &fiber.context);
      fiber.locals = save_locals();
      current_ = next_;
    }
    running = nullptr;
    restore_locals(outer);
    return std::move(failure_);
  }

  int spawn(std::function<void()> fn) {
    const int id = static_cast<int>(fibers_.size());
    auto fiber = std::make_unique<Fiber>();
    fiber->fn = std::move(fn);
    fiber->locals = initial_locals_;
    if (stacks_.size() <= fibers_.size()) stacks_.push_back(std::make_unique<char[]>(kStackSize));
    getcontext(&fiber->context);
    fiber->context.uc_stack.ss_sp = stacks_[fibers_.size()].get();
    fiber->context.uc_stack.ss_size = kStackSize;
    fiber->context.uc_link = nullptr;
    makecontext(&fiber->context, &Execution::entry, 0);
    fibers_.push_back(std::move(fiber));
    return id;
  }

  // A shared operation is next: maybe let another thread go first.
  void switch_point(const char* operation, const void* object) {
    trace(operation, object);
    if (++steps_ > options_.max_steps) {
      fail("more than max_steps scheduling points in one execution: a livelock?");
    }
    reschedule();
  }

  void block(const void* object, const char* operation, Status status) {
    trace(operation, object);
    Fiber& self = *fibers_[current_];
    self.status = status;
    self.waiting_on = object;
    self.wait_order = ++wait_counter_;
    self.woken = false;
    reschedule();
  }
  bool woken() const { return fibers_[current_]->woken; }

  void wake(const void* object, bool all) {
    for (;;) {
      Fiber* first = nullptr;
      for (auto& fiber : fibers_) {
        if ((fiber->status == Status::blocked || fiber->status == Status::timed) &&
            fiber->waiting_on == object &&
            (first == nullptr || fiber->wait_order < first->wait_order)) {
          first = fiber.get();
        }
      }
      if (first == nullptr) return;
      first->status = Status::runnable;
      first->waiting_on = nullptr;
      first->woken = true;
      if (!all) return;
    }
  }

  std::size_t choose(std::size_t n, const char* what) {
    trace(what);
    std::vector<int> options(n);
    for (std::size_t i = 0; i < n; ++i) options[i] = static_cast<int>(i);
    return static_cast<std::size_t>(decide(std::move(options), std::vector<bool>(n, false)));
  }

  [[noreturn]] void fail(std::string message) {
    failure_ = Failure{"thread " + std::to_string(current_) + ": " + std::move(message), schedule(),
                       format_trace()};
    leave();
    misuse("a failed execution was resumed");
  }

  int current() const { return current_; }
  bool is_finished(int id) const {
    return fibers_[static_cast<std::size_t>(id)]->status == Status::finished;
  }
  const void* fiber_object(int id) const { return fibers_[static_cast<std::size_t>(id)].get(); }

 private:
  static void entry() {
    Execution& self = *running;
    Fiber& fiber = *self.fibers_[self.current_];
    try {
      fiber.fn();
    } catch (const std::exception& e) {
      self.fail(std::string("exception escaped the thread: ") + e.what());
    } catch (...) {
      self.fail("exception escaped the thread");
    }
    fiber.fn = nullptr;
    fiber.status = Status::finished;
    self.trace("ends");
    self.wake(&fiber, true);
    self.reschedule();
    misuse("a finished thread was resumed");
  }

  // Picks who runs next and switches to it unless it is the running thread.
  void reschedule() {
    const Fiber& self = *fibers_[current_];
    std::vector<int> options;
    std::vector<bool> preempts;
    const bool self_can_go_on = self.status == Status::runnable;
    if (self_can_go_on) {
      options.push_back(current_);
      preempts.push_back(false);
    }
    for (Status wanted : {Status::runnable, Status::timed}) {
      for (std::size_t i = 0; i < fibers_.size(); ++i) {
        const bool already = self_can_go_on && static_cast<int>(i) == current_;
        if (!already && fibers_[i]->status == wanted) {
          options.push_back(static_cast<int>(i));
          preempts.push_back(self_can_go_on);
        }
      }
    }
    if (options.empty()) {
      const bool all_finished = std::all_of(fibers_.begin(), fibers_.end(), [](const auto& f) {
        return f->status == Status::finished;
      });
      if (!all_finished) fail("deadlock: every thread left is waiting" + describe_waits());
      done_ = true;
      leave();
      misuse("a finished execution was resumed");
    }
    const int next =
        options.size() == 1 ? options[0] : decide(std::move(options), std::move(preempts));
    Fiber& chosen = *fibers_[static_cast<std::size_t>(next)];
    if (chosen.status == Status::timed) {  // its wait times out now
      chosen.status = Status::runnable;
      chosen.waiting_on = nullptr;
      chosen.woken = false;
    }
    if (next == current_) return;
    next_ = next;
    leave();
  }

  // Takes the path's recorded (or forced) choice here, or the first option when the path is new.
  int decide(std::vector<int> options, std::vector<bool> preempts) {
    const std::size_t at = position_++;
    if (at < path_.size()) {
      Choice& choice = path_[at];
      if (choice.options != options)
        fail("the body is not deterministic: a replayed choice differs");
      preemptions_ = choice.preemptions_before + (choice.preempts[choice.taken] ? 1 : 0);
      return choice.options[choice.taken];
    }
    Choice choice{std::move(options), std::move(preempts), 0, preemptions_};
    if (at < forced_.size()) {
      auto it = std::find(choice.options.begin(), choice.options.end(), forced_[at]);
      if (it == choice.options.end()) fail("the schedule does not replay: no such choice here");
      choice.taken = static_cast<std::size_t>(it - choice.options.begin());
    }
    preemptions_ += choice.preempts[choice.taken] ? 1 : 0;
    const int taken = choice.options[choice.taken];
    path_.push_back(std::move(choice));
    return taken;
  }

  void leave() { swapcontext(&fibers_[current_]->context, &main_); }

  void trace(const char* operation, const void* object = nullptr) {
    trace_.push_back({current_, operation, object});
  }

  std::string schedule() const {
    std::string text;
    for (std::size_t i = 0; i < position_ && i < path_.size(); ++i) {
      if (!text.empty()) text += '.';
      text += std::to_string(path_[i].options[path_[i].taken]);
    }
    return text;
  }

  std::string format_trace() const {
    std::ostringstream out;
    const std::size_t from = trace_.size() > kTraceLines ? trace_.size() - kTraceLines : 0;
    if (from > 0) out << "  ... " << from << " earlier operations\n";
    for (std::size_t i = from; i < trace_.size(); ++i) {
      out << "  thread " << trace_[i].thread << ": " << trace_[i].operation;
      if (trace_[i].object != nullptr) out << ' ' << trace_[i].object;
      out << '\n';
    }
    return out.str();
  }

  std::string describe_waits() const {
    std::string text;
    for (std::size_t i = 0; i < fibers_.size(); ++i) {
      if (fibers_[i]->status == Status::blocked)
        text += " (thread " + std::to_string(i) + " blocked)";
    }
    return text;
  }

  std::vector<std::byte> save_locals() const {
    std::vector<std::byte> bytes;
    for (const ThreadLocalSlot& slot : options_.thread_locals) {
      const auto* begin = static_cast<const std::byte*>(slot.address);
      bytes.insert(bytes.end(), begin, begin + slot.size);
    }
    return bytes;
  }
  void restore_locals(const std::vector<std::byte>& bytes) const {
    std::size_t offset = 0;
    for (const ThreadLocalSlot& slot : options_.thread_locals) {
      std::memcpy(slot.address, bytes.data() + offset, slot.size);
      offset += slot.size;
    }
  }

  const Options& options_;
  std::vector<Choice>& path_;
  std::vector<int> forced_;
  std::vector<std::unique_ptr<char[]>>& stacks_;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<std::byte> initial_locals_;
  ucontext_t main_{};
  int current_ = 0;
  int next_ = 0;
  std::size_t position_ = 0;
  int preemptions_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t wait_counter_ = 0;
  bool done_ = false;
  std::optional<Failure> failure_;
  struct Step {
    int thread;
    const char* operation;
    const void* object;  // the atomic, mutex or condition variable, when there is one
  };
  std::vector<Step> trace_;
};

Execution& current_execution(const char* what) {
  if (running == nullptr) misuse(what);
  return *running;
}

std::vector<int> parse_schedule(std::string_view text) {
  std::vector<int> choices;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('.', at);
    if (end == std::string_view::npos) end = text.size();
    choices.push_back(std::atoi(std::string(text.substr(at, end - at)).c_str()));
    at = end + 1;
  }
  return choices;
}

// Moves `path` to the next untried alternative within the bound; false when none is left.
bool next_path(std::vector<Choice>& path, int bound) {
  while (!path.empty()) {
    Choice& choice = path.back();
    for (std::size_t j = choice.taken + 1; j < choice.options.size(); ++j) {
      if (choice.preemptions_before + (choice.preempts[j] ? 1 : 0) <= bound) {
        choice.taken = j;
        return true;
      }
    }
    path.pop_back();
  }
  return false;
}

}  // namespace

std::string Report::describe() const {
  std::string text = std::to_string(executions) + " interleavings explored";
  if (failure) {
    text += "; FAILED: " + failure->message +
            "\n  schedule (BRIGADE_MODEL_SCHEDULE): " + failure->schedule + "\n" + failure->trace;
  }
  return text;
}

Report replay(const std::function<void()>& body, std::string_view schedule,
              const Options& options) {
  std::vector<Choice> path;
  std::vector<std::unique_ptr<char[]>> stacks;
  Execution execution(options, path, parse_schedule(schedule), stacks);
  Report report;
  report.failure = execution.run(body);
  report.executions = 1;
  return report;
}

Report explore(const std::function<void()>& body, const Options& options) {
  if (const char* schedule = std::getenv("BRIGADE_MODEL_SCHEDULE")) {
    return replay(body, schedule, options);
  }
  std::vector<Choice> path;
  std::vector<std::unique_ptr<char[]>> stacks;
  Report report;
  do {
    Execution execution(options, path, {}, stacks);
    report.failure = execution.run(body);
    ++report.executions;
    if (report.failure) return report;
    if (report.executions == options.max_executions) {
      report.failure = Failure{"more than max_executions interleavings: lower the bound", "", ""};
      return report;
    }
  } while (next_path(path, options.preemption_bound));
  return report;
}

Thread::Thread(std::function<void()> fn)
    : id_(current_execution("model::Thread outside explore()").spawn(std::move(fn))) {}

Thread::Thread(Thread&& other) noexcept : id_(std::exchange(other.id_, -1)) {}

Thread& Thread::operator=(Thread&& other) noexcept {
  if (joinable()) misuse("a joinable model::Thread was assigned to");
  id_ = std::exchange(other.id_, -1);
  return *this;
}

Thread::~Thread() {
  if (joinable()) join();
}

void Thread::join() {
  Execution& execution = current_execution("model::Thread::join outside explore()");
  execution.switch_point("join", nullptr);
  while (!execution.is_finished(id_)) {
    execution.block(execution.fiber_object(id_), "join (waits)", Status::blocked);
  }
  id_ = -1;
}

ThreadId this_thread_id() {
  return ThreadId(current_execution("model::this_thread_id outside explore()").current());
}

void check(bool ok, const char* what) {
  if (ok) return;
  current_execution(what).fail(std::string("check failed: ") + what);
}

std::size_t choose(std::size_t n, const char* what) {
  if (n <= 1) return 0;
  return current_execution("model::choose outside explore()").choose(n, what);
}

void switch_point(const char* operation, const void* object) {
  if (running != nullptr) running->switch_point(operation, object);
}

bool in_execution() noexcept { return running != nullptr; }

namespace detail {

void block(const void* object, const char* operation) {
  current_execution("a model primitive blocked outside explore()")
      .block(object, operation, Status::blocked);
}

bool block_timed(const void* object, const char* operation) {
  Execution& execution = current_execution("a model primitive waited outside explore()");
  execution.block(object, operation, Status::timed);
  return execution.woken();
}

void wake_one(const void* object) {
  if (running != nullptr) running->wake(object, false);
}

void wake_all(const void* object) {
  if (running != nullptr) running->wake(object, true);
}

}  // namespace detail
}  // namespace brigade::model
