#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace brigade::runtime::detail {

// The CPUs the calling thread may run on, ascending.
std::vector<std::size_t> allowed_cpus();

// "CPU 7 is not one this process may run on (it may run on 0, 1)" for the first of `cpus` outside
// the calling thread's affinity mask (which a cpuset or `taskset` narrows); empty when there is
// none.
std::string describe_unavailable(std::span<const std::size_t> cpus);

// Restricts the calling thread to `cpus`; none leaves it where it is, and so does Linux refusing
// (none of them is in the thread's cpuset any longer).
void pin_this_thread(std::span<const std::size_t> cpus) noexcept;

}  // namespace brigade::runtime::detail
