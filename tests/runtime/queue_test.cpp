// Tests for the scheduler run queues: InjectQueue (shared) and LocalQueue (per-worker ring).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "inject_queue.hpp"
#include "local_queue.hpp"

#if defined(__SANITIZE_THREAD__)
#define BRIGADE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BRIGADE_TSAN 1
#endif
#endif

#ifdef BRIGADE_TSAN
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

namespace brigade::runtime::detail {

// Backdoor declared in local_queue.hpp: lets tests start the indices near u32 wrap-around.
struct LocalQueueTestAccess {
  template <class Queue>
  static void start_at(Queue& q, std::uint32_t index) {
    ASSERT_TRUE(q.is_empty());
    q.head_.store(Queue::pack(index, index), std::memory_order_relaxed);
    q.tail_.store(index, std::memory_order_relaxed);
  }
  // Simulates a stealer frozen between claim and commit: claims the oldest `n` tasks.
  template <class Queue>
  static void claim(Queue& q, std::uint32_t n) {
    const std::uint64_t head = q.head_.load(std::memory_order_relaxed);
    ASSERT_EQ(Queue::steal_of(head), Queue::real_of(head));
    q.head_.store(Queue::pack(Queue::real_of(head), Queue::real_of(head) + n),
                  std::memory_order_relaxed);
  }
  template <class Queue>
  static void commit(Queue& q) {
    const std::uint32_t real = Queue::real_of(q.head_.load(std::memory_order_relaxed));
    q.head_.store(Queue::pack(real, real), std::memory_order_relaxed);
  }
};

namespace {

struct TestNode {
  TestNode* queue_next = nullptr;
  std::uint32_t id = 0;
};

using Inject = InjectQueue<TestNode>;
template <std::uint32_t C>
using Local = LocalQueue<TestNode, C>;

std::vector<TestNode> make_nodes(std::size_t n) {
  std::vector<TestNode> nodes(n);
  for (std::size_t i = 0; i < n; ++i) {
    nodes[i].id = static_cast<std::uint32_t>(i);
  }
  return nodes;
}

// Links nodes[begin, end) through queue_next; returns {first, last}.
std::pair<TestNode*, TestNode*> link(std::vector<TestNode>& nodes, std::size_t begin,
                                     std::size_t end) {
  for (std::size_t i = begin; i + 1 < end; ++i) {
    nodes[i].queue_next = &nodes[i + 1];
  }
  nodes[end - 1].queue_next = nullptr;
  return {&nodes[begin], &nodes[end - 1]};
}

class Rng {  // xorshift64*: cheap, deterministic, per-thread.
 public:
  explicit Rng(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint32_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return static_cast<std::uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }

