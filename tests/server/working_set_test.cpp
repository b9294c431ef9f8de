// How much memory a thread's pool of working sets (working_set.cpp) may keep. The global operator
// new and delete are replaced to count the bytes live on the heap (which is why this is a binary
// of its own): what the pool holds is what stays live once every lease has ended.
#include "working_set.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

#include "../support/live_heap_bytes.hpp"

namespace brigade::server::detail {
namespace {

using Leases = std::vector<std::optional<WorkingSetLease>>;

// Eight sets of a read buffer and a small output buffer, and a page for what the test's own
// threads leave allocated.
constexpr std::ptrdiff_t kPoolLimit = 8 * (WorkingSet::kReadBufferSize + 1024) + 4096;

// A worker with many connections mid-request at once, then none: it keeps a few sets.
TEST(WorkingSet, AThreadKeepsAFewSetsWhenManyLeasesEnd) {
  std::ptrdiff_t kept = 0;
  std::thread([&kept] {
    const std::ptrdiff_t before = brigade::testing::live_heap_bytes.load();
    {
      Leases leases(64);
      for (auto& lease : leases) lease.emplace();
      for (auto& lease : leases) lease.reset();
    }
    kept = brigade::testing::live_heap_bytes.load() - before;
  }).join();
  EXPECT_GT(kept, 0);  // it does keep some: a request cycle allocates none of them
  EXPECT_LE(kept, kPoolLimit);
}

// A lease often ends on another worker than the one it began on: the thread that only takes them
// in keeps no more than its bound.
TEST(WorkingSet, AThreadWhereOthersLeasesEndKeepsNoMoreThanAFewSets) {
  std::ptrdiff_t kept = 0;
  std::thread([&kept] {
    const std::ptrdiff_t before = brigade::testing::live_heap_bytes.load();
    for (int round = 0; round < 4; ++round) {
      Leases leases(64);
      std::thread([&leases] {
        for (auto& lease : leases) lease.emplace();
      }).join();
      for (auto& lease : leases) lease.reset();
    }
    kept = brigade::testing::live_heap_bytes.load() - before;
  }).join();
  EXPECT_LE(kept, kPoolLimit);
}

// An output buffer a large answer grew is freed with the lease, not pooled.
TEST(WorkingSet, AGrownOutputBufferIsNotKept) {
  std::ptrdiff_t kept = 0;
  std::thread([&kept] {
    const std::ptrdiff_t before = brigade::testing::live_heap_bytes.load();
    {
      WorkingSetLease lease;
      lease->out.assign(256 * 1024, 'x');
    }
    kept = brigade::testing::live_heap_bytes.load() - before;
  }).join();
  EXPECT_LE(kept, WorkingSet::kReadBufferSize + 4096);
}

}  // namespace
}  // namespace brigade::server::detail
