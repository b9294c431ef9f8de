// What a sleeping task costs: spawns N tasks that each sleep one second, joins them all, and
// prints the elapsed time, the peak resident memory and the bytes per task. Tokio's counterpart
// is bench/tokio/src/bin/sleepers.rs.
//
//   many_sleepers 100000
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <string_view>
#include <vector>

#include "brigade/runtime/join_handle.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

// Resident memory now, from /proc/self/statm (its second field, in pages).
long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size_pages = 0;
  long resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * ::sysconf(_SC_PAGESIZE);
}

// The process's peak resident memory so far.
long peak_resident_bytes() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss * 1024;  // Linux reports KiB
}

rt::Task<void> sleeper() { co_await rt::sleep(1s); }

rt::Task<void> run(std::size_t count) {
  const long before = resident_bytes();
  const auto start = rt::Clock::now();
  // The handles are part of the cost, as the Vec of JoinHandles is in Tokio's figure.
  std::vector<rt::JoinHandle<void>> sleepers;
  sleepers.reserve(count);
  for (std::size_t i = 0; i < count; ++i) sleepers.push_back(rt::spawn(sleeper()));
  for (auto& handle : sleepers) {
    if (!co_await handle) std::fprintf(stderr, "many_sleepers: a sleeper failed\n");
  }
  const std::chrono::duration<double> elapsed = rt::Clock::now() - start;
  const long peak = peak_resident_bytes();
  std::printf("many_sleepers: %zu tasks slept 1 s each, all joined after %.3f s\n", count,
              elapsed.count());
  std::printf("peak RSS %.1f MiB (%.1f MiB before spawning): %.0f bytes per task\n",
              static_cast<double>(peak) / (1 << 20), static_cast<double>(before) / (1 << 20),
              static_cast<double>(peak - before) / static_cast<double>(count));
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 100'000;
  if (argc > 1) {
    const std::string_view text(argv[1]);
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (error != std::errc() || end != text.data() + text.size() || count == 0) {
      std::fprintf(stderr, "usage: %s [N > 0]\n", argv[0]);
      return 2;
    }
  }
  auto runtime = rt::Builder::multi_thread().build();
  runtime.block_on(run(count));
  return 0;
}
