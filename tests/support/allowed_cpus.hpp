// The CPUs the calling thread may run on (its affinity mask, which a cpuset or `taskset` narrows),
// in increasing order: what tests of `blocking_cpus` choose from and check against.
#pragma once

#include <sched.h>

#include <cstddef>
#include <vector>

namespace brigade::testing {

inline std::vector<std::size_t> allowed_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  std::vector<std::size_t> cpus;
  if (::sched_getaffinity(0, sizeof mask, &mask) != 0) return cpus;
  for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace brigade::testing
