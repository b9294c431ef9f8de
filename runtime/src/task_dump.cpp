#include "brigade/runtime/task_dump.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string_view>
#include <tuple>
#include <utility>

namespace brigade::runtime {
namespace {

constexpr std::size_t kStates = 4;
constexpr std::size_t kWaitReasons = static_cast<std::size_t>(WaitReason::tracker) + 1;

// The tasks of one spawn site, in the order they were listed.
struct SiteGroup {
  const TaskInfo* first = nullptr;  // gives the site
  std::vector<const TaskInfo*> tasks;
  std::array<std::size_t, kStates> per_state{};
  std::array<std::size_t, kWaitReasons> idle_per_wait{};  // what its idle tasks wait on
};

// "1.204s": seconds with milliseconds, the resolution of the clocks behind ages and deadlines.
void append_seconds(std::string& out, std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  const std::int64_t magnitude = ms < 0 ? -ms : ms;
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%s%" PRId64 ".%03" PRId64 "s", ms < 0 ? "-" : "",
                magnitude / 1000, magnitude % 1000);
  out += text.data();
}

// Appends the non-zero `counts` as "N name", the first after `open`, the others after ", ".
// Returns whether it appended any.
template <std::size_t N, class NameOf>
bool append_counts(std::string& out, const std::array<std::size_t, N>& counts, const char* open,
                   NameOf name_of) {
  const char* separator = open;
  for (std::size_t i = 0; i < N; ++i) {
    if (counts[i] == 0) continue;
    out += separator;
    out += std::to_string(counts[i]);
    out += ' ';
    out += name_of(i);
    separator = ", ";
  }
  return separator != open;
}

// ": 3 idle (2 timer, 1 read), 1 running": the counts by state, the idle ones by wait.
void describe_counts(std::string& out, const SiteGroup& group) {
  append_counts(out, group.per_state, " ", [&group](std::size_t state) {
    std::string name = to_string(static_cast<TaskInfo::State>(state));
    if (static_cast<TaskInfo::State>(state) == TaskInfo::State::idle &&
        append_counts(name, group.idle_per_wait, " (", [](std::size_t reason) {
          return reason == 0 ? "unknown" : to_string(static_cast<WaitReason>(reason));
        })) {
      name += ')';
    }
    return name;
  });
}

// "  task 42 idle on timer due in 0.750s, age 1.204s, 3 polls, annotation=/sleep"
void describe_task(std::string& out, const TaskInfo& task) {
  out += "  task ";
  out += std::to_string(task.id);
  out += ' ';
  out += to_string(task.state);
  if (task.state == TaskInfo::State::running && task.worker >= 0) {
    out += " on worker ";
    out += std::to_string(task.worker);
  }
  if (task.state == TaskInfo::State::idle && task.wait != WaitReason::none) {
    out += " on ";
    out += describe_wait(task);
  }
  out += ", age ";
  append_seconds(out, task.age);
  out += ", ";
  out += std::to_string(task.polls);
  out += task.polls == 1 ? " poll" : " polls";
  if (!task.annotation.empty()) {
    out += ", annotation=";
    out += task.annotation;
  }
  out += '\n';
}

// Spawn sites compared by value: the same call site may be compiled into several copies
// (inlined templates), each with its own string addresses.
auto site_key(const TaskInfo& task) {
  return std::tuple(std::string_view(task.spawned_at.file_name()), task.spawned_at.line(),
                    std::string_view(task.spawned_at.function_name()));
}

// Grouped first by the addresses of the site's strings (cheap to compare, for 100,000 tasks),
// then the few groups merged by value.
std::vector<SiteGroup> group_by_site(const std::vector<TaskInfo>& tasks) {
  std::map<std::tuple<const char*, std::uint_least32_t, const char*>, std::size_t> by_address;
  std::vector<SiteGroup> groups;
  for (const TaskInfo& task : tasks) {
    const auto [at, added] =
        by_address.try_emplace(std::tuple(task.spawned_at.file_name(), task.spawned_at.line(),
                                          task.spawned_at.function_name()),
                               groups.size());
    if (added)
      groups.push_back(
          SiteGroup{.first = &task, .tasks = {}, .per_state = {}, .idle_per_wait = {}});
    SiteGroup& group = groups[at->second];
    group.tasks.push_back(&task);
    ++group.per_state[static_cast<std::size_t>(task.state)];
    if (task.state == TaskInfo::State::idle) {
      ++group.idle_per_wait[static_cast<std::size_t>(task.wait) % kWaitReasons];
    }
  }
  std::ranges::sort(groups, [](const SiteGroup& a, const SiteGroup& b) {
    return site_key(*a.first) < site_key(*b.first);
  });
  std::vector<SiteGroup> merged;
  for (SiteGroup& group : groups) {
    if (merged.empty() || site_key(*merged.back().first) != site_key(*group.first)) {
      merged.push_back(std::move(group));
      continue;
    }
    SiteGroup& into = merged.back();
    into.tasks.insert(into.tasks.end(), group.tasks.begin(), group.tasks.end());
    for (std::size_t state = 0; state < kStates; ++state) {
      into.per_state[state] += group.per_state[state];
    }
    for (std::size_t reason = 0; reason < kWaitReasons; ++reason) {
      into.idle_per_wait[reason] += group.idle_per_wait[reason];
    }
  }
  std::ranges::stable_sort(merged, [](const SiteGroup& a, const SiteGroup& b) {
    return a.tasks.size() > b.tasks.size();
  });
  return merged;
}

void describe_group(std::string& out, SiteGroup& group, std::size_t tasks_per_site) {
  const std::source_location& site = group.first->spawned_at;
  out += std::to_string(group.tasks.size());
  out += group.tasks.size() == 1 ? " task" : " tasks";
  out += " spawned at ";
  out += site.file_name();
  out += ':';
  out += std::to_string(site.line());
  out += " (";
  out += site.function_name();
  out += "):";
  describe_counts(out, group);
  out += '\n';
  // The oldest tasks of the site, without sorting all of them. By age, not id: threads take ids
  // in blocks, so a lower id on another thread may be a younger task. Ties (the clock is coarse)
  // by id, which orders the spawns of one thread.
  const std::size_t shown = std::min(tasks_per_site, group.tasks.size());
  std::partial_sort(group.tasks.begin(), group.tasks.begin() + static_cast<std::ptrdiff_t>(shown),
                    group.tasks.end(), [](const TaskInfo* a, const TaskInfo* b) {
                      return a->age != b->age ? a->age > b->age : a->id < b->id;
                    });
  for (std::size_t i = 0; i < shown; ++i) describe_task(out, *group.tasks[i]);
  if (shown < group.tasks.size()) {
    out += "  ... ";
    out += std::to_string(group.tasks.size() - shown);
    out += " more\n";
  }
}

}  // namespace

