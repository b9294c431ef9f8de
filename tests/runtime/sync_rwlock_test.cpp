// RwLock: readers share, a writer excludes everyone, a queued writer holds back later readers,
// and many tasks updating under write() lose no update.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/spawn.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/sync/rw_lock.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
using namespace std::chrono_literals;

namespace {

rt::Runtime two_workers() { return rt::Builder::multi_thread().worker_threads(2).build(); }

struct SharingOutcome {
  bool second_reader_got_in = false;
  bool writer_refused_while_read = false;
  bool reader_refused_while_written = false;
  int value_read_after_write = 0;
};

rt::Task<SharingOutcome> readers_share_writer_excludes() {
  SharingOutcome out;
  auto lock = std::make_shared<rt::RwLock<int>>(1);
  {
    auto first = co_await lock->read();
    auto second = co_await lock->read();  // would wait for ever if readers excluded each other
    out.second_reader_got_in = *first == 1 && *second == 1;
    out.writer_refused_while_read = !lock->try_write().has_value();
  }
  {
    auto writer = co_await lock->write();
    *writer = 2;
    out.reader_refused_while_written = !lock->try_read().has_value();
  }
  out.value_read_after_write = *co_await lock->read();
  co_return out;
}

TEST(RwLock, ReadersShareAndAWriterExcludesEveryone) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(readers_share_writer_excludes());
  EXPECT_TRUE(out.second_reader_got_in);
  EXPECT_TRUE(out.writer_refused_while_read);
  EXPECT_TRUE(out.reader_refused_while_written);
  EXPECT_EQ(out.value_read_after_write, 2);
}

rt::Task<int> write_when_possible(std::shared_ptr<rt::RwLock<int>> lock,
                                  rt::oneshot::Sender<int> queued) {
  auto write = lock->write();
  static_cast<void>(queued.send(0));  // about to wait: the reader below still holds the lock
  auto guard = co_await std::move(write);
  *guard = 3;
  co_return *guard;
}

struct FairnessOutcome {
  bool later_reader_refused = false;
  int written = 0;
};

rt::Task<FairnessOutcome> queued_writer_holds_back_readers() {
  FairnessOutcome out;
  auto lock = std::make_shared<rt::RwLock<int>>(0);
  auto [queued_tx, queued_rx] = rt::oneshot::channel<int>();
  rt::JoinHandle<int> writer;
  {
    auto reader = co_await lock->read();
    writer = rt::spawn(write_when_possible(lock, std::move(queued_tx)));
    static_cast<void>(co_await queued_rx);
    // The writer is queued (or about to be): wait until it is, then a new reader must not pass.
    while (lock->try_read().has_value()) co_await rt::yield_now();
    out.later_reader_refused = true;
  }
  auto written = co_await writer;
  out.written = written ? *written : -1;
  co_return out;
}

TEST(RwLock, AQueuedWriterHoldsBackLaterReaders) {
  auto runtime = two_workers();
  const auto out = runtime.block_on(queued_writer_holds_back_readers());
  EXPECT_TRUE(out.later_reader_refused);
  EXPECT_EQ(out.written, 3);
}

rt::Task<void> add_under_write(std::shared_ptr<rt::RwLock<long>> lock, int times) {
  for (int i = 0; i < times; ++i) {
    auto guard = co_await lock->write();
    const long seen = *guard;
    co_await rt::yield_now();  // a lost update would show if another writer got in here
    *guard = seen + 1;
  }
}

rt::Task<long> many_writers() {
  auto lock = std::make_shared<rt::RwLock<long>>(0);
  std::vector<rt::JoinHandle<void>> tasks;
  for (int i = 0; i < 8; ++i) tasks.push_back(rt::spawn(add_under_write(lock, 100)));
  for (auto& task : tasks) {
    if (!co_await task) throw std::runtime_error("writer failed");
  }
  co_return *co_await lock->read();
}

TEST(RwLock, ConcurrentWritersLoseNoUpdate) {
  auto runtime = two_workers();
  EXPECT_EQ(runtime.block_on(many_writers()), 800);
}

}  // namespace
