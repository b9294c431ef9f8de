#include "metrics/process_collector.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>

#include "metrics/family.hpp"

namespace brigade::handlers::detail {
namespace {

using prometheus::MetricType;

// The fields of /proc/self/stat this collector uses (proc(5) numbers them from 1).
struct ProcStat {
  unsigned long long utime_ticks = 0;      // 14
  unsigned long long stime_ticks = 0;      // 15
  unsigned long long starttime_ticks = 0;  // 22: since boot
  long long rss_pages = 0;                 // 24
};

std::optional<ProcStat> read_proc_stat() {
  std::ifstream file("/proc/self/stat");
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  // Field 2, the command name, is in parentheses and may hold spaces and ')': the fields that
  // follow start after the last ')'.
  const std::size_t name_end = text.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(name_end + 1));
  std::string skip;
  ProcStat stat;
  for (int field = 3; field <= 13; ++field) fields >> skip;
  fields >> stat.utime_ticks >> stat.stime_ticks;
  for (int field = 16; field <= 21; ++field) fields >> skip;
  fields >> stat.starttime_ticks >> skip >> stat.rss_pages;
  if (!fields) return std::nullopt;
  return stat;
}

// The boot time, in seconds since the Unix epoch ("btime" in /proc/stat).
std::optional<long long> read_boot_time() {
  std::ifstream file("/proc/stat");
  std::string key;
  long long value = 0;
  while (file >> key) {
    if (key == "btime") {
      if (file >> value) return value;
      return std::nullopt;
    }
    file.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

double ticks_per_second() { return static_cast<double>(::sysconf(_SC_CLK_TCK)); }

std::optional<double> open_fds() {
  std::error_code error;
  std::filesystem::directory_iterator entries("/proc/self/fd", error);
  if (error) return std::nullopt;
  // The count includes the descriptor this iteration holds open, as other clients' do.
  double count = 0;
  for (auto it = std::filesystem::begin(entries); it != std::filesystem::end(entries);
       it.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count;
}

std::optional<double> max_fds() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::nullopt;
  }
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

ProcessCollector::ProcessCollector() {
  const auto stat = read_proc_stat();
  const auto boot = read_boot_time();
  if (stat && boot) {
    start_time_seconds_ = static_cast<double>(*boot) +
                          static_cast<double>(stat->starttime_ticks) / ticks_per_second();
  }
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  if (const auto stat = read_proc_stat()) {
    const double cpu = static_cast<double>(stat->utime_ticks + stat->stime_ticks);
    families.push_back(single("process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.",
                              MetricType::Counter, cpu / ticks_per_second()));
    families.push_back(single(
        "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
        static_cast<double>(stat->rss_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE))));
  }
  if (const auto count = open_fds()) {
    families.push_back(
        single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *count));
  }
  if (const auto limit = max_fds()) {
    families.push_back(single("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, *limit));
  }
  if (start_time_seconds_) {
    families.push_back(single("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.",
                              MetricType::Gauge, *start_time_seconds_));
  }
  return families;
}

}  // namespace brigade::handlers::detail