const char* to_string(TaskInfo::State state) noexcept {
  switch (state) {
    case TaskInfo::State::idle:
      return "idle";
    case TaskInfo::State::scheduled:
      return "scheduled";
    case TaskInfo::State::running:
      return "running";
    case TaskInfo::State::complete:
      return "complete";
  }
  return "unknown";
}

const char* to_string(WaitReason reason) noexcept {
  switch (reason) {
    case WaitReason::none:
      return "none";
    case WaitReason::read:
      return "read";
    case WaitReason::write:
      return "write";
    case WaitReason::timer:
      return "timer";
    case WaitReason::join:
      return "join";
    case WaitReason::blocking:
      return "blocking";
    case WaitReason::select:
      return "select";
    case WaitReason::join_all:
      return "join_all";
    case WaitReason::oneshot:
      return "oneshot";
    case WaitReason::mpsc_receive:
      return "mpsc_receive";
    case WaitReason::mpsc_send:
      return "mpsc_send";
    case WaitReason::watch:
      return "watch";
    case WaitReason::broadcast:
      return "broadcast";
    case WaitReason::notify:
      return "notify";
    case WaitReason::semaphore:
      return "semaphore";
    case WaitReason::cancellation:
      return "cancellation";
    case WaitReason::signal:
      return "signal";
    case WaitReason::tracker:
      return "tracker";
  }
  return "unknown";
}

std::string describe_wait(const TaskInfo& task) {
  if (task.wait == WaitReason::none) return {};
  std::string out = to_string(task.wait);
  switch (task.wait) {
    case WaitReason::read:
    case WaitReason::write:
      out += " of fd ";
      out += std::to_string(task.fd);
      break;
    case WaitReason::timer:
      out += " due in ";
      append_seconds(out, task.due_in);
      break;
    case WaitReason::join:
      out += " of task ";
      out += std::to_string(task.joined_task);
      break;
    case WaitReason::blocking:
      out += " job ";
      out += std::to_string(task.joined_task);
      break;
    case WaitReason::select:
    case WaitReason::join_all:
      out += " of ";
      out += std::to_string(task.branches);
      break;
    default:
      break;
  }
  return out;
}

std::string describe(const std::vector<TaskInfo>& tasks, std::size_t tasks_per_site) {
  std::string out = std::to_string(tasks.size());
  out += tasks.size() == 1 ? " live task\n" : " live tasks\n";
  for (SiteGroup& group : group_by_site(tasks)) {
    out += '\n';
    describe_group(out, group, tasks_per_site);
  }
  return out;
}

}  // namespace brigade::runtime
