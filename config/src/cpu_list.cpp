#include <algorithm>
#include <cstdint>

#include "text_values.hpp"

namespace brigade::config::detail {
namespace {

// Linux's CPU_SETSIZE: an affinity mask holds CPUs 0..1023.
constexpr std::int64_t kMaxCpu = 1023;

Parsed<std::size_t> parse_cpu(std::string_view text) {
  const Parsed<std::int64_t> number = parse_integer(text);
  if (!number || *number < 0) {
    return std::unexpected(quote(text) + " is not a CPU number (0, 1, ...)");
  }
  if (*number > kMaxCpu) {
    return std::unexpected("CPU " + std::to_string(*number) + " is above " +
                           std::to_string(kMaxCpu));
  }
  return static_cast<std::size_t>(*number);
}

}  // namespace

Parsed<std::vector<std::size_t>> parse_cpu_list(std::string_view text) {
  std::vector<std::size_t> cpus;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) {
      return std::unexpected("a CPU list may not end with a comma");
    }
    const std::size_t dash = item.find('-');
    const Parsed<std::size_t> first = parse_cpu(item.substr(0, dash));
    if (!first) return std::unexpected(first.error());
    std::size_t last = *first;
    if (dash != std::string_view::npos) {
      const Parsed<std::size_t> end = parse_cpu(item.substr(dash + 1));
      if (!end) return std::unexpected(end.error());
      if (*end < *first)
        return std::unexpected(quote(item) + " is a range that ends before it starts");
      last = *end;
    }
    for (std::size_t cpu = *first; cpu <= last; ++cpu) cpus.push_back(cpu);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string format_cpu_list(std::span<const std::size_t> cpus) {
  std::string text;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t end = i;
    while (end + 1 < cpus.size() && cpus[end + 1] == cpus[end] + 1) ++end;
    if (!text.empty()) text += ',';
    text += std::to_string(cpus[i]);
    if (end > i) text += '-' + std::to_string(cpus[end]);
    i = end + 1;
  }
  return text;
}

}  // namespace brigade::config::detail
