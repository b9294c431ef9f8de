// The guide: every lesson of "Spawning lightweight asynchronous tasks" and "spawn vs
// spawn_blocking", shown on Brigade with figures measured where it runs. `guide LESSON` runs one
// lesson, `guide all` every one, `guide` lists them.
#include <cstdio>
#include <string_view>

#include "lessons.hpp"

namespace {

struct Lesson {
  std::string_view name;
  std::string_view section;
  int (*run)();
};

constexpr Lesson kLessons[] = {
    {"tasks", "what a task is: thousands on a few threads", guide::tasks_are_green_threads},
    {"spawn-vs-join", "spawn vs join on the same work", guide::spawn_vs_join},
    {"detach", "awaiting a JoinHandle, dropping it, aborting it", guide::dropping_a_handle},
    {"ownership", "what a spawned task may refer to", guide::ownership},
    {"never-block", "never block inside a task, and the fix", guide::never_block},
    {"shutdown", "graceful shutdown with watch and broadcast", guide::graceful_shutdown},
    {"pools", "basic spawn and spawn_blocking; the two pools' threads", guide::two_pools},
    {"configure", "configuring the blocking pool", guide::configure_pool},
    {"cpu", "CPU-intensive work on the blocking pool", guide::cpu_work},
    {"io", "async I/O vs sync I/O", guide::async_vs_sync_io},
    {"errors", "a failure in either reaches the JoinHandle", guide::errors},
    {"send", "Send in C++: what breaks when a task changes threads", guide::thread_affinity},
    {"local", "non-thread-safe state and spawn_local", guide::local_state},
    {"cost", "performance: what spawn and spawn_blocking cost", guide::spawn_cost},
    {"sizing", "sizing the blocking pool", guide::sizing_the_pool},
    {"mistakes", "common mistakes, each wrong then fixed", guide::common_mistakes},
    {"ffi", "a blocking C library (OpenSSL) on the pool", guide::blocking_library},
    {"mixing", "mixing both: async fetch, CPU phase, async store", guide::mixing_both},
    {"compare", "the comparison table, measured here", guide::comparison},
};

void list_lessons() {
  std::printf("usage: guide LESSON | all\n\n");
  for (const auto& lesson : kLessons) {
    std::printf("  %-14s %.*s\n", lesson.name.data(), static_cast<int>(lesson.section.size()),
                lesson.section.data());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    list_lessons();
    return argc == 1 ? 0 : 2;
  }
  const std::string_view wanted = argv[1];
  int status = 0;
  bool found = false;
  for (const auto& lesson : kLessons) {
    if (wanted != "all" && wanted != lesson.name) continue;
    found = true;
    std::printf("== %.*s: %.*s\n", static_cast<int>(lesson.name.size()), lesson.name.data(),
                static_cast<int>(lesson.section.size()), lesson.section.data());
    std::fflush(stdout);
    if (const int result = lesson.run(); result != 0) status = result;
    std::fflush(stdout);
  }
  if (!found) {
    std::fprintf(stderr, "guide: no lesson '%s'\n\n", argv[1]);
    list_lessons();
    return 2;
  }
  return status;
}
