#include "cpu_affinity.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <vector>

namespace brigade::runtime::detail {

std::vector<std::size_t> allowed_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  std::vector<std::size_t> cpus;
  if (::pthread_getaffinity_np(::pthread_self(), sizeof mask, &mask) != 0) return cpus;
  for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  }
  return cpus;
}

std::string describe_unavailable(std::span<const std::size_t> cpus) {
  const std::vector<std::size_t> allowed = allowed_cpus();
  const auto unavailable = std::find_if(cpus.begin(), cpus.end(), [&](std::size_t cpu) {
    return !std::binary_search(allowed.begin(), allowed.end(), cpu);
  });
  if (unavailable == cpus.end()) return {};
  std::string text =
      "CPU " + std::to_string(*unavailable) + " is not one this process may run on (it may run on ";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(allowed[i]);
  }
  return text + ")";
}

void pin_this_thread(std::span<const std::size_t> cpus) noexcept {
  if (cpus.empty()) return;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  for (const std::size_t cpu : cpus) {
    if (cpu < CPU_SETSIZE) CPU_SET(cpu, &mask);
  }
  static_cast<void>(::pthread_setaffinity_np(::pthread_self(), sizeof mask, &mask));
}

}  // namespace brigade::runtime::detail