 private:
  std::uint64_t state_;
};

// ---- InjectQueue: single thread -------------------------------------------------------------

TEST(InjectQueue, FifoAndLen) {
  auto nodes = make_nodes(10);
  Inject q;
  EXPECT_TRUE(q.is_empty());
  EXPECT_EQ(q.pop(), nullptr);
  for (auto& n : nodes) {
    ASSERT_TRUE(q.push(&n));
  }
  EXPECT_EQ(q.len(), 10u);
  EXPECT_FALSE(q.is_empty());
  for (auto& n : nodes) {
    TestNode* got = q.pop();
    ASSERT_EQ(got, &n);
    EXPECT_EQ(got->queue_next, nullptr);
  }
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.is_empty());
  EXPECT_EQ(q.len(), 0u);
}

TEST(InjectQueue, PushBatchAndPopN) {
  auto nodes = make_nodes(20);
  Inject q;
  ASSERT_TRUE(q.push(&nodes[0]));
  auto [first, last] = link(nodes, 1, 11);
  ASSERT_TRUE(q.push_batch(first, last, 10));
  ASSERT_TRUE(q.push(&nodes[11]));
  ASSERT_TRUE(q.push_batch(nullptr, nullptr, 0));
  EXPECT_EQ(q.len(), 12u);

  TestNode* out[8] = {};
  ASSERT_EQ(q.pop_n(out, 5), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(out[i]->id, i);
    EXPECT_EQ(out[i]->queue_next, nullptr);
  }
  EXPECT_EQ(q.len(), 7u);
  EXPECT_EQ(q.pop_n(out, 0), 0u);
  ASSERT_EQ(q.pop_n(out, 8), 7u);
  for (std::uint32_t i = 0; i < 7; ++i) {
    EXPECT_EQ(out[i]->id, i + 5);
  }
  EXPECT_TRUE(q.is_empty());
  EXPECT_EQ(q.pop_n(out, 8), 0u);

  // The queue must be reusable after being emptied by pop_n (tail reset).
  ASSERT_TRUE(q.push(&nodes[12]));
  ASSERT_TRUE(q.push(&nodes[13]));
  EXPECT_EQ(q.pop(), &nodes[12]);
  EXPECT_EQ(q.pop(), &nodes[13]);
}

TEST(InjectQueue, CloseRejectsPushesButDrains) {
  auto nodes = make_nodes(6);
  Inject q;
  ASSERT_TRUE(q.push(&nodes[0]));
  ASSERT_TRUE(q.push(&nodes[1]));
  EXPECT_FALSE(q.is_closed());
  q.close();
  q.close();  // Idempotent.
  EXPECT_TRUE(q.is_closed());

  nodes[2].queue_next = &nodes[3];  // Sentinel: a rejected node must not be touched.
  EXPECT_FALSE(q.push(&nodes[2]));
  EXPECT_EQ(nodes[2].queue_next, &nodes[3]);
  auto [first, last] = link(nodes, 3, 6);
  EXPECT_FALSE(q.push_batch(first, last, 3));
  EXPECT_EQ(nodes[3].queue_next, &nodes[4]);
  EXPECT_EQ(q.len(), 2u);

  EXPECT_EQ(q.pop(), &nodes[0]);
  EXPECT_EQ(q.pop(), &nodes[1]);
  EXPECT_EQ(q.pop(), nullptr);
}

// ---- LocalQueue: single thread --------------------------------------------------------------

TEST(LocalQueue, FifoWithinCapacity) {
  auto nodes = make_nodes(256);
  Local<256> q;
  Inject inject;
  EXPECT_TRUE(q.is_empty());
  EXPECT_EQ(q.remaining_slots(), 256u);
  EXPECT_EQ(q.pop(), nullptr);
  for (auto& n : nodes) {
    ASSERT_EQ(q.push_back_or_overflow(&n, inject), nullptr);
  }
  EXPECT_EQ(q.len(), 256u);
  EXPECT_EQ(q.remaining_slots(), 0u);
  EXPECT_TRUE(inject.is_empty());
  for (auto& n : nodes) {
    ASSERT_EQ(q.pop(), &n);
  }
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.is_empty());
  EXPECT_EQ(q.remaining_slots(), 256u);
}

TEST(LocalQueue, OverflowMovesOldestHalfPlusTaskToInject) {
  auto nodes = make_nodes(9);
  Local<8> q;
  Inject inject;
  for (std::uint32_t i = 0; i < 8; ++i) {
    ASSERT_EQ(q.push_back_or_overflow(&nodes[i], inject), nullptr);
  }
  ASSERT_EQ(q.push_back_or_overflow(&nodes[8], inject), nullptr);  // Full: overflow.

  EXPECT_EQ(q.len(), 4u);
  EXPECT_EQ(q.remaining_slots(), 4u);
  ASSERT_EQ(inject.len(), 5u);
  for (std::uint32_t id : {0u, 1u, 2u, 3u, 8u}) {
    TestNode* n = inject.pop();
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->id, id);
  }
  for (std::uint32_t id : {4u, 5u, 6u, 7u}) {
    TestNode* n = q.pop();
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->id, id);
  }
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(LocalQueue, OverflowIntoClosedInjectReturnsChain) {
  auto nodes = make_nodes(9);
  Local<8> q;
  Inject inject;
  for (std::uint32_t i = 0; i < 8; ++i) {
    ASSERT_EQ(q.push_back_or_overflow(&nodes[i], inject), nullptr);
  }
  inject.close();
  TestNode* chain = q.push_back_or_overflow(&nodes[8], inject);
  std::vector<std::uint32_t> ids;
  for (TestNode* n = chain; n != nullptr; n = n->queue_next) {
    ids.push_back(n->id);
  }
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{0, 1, 2, 3, 8}));
  EXPECT_EQ(q.len(), 4u);
  EXPECT_TRUE(inject.is_empty());
}

