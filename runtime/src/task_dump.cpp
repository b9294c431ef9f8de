#include "brigade/runtime/task_dump.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string_view>
#include <tuple>
#include <utility>

namespace brigade::runtime {
namespace {

constexpr std::size_t kStates = 4;

// The tasks of one spawn site, in the order they were listed.
struct SiteGroup {
  const TaskInfo* first = nullptr;  // gives the site
  std::vector<const TaskInfo*> tasks;
  std::array<std::size_t, kStates> per_state{};
};

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
    if (added) groups.push_back(SiteGroup{.first = &task, .tasks = {}, .per_state = {}});
    SiteGroup& group = groups[at->second];
    group.tasks.push_back(&task);
    ++group.per_state[static_cast<std::size_t>(task.state)];
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
  const char* separator = " ";
  for (std::size_t state = 0; state < kStates; ++state) {
    if (group.per_state[state] == 0) continue;
    out += separator;
    out += std::to_string(group.per_state[state]);
    out += ' ';
    out += to_string(static_cast<TaskInfo::State>(state));
    separator = ", ";
  }
  out += '\n';
  // The oldest tasks (lowest ids) of the site, without sorting all of them.
  const std::size_t shown = std::min(tasks_per_site, group.tasks.size());
  std::partial_sort(group.tasks.begin(), group.tasks.begin() + static_cast<std::ptrdiff_t>(shown),
                    group.tasks.end(),
                    [](const TaskInfo* a, const TaskInfo* b) { return a->id < b->id; });
  for (std::size_t i = 0; i < shown; ++i) {
    const TaskInfo& task = *group.tasks[i];
    out += "  task ";
    out += std::to_string(task.id);
    out += ' ';
    out += to_string(task.state);
    if (!task.annotation.empty()) {
      out += " annotation=";
      out += task.annotation;
    }
    out += '\n';
  }
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
