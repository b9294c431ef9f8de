#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

// What `brigade console` shows, as plain lines: the two JSON snapshots it reads
// (GET /debug/runtime and GET /debug/tasks?format=json) parsed, and turned into a screen without
// a terminal, so the view is tested from fixed JSON.
namespace brigade::app::console_view {

struct WorkerFigures {
  std::uint64_t polls = 0;
  std::uint64_t steals = 0;
  std::uint64_t local_queue_depth = 0;
  std::uint64_t busy_ns = 0;
  std::uint64_t stalls = 0;
};

// GET /debug/runtime.
struct RuntimeFigures {
  std::vector<WorkerFigures> workers;
  std::uint64_t injection_queue_depth = 0;
  std::uint64_t tasks_alive = 0;
  std::uint64_t tasks_spawned = 0;
  std::uint64_t blocking_threads = 0;
  std::uint64_t blocking_idle_threads = 0;
  std::uint64_t blocking_queue_depth = 0;
  std::uint64_t blocking_rejected = 0;
};

// The live tasks of one spawn site, by state (idle, scheduled, running, complete).
struct SpawnSite {
  std::string where;  // "file.cpp:42 function"
  std::array<std::uint64_t, 4> per_state{};
  std::uint64_t total() const noexcept;
};

std::expected<RuntimeFigures, std::string> parse_runtime(std::string_view json);
// GET /debug/tasks?format=json, grouped by spawn site, the most tasks first.
std::expected<std::vector<SpawnSite>, std::string> parse_tasks(std::string_view json);

struct Frame {
  std::string_view target;  // the URL, for the title
  double interval_seconds = 1;
  // The latest snapshots read (null until the first) and the runtime snapshot before it (null
  // on the first), taken `elapsed_seconds` apart: the rates and busy ratios are their difference.
  const RuntimeFigures* runtime = nullptr;
  const RuntimeFigures* previous = nullptr;
  double elapsed_seconds = 0;
  const std::vector<SpawnSite>* sites = nullptr;
  std::string_view error;  // why the last refresh failed; empty when it did not
  std::size_t width = 80;
  std::size_t height = 24;
};

// At most `height` lines, none wider than `width`.
std::vector<std::string> render(const Frame& frame);

}  // namespace brigade::app::console_view
