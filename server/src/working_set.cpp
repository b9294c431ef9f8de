#include "working_set.hpp"

#include <utility>
#include <vector>

namespace brigade::server::detail {
namespace {

// Sets a thread keeps: enough for the connections one worker has mid-request at once in the
// usual case (a burst that is answered at once gives its set back before the next connection
// takes one); beyond it a set is freed rather than pinned for ever. A lease often ends on
// another worker than the one it began on, so every pool slowly fills to this bound: it is what
// a worker pins, at most 8 x 32 KiB.
constexpr std::size_t kPoolSize = 8;
// An output buffer a large response grew past this is freed, not pooled.
constexpr std::size_t kMaxPooledOutput = 16 * 1024;

struct Pool {
  Pool() { sets.reserve(kPoolSize); }  // so that giving a set back never allocates
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  std::vector<std::unique_ptr<WorkingSet>> sets;
};

// A lease that ends on a thread whose pool is already destroyed (thread exit) frees its set.
thread_local bool pool_gone = false;
thread_local Pool pool;

Pool::~Pool() { pool_gone = true; }

}  // namespace

WorkingSet::WorkingSet()
    : read_buffer_(std::make_unique_for_overwrite<std::byte[]>(kReadBufferSize)) {}

WorkingSetLease::WorkingSetLease() {
  if (!pool_gone && !pool.sets.empty()) {
    set_ = std::move(pool.sets.back());
    pool.sets.pop_back();
  } else {
    set_ = std::make_unique<WorkingSet>();
  }
}

WorkingSetLease::~WorkingSetLease() {
  set_->parser.reset();
  if (set_->out.capacity() > kMaxPooledOutput) {
    std::string().swap(set_->out);
  } else {
    set_->out.clear();
  }
  if (pool_gone || pool.sets.size() == kPoolSize) return;  // set_ frees it
  pool.sets.push_back(std::move(set_));
}

}  // namespace brigade::server::detail