TEST(LocalQueue, StealTakesHalfRoundedUpAndReturnsLast) {
  auto nodes = make_nodes(5);
  Local<8> src;
  Local<8> dst;
  Inject inject;
  for (auto& n : nodes) {
    ASSERT_EQ(src.push_back_or_overflow(&n, inject), nullptr);
  }
  TestNode* got = src.steal_into(dst);  // 5 -> claims 3: two into dst, one returned.
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->id, 2u);
  EXPECT_EQ(src.len(), 2u);
  EXPECT_EQ(src.remaining_slots(), 6u);
  EXPECT_EQ(dst.len(), 2u);
  EXPECT_EQ(dst.pop(), &nodes[0]);
  EXPECT_EQ(dst.pop(), &nodes[1]);
  EXPECT_EQ(dst.pop(), nullptr);
  EXPECT_EQ(src.pop(), &nodes[3]);
  EXPECT_EQ(src.pop(), &nodes[4]);
  EXPECT_EQ(src.pop(), nullptr);
}

TEST(LocalQueue, StealFromEmptyAndSingle) {
  auto nodes = make_nodes(1);
  Local<8> src;
  Local<8> dst;
  Inject inject;
  EXPECT_EQ(src.steal_into(dst), nullptr);
  ASSERT_EQ(src.push_back_or_overflow(&nodes[0], inject), nullptr);
  EXPECT_EQ(src.steal_into(dst), &nodes[0]);
  EXPECT_TRUE(src.is_empty());
  EXPECT_TRUE(dst.is_empty());
  EXPECT_EQ(src.steal_into(dst), nullptr);
}

TEST(LocalQueue, StealRefusedWhenDstMoreThanHalfFull) {
  auto nodes = make_nodes(16);
  Local<8> src;
  Local<8> dst;
  Inject inject;
  for (std::uint32_t i = 0; i < 8; ++i) {
    ASSERT_EQ(src.push_back_or_overflow(&nodes[i], inject), nullptr);
  }
  for (std::uint32_t i = 8; i < 13; ++i) {  // 5 > 8 / 2.
    ASSERT_EQ(dst.push_back_or_overflow(&nodes[i], inject), nullptr);
  }
  EXPECT_EQ(src.steal_into(dst), nullptr);
  EXPECT_EQ(src.len(), 8u);
  ASSERT_EQ(dst.pop(), &nodes[8]);  // 4 == 8 / 2: a full half (4) still fits.
  TestNode* got = src.steal_into(dst);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->id, 3u);
  EXPECT_EQ(dst.len(), 7u);
  EXPECT_EQ(src.len(), 4u);
}

TEST(LocalQueue, BehaviourWhileStealInProgress) {
  auto nodes = make_nodes(11);
  Local<8> q;
  Local<8> other;
  Inject inject;
  LocalQueueTestAccess::start_at(q, std::numeric_limits<std::uint32_t>::max() - 4);
  for (std::uint32_t i = 0; i < 8; ++i) {
    ASSERT_EQ(q.push_back_or_overflow(&nodes[i], inject), nullptr);
  }
  LocalQueueTestAccess::claim(q, 2);   // A "stealer" now holds nodes 0 and 1.
  EXPECT_EQ(q.len(), 6u);              // Claimed tasks are no longer queued...
  EXPECT_EQ(q.remaining_slots(), 0u);  // ...but their slots are not free yet.

  // Full while a steal is in progress: only the new task goes to the inject queue.
  ASSERT_EQ(q.push_back_or_overflow(&nodes[8], inject), nullptr);
  EXPECT_EQ(inject.len(), 1u);
  EXPECT_EQ(inject.pop(), &nodes[8]);
  EXPECT_EQ(q.len(), 6u);

  // Same, with the inject queue closed: the task comes back untouched by either queue.
  Inject closed;
  closed.close();
  nodes[9].queue_next = &nodes[0];
  EXPECT_EQ(q.push_back_or_overflow(&nodes[9], closed), &nodes[9]);
  EXPECT_EQ(nodes[9].queue_next, nullptr);

  EXPECT_EQ(q.steal_into(other), nullptr);  // Only one steal at a time.
  EXPECT_EQ(q.pop(), &nodes[2]);            // The owner keeps popping past the claim.
  EXPECT_EQ(q.len(), 5u);
  EXPECT_EQ(q.remaining_slots(), 0u);

  LocalQueueTestAccess::commit(q);  // The stealer finishes: 3 slots (0, 1, 2) become free.
  EXPECT_EQ(q.remaining_slots(), 3u);
  ASSERT_EQ(q.push_back_or_overflow(&nodes[10], inject), nullptr);
  EXPECT_TRUE(inject.is_empty());
  for (std::uint32_t id : {3u, 4u, 5u, 6u, 7u, 10u}) {
    TestNode* n = q.pop();
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->id, id);
  }
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(LocalQueue, RingWrapsOverManyCycles) {
  auto nodes = make_nodes(64);
  Local<4> q;
  Inject inject;
  Rng rng(7);
  std::deque<TestNode*> model;
  std::size_t next = 0;
  for (int cycle = 0; cycle < 100'000; ++cycle) {
    const std::uint32_t pushes = rng.below(4 - static_cast<std::uint32_t>(model.size()) + 1);
    for (std::uint32_t i = 0; i < pushes; ++i) {
      TestNode* n = &nodes[next++ % nodes.size()];
      ASSERT_EQ(q.push_back_or_overflow(n, inject), nullptr);
      model.push_back(n);
    }
    const std::uint32_t pops = rng.below(static_cast<std::uint32_t>(model.size()) + 1);
    for (std::uint32_t i = 0; i < pops; ++i) {
      ASSERT_EQ(q.pop(), model.front());
      model.pop_front();
    }
    ASSERT_EQ(q.len(), model.size());
  }
  EXPECT_TRUE(inject.is_empty());  // Never exceeded capacity.
}

