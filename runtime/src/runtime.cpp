#include "brigade/runtime/runtime.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "cpu_affinity.hpp"
#include "runtime_core.hpp"

namespace brigade::runtime {
namespace {

// Sorted, each once, and every one a CPU the calling thread may run on (else Linux would drop it
// quietly, or refuse the whole mask when none is left).
std::vector<std::size_t> checked_cpus(const char* setting, std::vector<std::size_t> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  if (const std::string unavailable = detail::describe_unavailable(cpus); !unavailable.empty()) {
    throw std::invalid_argument(std::string(setting) + ": " + unavailable);
  }
  return cpus;
}

}  // namespace

Builder Builder::multi_thread() { return Builder(RuntimeOptions::Flavor::multi_thread); }
Builder Builder::current_thread() { return Builder(RuntimeOptions::Flavor::current_thread); }

Builder& Builder::worker_threads(std::size_t count) {
  options_.worker_threads = count;
  return *this;
}
Builder& Builder::max_blocking_threads(std::size_t count) {
  options_.max_blocking_threads = count;
  return *this;
}
Builder& Builder::blocking_keep_alive(std::chrono::milliseconds keep_alive) {
  options_.blocking_keep_alive = keep_alive;
  return *this;
}
Builder& Builder::blocking_queue_limit(std::size_t limit) {
  options_.blocking_queue_limit = limit;
  return *this;
}
Builder& Builder::blocking_nice(int nice) {
  if (nice < 0 || nice > 19) throw std::invalid_argument("blocking_nice must be within 0..19");
  options_.blocking_nice = nice;
  return *this;
}
Builder& Builder::blocking_cpus(std::vector<std::size_t> cpus) {
  options_.blocking_cpus = checked_cpus("blocking_cpus", std::move(cpus));
  return *this;
}
Builder& Builder::worker_cpus(std::vector<std::size_t> cpus) {
  options_.worker_cpus = checked_cpus("worker_cpus", std::move(cpus));
  return *this;
}
Builder& Builder::thread_name(std::string name) {
  options_.thread_name = std::move(name);
  return *this;
}

Builder& Builder::stall_threshold(std::chrono::milliseconds threshold) {
  options_.stall_threshold = threshold;
  return *this;
}
Builder& Builder::on_stall(std::function<void(const StallReport&)> sink) {
  options_.on_stall = std::move(sink);
  return *this;
}

Builder& Builder::latency_histograms(bool enabled) {
  options_.latency_histograms = enabled;
  return *this;
}

Runtime Builder::build() const {
  if (options_.flavor == RuntimeOptions::Flavor::current_thread && !options_.worker_cpus.empty()) {
    throw std::invalid_argument(
        "worker_cpus: a current-thread runtime has no worker threads (it runs on the thread in "
        "block_on)");
  }
  return Runtime(options_);
}

Handle Handle::current() { return Handle(detail::expect_current_runtime().shared_from_this()); }

RuntimeMetrics Handle::metrics() const { return core_->metrics(); }
std::vector<TaskInfo> Handle::dump_tasks() const { return core_->dump_tasks(); }

Runtime::Runtime(const RuntimeOptions& options)
    : core_(std::make_shared<detail::RuntimeCore>(options)) {
  core_->start();
}

Runtime::Runtime(Runtime&&) noexcept = default;
Runtime& Runtime::operator=(Runtime&& other) noexcept {
  if (this != &other) {
    if (core_) core_->shutdown(std::nullopt);
    core_ = std::move(other.core_);
  }
  return *this;
}

Runtime::~Runtime() {
  if (core_) core_->shutdown(std::nullopt);
}

RuntimeMetrics Runtime::metrics() const { return core_->metrics(); }
std::vector<TaskInfo> Runtime::dump_tasks() const { return core_->dump_tasks(); }

void Runtime::shutdown_timeout(std::chrono::milliseconds timeout) {
  core_->shutdown(std::chrono::steady_clock::now() + timeout);
}

}  // namespace brigade::runtime
