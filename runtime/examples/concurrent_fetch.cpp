// Tokio's "concurrent fetch" tutorial in Brigade: two fetches run as tasks of their own while the
// main task does other work, then the main task awaits both handles.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

// How long each fetch's network round trip takes.
constexpr std::chrono::milliseconds kApiDelay = 500ms;
constexpr std::chrono::milliseconds kDatabaseDelay = 300ms;

rt::Task<std::string> finish_fetch(std::string source, std::chrono::milliseconds delay) {
  co_await rt::sleep(delay);  // stands in for the network round trip
  std::cout << "Finished fetching from " << source << ".\n";
  co_return "Data from " + source;
}

// Announces the fetch when it is requested, so the lines come out in the order the fetches are
// spawned whichever worker picks each task up; the waiting happens in the task.
rt::Task<std::string> fetch(std::string source, std::chrono::milliseconds delay) {
  std::cout << "Start fetching from " << source << "...\n";
  return finish_fetch(std::move(source), delay);
}

rt::Task<int> run() {
  const auto start = std::chrono::steady_clock::now();
  std::cout << "--- Spawning Concurrent Tasks ---\n";
  // The arguments are moved into each task's coroutine frame: the tasks own what they use.
  auto api = rt::spawn(fetch("API Server", kApiDelay));
  auto database = rt::spawn(fetch("Database", kDatabaseDelay));

  std::cout << "Main task is free to do other work while fetches are running.\n";
  co_await rt::sleep(100ms);
  std::cout << "Main task has finished its other work.\n";

  auto api_result = co_await api;
  auto database_result = co_await database;
  if (!api_result || !database_result) {
    std::cerr << "a fetch failed\n";
    co_return 1;
  }
  // The fetches overlapped: both are done after about the slower one, not the sum of the two.
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  std::cout << "Both fetches done after " << static_cast<long>(elapsed.count())
            << " ms (the slower alone takes " << std::max(kApiDelay, kDatabaseDelay).count()
            << " ms, one after the other " << (kApiDelay + kDatabaseDelay).count() << " ms).\n";
  std::cout << "--- Results ---\n";
  std::cout << "Result from Task 1: '" << *api_result << "'\n";
  std::cout << "Result from Task 2: '" << *database_result << "'\n";
  co_return 0;
}

}  // namespace

int main() {
  auto runtime = rt::Builder::multi_thread().build();
  return runtime.block_on(run());
}