TEST(LocalQueue, U32IndexWrapAround) {
  auto nodes = make_nodes(9);
  Local<8> a;
  Local<8> b;
  Inject inject;
  constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();
  LocalQueueTestAccess::start_at(a, kMax - 2);
  LocalQueueTestAccess::start_at(b, kMax);
  for (std::uint32_t i = 0; i < 8; ++i) {  // Crosses 2^32 on the 4th push.
    ASSERT_EQ(a.push_back_or_overflow(&nodes[i], inject), nullptr);
  }
  EXPECT_EQ(a.len(), 8u);
  EXPECT_EQ(a.remaining_slots(), 0u);
  ASSERT_EQ(a.push_back_or_overflow(&nodes[8], inject), nullptr);  // Overflow across the wrap.
  EXPECT_EQ(inject.len(), 5u);
  EXPECT_EQ(a.len(), 4u);
  TestNode* got = a.steal_into(b);  // Claims 2 of {4..7}.
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->id, 5u);
  EXPECT_EQ(b.pop(), &nodes[4]);
  EXPECT_EQ(b.pop(), nullptr);
  EXPECT_EQ(a.pop(), &nodes[6]);
  EXPECT_EQ(a.pop(), &nodes[7]);
  EXPECT_EQ(a.pop(), nullptr);
}

// Randomised single-threaded comparison against a std::deque model, starting at several index
// offsets (including just below 2^32) so every operation is exercised across the u32 wrap.
template <std::uint32_t C>
void run_model_check(std::uint32_t start, std::uint64_t seed, int ops) {
  auto nodes = make_nodes(static_cast<std::size_t>(ops));
  std::size_t next = 0;
  Local<C> q[2];
  LocalQueueTestAccess::start_at(q[0], start);
  LocalQueueTestAccess::start_at(q[1], start + 3);
  Inject inject;
  std::deque<TestNode*> m[2];
  std::deque<TestNode*> mi;
  Rng rng(seed);

  for (int op = 0; op < ops; ++op) {
    const int i = static_cast<int>(rng.below(2));
    const std::uint32_t dice = rng.below(100);
    if (dice < 45) {  // push (may overflow)
      TestNode* n = &nodes[next++];
      ASSERT_EQ(q[i].push_back_or_overflow(n, inject), nullptr);
      if (m[i].size() == C) {
        for (std::uint32_t k = 0; k < C / 2; ++k) {
          mi.push_back(m[i].front());
          m[i].pop_front();
        }
        mi.push_back(n);
      } else {
        m[i].push_back(n);
      }
    } else if (dice < 70) {  // pop
      TestNode* expect = nullptr;
      if (!m[i].empty()) {
        expect = m[i].front();
        m[i].pop_front();
      }
      ASSERT_EQ(q[i].pop(), expect);
    } else if (dice < 90) {  // steal q[i] -> q[1 - i]
      const int j = 1 - i;
      TestNode* expect = nullptr;
      const std::size_t n = m[i].size() - m[i].size() / 2;
      if (m[j].size() <= C / 2 && n > 0) {
        for (std::size_t k = 0; k + 1 < n; ++k) {
          m[j].push_back(m[i].front());
          m[i].pop_front();
        }
        expect = m[i].front();
        m[i].pop_front();
      }
      ASSERT_EQ(q[i].steal_into(q[j]), expect);
    } else {  // drain some of the inject queue
      TestNode* out[4];
      const std::size_t got = inject.pop_n(out, rng.below(5));
      for (std::size_t k = 0; k < got; ++k) {
        ASSERT_EQ(out[k], mi.front());
        mi.pop_front();
      }
    }
    for (int k = 0; k < 2; ++k) {
      ASSERT_EQ(q[k].len(), m[k].size());
      ASSERT_EQ(q[k].remaining_slots(), C - m[k].size());
      ASSERT_EQ(q[k].is_empty(), m[k].empty());
    }
    ASSERT_EQ(inject.len(), mi.size());
  }
}

