#include "console_view.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <numeric>
#include <utility>

namespace brigade::app::console_view {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> kStates = {"idle", "scheduled", "running", "complete"};

// Reads unsigned fields, remembering the first that is missing or not a count.
class Reader {
 public:
  std::uint64_t count(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    boost::system::error_code error;
    const auto number = value != nullptr ? value->to_number<std::uint64_t>(error) : 0;
    if ((value == nullptr || error) && missing_.empty()) missing_ = key;
    return number;
  }
  std::string text(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    if (value != nullptr && value->is_string()) return std::string(value->get_string());
    if (missing_.empty()) missing_ = key;
    return {};
  }
  const std::string& missing() const noexcept { return missing_; }

 private:
  std::string missing_;
};

std::expected<json::object, std::string> parse_object(std::string_view text) {
  boost::system::error_code error;
  json::value value = json::parse(text, error);
  if (error) return std::unexpected("not JSON: " + error.message());
  if (!value.is_object()) return std::unexpected(std::string("not a JSON object"));
  return std::move(value.get_object());
}

// The object `value` holds; an empty one (whose fields the Reader reports missing) otherwise.
const json::object& object_of(const json::value* value) {
  static const json::object empty;
  return value != nullptr && value->is_object() ? value->get_object() : empty;
}

const json::object& object_at(const json::object& object, std::string_view key) {
  return object_of(object.if_contains(key));
}

// "/src/server/src/connection.cpp" -> "connection.cpp": the line number says the rest.
std::string_view file_name(std::string_view path) { return path.substr(path.rfind('/') + 1); }

// "std::expected<void, E> brigade::x::f(int) [with ...]" -> "brigade::x::f": the return type
// and parameters would push the name off the screen.
std::string_view qualified_name(std::string_view function) {
  function = function.substr(0, function.find('('));
  const std::size_t space = function.rfind(' ');
  return space == std::string_view::npos ? function : function.substr(space + 1);
}

std::string fixed(double value, int decimals) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// 1 -> "1", 0.25 -> "0.25".
std::string shortest(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

// `text` right-aligned in `width` columns.
std::string right(std::string_view text, std::size_t width) {
  std::string out(width > text.size() ? width - text.size() : 0, ' ');
  out += text;
  return out;
}

std::uint64_t since(std::uint64_t now, std::uint64_t before) {
  return now >= before ? now - before : 0;
}

// Per-second rate of a counter between two snapshots; "-" without a previous one.
std::string rate(const Frame& frame, std::uint64_t now, std::uint64_t before) {
  if (frame.previous == nullptr || frame.elapsed_seconds <= 0) return "-";
  return fixed(static_cast<double>(since(now, before)) / frame.elapsed_seconds, 0);
}

std::string busy_percent(const Frame& frame, std::uint64_t now_ns, std::uint64_t before_ns) {
  if (frame.previous == nullptr || frame.elapsed_seconds <= 0) return "-";
  const double ratio = static_cast<double>(since(now_ns, before_ns)) / 1e9 / frame.elapsed_seconds;
  return fixed(100 * std::min(ratio, 1.0), 1) + "%";
}

void worker_lines(const Frame& frame, std::vector<std::string>& lines) {
  const RuntimeFigures& now = *frame.runtime;
  // A restarted server may have another worker count: no rates until the next refresh then.
  Frame row = frame;
  if (frame.previous != nullptr && frame.previous->workers.size() != now.workers.size()) {
    row.previous = nullptr;
  }
  lines.emplace_back("WORKER    BUSY   POLLS/S  STEALS/S  LOCAL QUEUE    STALLS");
  for (std::size_t i = 0; i < now.workers.size(); ++i) {
    const WorkerFigures& w = now.workers[i];
    const WorkerFigures before =
        row.previous != nullptr ? row.previous->workers[i] : WorkerFigures{};
    lines.push_back(
        right(std::to_string(i), 6) + right(busy_percent(row, w.busy_ns, before.busy_ns), 8) +
        right(rate(row, w.polls, before.polls), 10) +
        right(rate(row, w.steals, before.steals), 10) +
        right(std::to_string(w.local_queue_depth), 13) + right(std::to_string(w.stalls), 10));
  }
}

void summary_lines(const Frame& frame, std::vector<std::string>& lines) {
  const RuntimeFigures& now = *frame.runtime;
  const RuntimeFigures empty;
  const RuntimeFigures& before = frame.previous != nullptr ? *frame.previous : empty;
  const auto stalls = [](const RuntimeFigures& r) {
    return std::accumulate(
        r.workers.begin(), r.workers.end(), std::uint64_t{0},
        [](std::uint64_t sum, const WorkerFigures& w) { return sum + w.stalls; });
  };
  lines.push_back("Tasks: " + std::to_string(now.tasks_alive) + " alive, " +
                  rate(frame, now.tasks_spawned, before.tasks_spawned) + " spawned/s" +
                  "    Inject queue: " + std::to_string(now.injection_queue_depth));
  const std::uint64_t busy = since(now.blocking_threads, now.blocking_idle_threads);
  lines.push_back("Blocking pool: " + std::to_string(now.blocking_threads) + " threads, " +
                  std::to_string(busy) + " busy, " + std::to_string(now.blocking_queue_depth) +
                  " queued, " + std::to_string(now.blocking_rejected) + " rejected");
  std::string stall_line = "Stalls: " + std::to_string(stalls(now));
  if (frame.previous != nullptr) {
    stall_line +=
        " (+" + std::to_string(since(stalls(now), stalls(before))) + " since last refresh)";
  }
  lines.push_back(std::move(stall_line));
}

void site_lines(const std::vector<SpawnSite>& sites, std::size_t room,
                std::vector<std::string>& lines) {
  lines.emplace_back("BUSIEST SPAWN SITES");
  lines.emplace_back("  TASKS   IDLE  SCHED    RUN  SITE");
  for (std::size_t i = 0; i < sites.size() && i < room; ++i) {
    const SpawnSite& site = sites[i];
    lines.push_back(right(std::to_string(site.total()), 7) +
                    right(std::to_string(site.per_state[0]), 7) +
                    right(std::to_string(site.per_state[1]), 7) +
                    right(std::to_string(site.per_state[2]), 7) + "  " + site.where);
  }
}

}  // namespace

std::uint64_t SpawnSite::total() const noexcept {
  return std::accumulate(per_state.begin(), per_state.end(), std::uint64_t{0});
}

std::expected<RuntimeFigures, std::string> parse_runtime(std::string_view text) {
  const auto root = parse_object(text);
  if (!root) return std::unexpected("/debug/runtime: " + root.error());
  Reader read;
  RuntimeFigures figures;
  figures.injection_queue_depth = read.count(*root, "injection_queue_depth");
  const json::object& tasks = object_at(*root, "tasks");
  figures.tasks_alive = read.count(tasks, "alive");
  figures.tasks_spawned = read.count(tasks, "spawned");
  const json::object& blocking = object_at(*root, "blocking");
  figures.blocking_threads = read.count(blocking, "threads");
  figures.blocking_idle_threads = read.count(blocking, "idle_threads");
  figures.blocking_queue_depth = read.count(blocking, "queue_depth");
  figures.blocking_rejected = read.count(blocking, "rejected");
  const json::value* workers = root->if_contains("workers");
  if (workers == nullptr || !workers->is_array())
    return std::unexpected(std::string("/debug/runtime: no workers"));
  for (const json::value& worker : workers->get_array()) {
    const json::object& w = object_of(&worker);
    figures.workers.push_back({.polls = read.count(w, "polls"),
                               .steals = read.count(w, "steals"),
                               .local_queue_depth = read.count(w, "local_queue_depth"),
                               .busy_ns = read.count(w, "busy_ns"),
                               .stalls = read.count(w, "stalls")});
  }
  if (!read.missing().empty()) return std::unexpected("/debug/runtime: no " + read.missing());
  return figures;
}

std::expected<std::vector<SpawnSite>, std::string> parse_tasks(std::string_view text) {
  const auto root = parse_object(text);
  if (!root) return std::unexpected("/debug/tasks: " + root.error());
  const json::value* tasks = root->if_contains("tasks");
  if (tasks == nullptr || !tasks->is_array())
    return std::unexpected(std::string("/debug/tasks: no tasks"));
  Reader read;
  std::map<std::string, SpawnSite> by_site;
  for (const json::value& task : tasks->get_array()) {
    const json::object& t = object_of(&task);
    std::string where = std::string(file_name(read.text(t, "file"))) + ':' +
                        std::to_string(read.count(t, "line")) + ' ' +
                        std::string(qualified_name(read.text(t, "function")));
    const std::string state = read.text(t, "state");
    SpawnSite& site = by_site[where];
    site.where = std::move(where);
    const auto known = std::ranges::find(kStates, state);
    if (known != kStates.end()) ++site.per_state[static_cast<std::size_t>(known - kStates.begin())];
  }
  if (!read.missing().empty()) return std::unexpected("/debug/tasks: no " + read.missing());
  std::vector<SpawnSite> sites;
  for (auto& [where, site] : by_site) sites.push_back(std::move(site));
  std::ranges::stable_sort(
      sites, [](const SpawnSite& a, const SpawnSite& b) { return a.total() > b.total(); });
  return sites;
}

std::vector<std::string> render(const Frame& frame) {
  std::vector<std::string> lines;
  lines.push_back("Brigade console  " + std::string(frame.target) + "  every " +
                  shortest(frame.interval_seconds) + " s  (q quits)");
  lines.push_back(frame.error.empty() ? std::string()
                                      : "! " + std::string(frame.error) + " (retrying)");
  if (frame.runtime != nullptr) {
    summary_lines(frame, lines);
    lines.emplace_back();
    worker_lines(frame, lines);
  }
  if (frame.sites != nullptr) {
    lines.emplace_back();
    const std::size_t used = lines.size() + 2;  // and the two headings
    site_lines(*frame.sites, frame.height > used ? frame.height - used : 0, lines);
  }
  if (lines.size() > frame.height) lines.resize(frame.height);
  for (std::string& line : lines) {
    if (line.size() > frame.width) line.resize(frame.width);
  }
  return lines;
}

}  // namespace brigade::app::console_view