TEST(LocalQueue, MatchesModelAcrossIndexWrap) {
  constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();
  for (std::uint32_t start : {0u, kMax - 20, kMax - 1000, 0x8000'0000u - 5}) {
    SCOPED_TRACE(start);
    run_model_check<8>(start, start + 1, 50'000);
    run_model_check<64>(start, start + 2, 50'000);
  }
}

// ---- LocalQueue: concurrent stress ----------------------------------------------------------

using Clock = std::chrono::steady_clock;
constexpr auto kStressTimeout = std::chrono::seconds(60);  // Hang guard only.

struct StressStats {  // relaxed counters, read after join().
  std::atomic<std::uint64_t> owner_steals{0};
  std::atomic<std::uint64_t> peer_steals{0};
  std::atomic<std::uint64_t> inject_pops{0};
};

// Simulated task body: widens the windows in which the other threads interleave.
void spin_work(std::uint32_t iterations) {
  for (std::uint32_t i = 0; i < iterations; ++i) {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // Keeps the loop from being elided.
  }
}

// One owner pushes `total` nodes (interleaved with its own pops); `kThieves` threads steal from
// it into their own queues, steal from each other, pull batches from the inject queue, and drain.
// Every node must be consumed exactly once.
template <std::uint32_t C>
void run_steal_stress(std::size_t total, std::uint64_t seed) {
  constexpr int kThieves = 3;
  constexpr std::uint32_t kWork = 20;
  auto nodes = make_nodes(total);
  auto seen = std::make_unique<std::atomic<std::uint32_t>[]>(total);
  Inject inject;
  auto owner_q = std::make_unique<Local<C>>();
  std::vector<std::unique_ptr<Local<C>>> thief_q;
  for (int i = 0; i < kThieves; ++i) {
    thief_q.push_back(std::make_unique<Local<C>>());
  }
  std::atomic<std::size_t> consumed{0};
  std::atomic<bool> duplicate{false};
  std::atomic<bool> rejected{false};
  std::atomic<bool> timed_out{false};
  StressStats stats;
  const auto deadline = Clock::now() + kStressTimeout;

  // relaxed everywhere: these are counters; the main thread reads them after join().
  auto consume = [&](TestNode* n) {
    if (seen[n->id].fetch_add(1, std::memory_order_relaxed) != 0) {
      duplicate.store(true, std::memory_order_relaxed);
    }
    consumed.fetch_add(1, std::memory_order_relaxed);
    spin_work(kWork);
  };
  auto done = [&](std::uint64_t iteration) {
    if (consumed.load(std::memory_order_relaxed) == total) {
      return true;
    }
    if (iteration % 1024 == 0 && Clock::now() > deadline) {
      timed_out.store(true, std::memory_order_relaxed);
    }
    return timed_out.load(std::memory_order_relaxed);
  };

  std::thread owner([&] {
    Rng rng(seed);
    std::size_t next = 0;
    std::uint64_t iteration = 0;
    while (next < total && !timed_out.load(std::memory_order_relaxed)) {
      // Mostly small bursts (thieves keep up, so steals hit a busy queue), sometimes huge ones
      // (forces overflow to the inject queue, often while a steal is in flight).
      const std::uint32_t max_burst = rng.below(16) == 0 ? 2 * C : std::max(C / 4, 2u);
      const std::size_t burst = std::min<std::size_t>(1 + rng.below(max_burst), total - next);
      for (std::size_t i = 0; i < burst; ++i) {
        if (owner_q->push_back_or_overflow(&nodes[next++], inject) != nullptr) {
          rejected.store(true, std::memory_order_relaxed);
        }
      }
      // Run about half of what we pushed; more once the ring is over half full.
      const auto b = static_cast<std::uint32_t>(burst);
      const std::uint32_t pops = rng.below(owner_q->len() > C / 2 ? 2 * b + 1 : b + 1);
      for (std::uint32_t i = pops; i > 0; --i) {
        if (TestNode* n = owner_q->pop()) {
          consume(n);
        }
      }
      if (rng.below(8) == 0) {
        if (TestNode* n = inject.pop()) {
          consume(n);
        }
      }
      if (++iteration % 1024 == 0 && Clock::now() > deadline) {
        timed_out.store(true, std::memory_order_relaxed);
      }
    }
    for (std::uint64_t it = 0; !done(it); ++it) {  // Help drain until everything is seen.
      if (TestNode* n = owner_q->pop()) {
        consume(n);
      } else if (TestNode* m = inject.pop()) {
        consume(m);
      } else {
        std::this_thread::yield();
      }
    }
  });

  std::vector<std::thread> thieves;
  for (int t = 0; t < kThieves; ++t) {
    thieves.emplace_back([&, t] {
      Rng rng(seed * 31 + static_cast<std::uint64_t>(t) + 1);
      Local<C>& mine = *thief_q[static_cast<std::size_t>(t)];
      TestNode* batch[C / 4];
      for (std::uint64_t it = 0; !done(it); ++it) {
        bool progress = false;
        // Victim: the owner half of the time, otherwise another thief (which is concurrently
        // popping from, and being stolen into, its own queue).
        if (rng.below(2) == 0) {
          if (TestNode* n = owner_q->steal_into(mine)) {
            stats.owner_steals.fetch_add(1, std::memory_order_relaxed);
            consume(n);
            progress = true;
          }
        } else {
          const auto v = (t + 1 + static_cast<int>(rng.below(kThieves - 1))) % kThieves;
          if (TestNode* n = thief_q[static_cast<std::size_t>(v)]->steal_into(mine)) {
            stats.peer_steals.fetch_add(1, std::memory_order_relaxed);
            consume(n);
            progress = true;
          }
        }
        // Drain only part of our queue: short but non-empty, so peers can steal from it and it
        // still has room to steal into.
        for (std::uint32_t i = mine.len() > C / 4 ? 1 + rng.below(8) : rng.below(2); i > 0; --i) {
          if (TestNode* n = mine.pop()) {
            consume(n);
            progress = true;
          }
        }
        if (rng.below(8) == 0) {  // Like a worker: grab a batch, run one, queue the rest.
          const std::size_t want = std::min<std::size_t>(mine.remaining_slots(), C / 4);
          const std::size_t got = inject.pop_n(batch, want);
          stats.inject_pops.fetch_add(got, std::memory_order_relaxed);
          if (got > 0) {
            consume(batch[0]);
            for (std::size_t i = 1; i < got; ++i) {
              if (mine.push_back_or_overflow(batch[i], inject) != nullptr) {
                rejected.store(true, std::memory_order_relaxed);
              }
            }
            progress = true;
          }
        }
        if (!progress) {
          std::this_thread::yield();
        }
      }
    });
  }

  owner.join();
  for (auto& t : thieves) {
    t.join();
  }

  ASSERT_FALSE(timed_out.load()) << "stress test hung: consumed " << consumed.load() << " of "
                                 << total;
  EXPECT_FALSE(duplicate.load());
  EXPECT_FALSE(rejected.load());
  EXPECT_EQ(consumed.load(), total);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < total; ++i) {
    if (seen[i].load() != 1) {
      if (++bad <= 10) {
        ADD_FAILURE() << "node " << i << " seen " << seen[i].load() << " times";
      }
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_TRUE(owner_q->is_empty());
  for (auto& q : thief_q) {
    EXPECT_TRUE(q->is_empty());
  }
  EXPECT_TRUE(inject.is_empty());
  std::printf("  [stress C=%u] nodes=%zu owner_steals=%llu peer_steals=%llu inject_pops=%llu\n", C,
              total, static_cast<unsigned long long>(stats.owner_steals.load()),
              static_cast<unsigned long long>(stats.peer_steals.load()),
              static_cast<unsigned long long>(stats.inject_pops.load()));
}

TEST(LocalQueue, StressOwnerAndThreeStealers) {
  run_steal_stress<256>(kTsan ? 100'000 : 1'000'000, 1);
}

// A tiny ring makes overflow (including overflow while a steal is in progress) and claim/commit
// races with the owner's pop far more frequent.
TEST(LocalQueue, StressSmallCapacity) { run_steal_stress<8>(kTsan ? 50'000 : 300'000, 2); }

// ---- InjectQueue: concurrent stress ---------------------------------------------------------

// Producers push singles and batches, a late producer keeps pushing until close() refuses it,
// and consumers pop / pop_n until the queue is closed and empty. Exactly the accepted nodes
// must come out, each once.
TEST(InjectQueue, StressMpmcWithClose) {
  constexpr int kProducers = 2;
  constexpr int kConsumers = 2;
  const std::size_t per_producer = kTsan ? 20'000 : 200'000;
  const std::size_t late_count = per_producer;
  const std::size_t total = per_producer * kProducers + late_count;
  auto nodes = make_nodes(total);
  auto seen = std::make_unique<std::atomic<std::uint32_t>[]>(total);
  std::vector<char> accepted(total, 0);  // Written only by each node's producer before join.
  Inject q;
  std::atomic<bool> duplicate{false};

  auto consume = [&](TestNode* n) {
    if (seen[n->id].fetch_add(1, std::memory_order_relaxed) != 0) {  // relaxed: counter.
      duplicate.store(true, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      Rng rng(static_cast<std::uint64_t>(p) + 100);
      std::size_t i = per_producer * static_cast<std::size_t>(p);
      const std::size_t end = i + per_producer;
      while (i < end) {
        const std::size_t n = std::min<std::size_t>(1 + rng.below(16), end - i);
        if (n == 1) {
          ASSERT_TRUE(q.push(&nodes[i]));
        } else {
          auto [first, last] = link(nodes, i, i + n);
          ASSERT_TRUE(q.push_batch(first, last, n));
        }
        std::fill(accepted.begin() + static_cast<std::ptrdiff_t>(i),
                  accepted.begin() + static_cast<std::ptrdiff_t>(i + n), 1);
        i += n;
      }
    });
  }
  std::thread late([&] {
    for (std::size_t i = per_producer * kProducers; i < total; ++i) {
      if (!q.push(&nodes[i])) {
        EXPECT_TRUE(q.is_closed());
        return;
      }
      accepted[i] = 1;
    }
  });
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&, c] {
      TestNode* out[16];
      for (std::uint64_t it = 0;; ++it) {
        if ((it + static_cast<std::uint64_t>(c)) % 2 == 0) {
          if (TestNode* n = q.pop()) {
            consume(n);
            continue;
          }
        } else {
          const std::size_t got = q.pop_n(out, 16);
          for (std::size_t k = 0; k < got; ++k) {
            consume(out[k]);
          }
          if (got > 0) {
            continue;
          }
        }
        // Closed first, then empty: nothing can be pushed after close, so this is final.
        if (q.is_closed() && q.is_empty()) {
          return;
        }
        std::this_thread::yield();
      }
    });
  }

  for (auto& t : producers) {
    t.join();
  }
  q.close();
  late.join();
  for (auto& t : consumers) {
    t.join();
  }

  EXPECT_FALSE(duplicate.load());
  std::size_t accepted_count = 0;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < total; ++i) {
    accepted_count += accepted[i] != 0;
    if (seen[i].load() != (accepted[i] != 0 ? 1u : 0u)) {
      if (++bad <= 10) {
        ADD_FAILURE() << "node " << i << " accepted=" << int{accepted[i]} << " seen "
                      << seen[i].load();
      }
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_GE(accepted_count, per_producer * kProducers);
  EXPECT_TRUE(q.is_empty());
  EXPECT_EQ(q.pop(), nullptr);
}

}  // namespace
}  // namespace brigade::runtime::detail
