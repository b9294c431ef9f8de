// The local run queue under every interleaving of its owner and one or two stealers: whatever
// the order of pushes, pops, steals and overflows, each task comes out exactly once.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "brigade_model/checker.hpp"
#include "local_queue.hpp"
#include "model_test_support.hpp"

namespace brigade::runtime::detail {

// Starts a queue's indices just below the u32 wrap-around, so that every test crosses it.
struct LocalQueueTestAccess {
  template <class Queue>
  static void start_at(Queue& q, std::uint32_t index) {
    q.head_.store(Queue::pack(index, index));
    q.tail_.store(index);
  }
};

namespace {

namespace model = brigade::model;

struct Node {
  Node* queue_next = nullptr;
  int id = 0;
};

constexpr std::uint32_t kCapacity = 4;
using Queue = LocalQueue<Node, kCapacity>;
using Inject = InjectQueue<Node>;
constexpr std::uint32_t kNearWrap = std::numeric_limits<std::uint32_t>::max() - 2;

// Counts how often each task came out of any queue. Shared by the model threads: they never
// switch inside take(), so plain counters are exact.
template <std::size_t N>
struct Tally {
  std::array<int, N> seen{};
  void take(Node* node) {
    model::check(node != nullptr, "a queue handed out a null task");
    model::check(node->id >= 0 && node->id < static_cast<int>(N), "a queue handed out garbage");
    ++seen[static_cast<std::size_t>(node->id)];
  }
  void drain(Queue& q) {
    while (Node* node = q.pop()) take(node);
  }
  void drain(Inject& inject) {
    while (Node* node = inject.pop()) take(node);
  }
  void expect_each_once() const {
    for (int count : seen) {
      model::check(count != 0, "a task was lost");
      model::check(count <= 1, "a task came out twice");
    }
  }
};

// A stealer: steals once into its own queue, then runs what it got.
template <std::size_t N>
void steal_and_run(Queue& victim, Queue& own, Tally<N>& tally) {
  if (Node* node = victim.steal_into(own)) tally.take(node);
  tally.drain(own);
}

template <std::size_t N>
void make_nodes(std::array<Node, N>& nodes) {
  for (std::size_t i = 0; i < N; ++i) nodes[i].id = static_cast<int>(i);
}

void expect_pushed(Node* rejected) {
  model::check(rejected == nullptr, "an open inject queue refused a task");
}

TEST(LocalQueueModel, OwnerPushesAndPopsWhileOneThreadSteals) {
  model::expect_every_interleaving_passes(
      [] {
        std::array<Node, 3> nodes;
        make_nodes(nodes);
        Queue owner_queue, stealer_queue;
        Inject inject;
        LocalQueueTestAccess::start_at(owner_queue, kNearWrap);
        LocalQueueTestAccess::start_at(stealer_queue, kNearWrap);
        Tally<3> tally;
        expect_pushed(owner_queue.push_back_or_overflow(&nodes[0], inject));
        expect_pushed(owner_queue.push_back_or_overflow(&nodes[1], inject));
        {
          model::Thread stealer([&] { steal_and_run(owner_queue, stealer_queue, tally); });
          if (Node* node = owner_queue.pop()) tally.take(node);
          expect_pushed(owner_queue.push_back_or_overflow(&nodes[2], inject));
          tally.drain(owner_queue);
        }
        tally.drain(inject);
        tally.expect_each_once();
      },
      model::with_preemption_bound(3));
}

TEST(LocalQueueModel, TwoStealersRaceTheOwnerAndEachOther) {
  model::expect_every_interleaving_passes(
      [] {
        std::array<Node, 4> nodes;
        make_nodes(nodes);
        Queue owner_queue, first_queue, second_queue;
        Inject inject;
        LocalQueueTestAccess::start_at(owner_queue, kNearWrap);
        Tally<4> tally;
        for (std::size_t i = 0; i < 3; ++i)
          expect_pushed(owner_queue.push_back_or_overflow(&nodes[i], inject));
        {
          model::Thread first([&] { steal_and_run(owner_queue, first_queue, tally); });
          model::Thread second([&] { steal_and_run(owner_queue, second_queue, tally); });
          if (Node* node = owner_queue.pop()) tally.take(node);
          expect_pushed(owner_queue.push_back_or_overflow(&nodes[3], inject));
          tally.drain(owner_queue);
        }
        tally.drain(inject);
        tally.expect_each_once();
      },
      model::with_preemption_bound(3));
}

// A full ring moves half of itself to the inject queue; a steal may be in flight meanwhile, in
// which case only the new task goes there. Indices cross the u32 wrap on the way.
TEST(LocalQueueModel, OverflowToTheInjectQueueWhileAThreadSteals) {
  model::expect_every_interleaving_passes(
      [] {
        std::array<Node, 6> nodes;
        make_nodes(nodes);
        Queue owner_queue, stealer_queue;
        Inject inject;
        LocalQueueTestAccess::start_at(owner_queue, kNearWrap);
        LocalQueueTestAccess::start_at(stealer_queue, kNearWrap);
        Tally<6> tally;
        for (std::size_t i = 0; i < kCapacity; ++i)
          expect_pushed(owner_queue.push_back_or_overflow(&nodes[i], inject));
        {
          model::Thread stealer([&] { steal_and_run(owner_queue, stealer_queue, tally); });
          expect_pushed(owner_queue.push_back_or_overflow(&nodes[4], inject));
          expect_pushed(owner_queue.push_back_or_overflow(&nodes[5], inject));
          tally.drain(owner_queue);
        }
        tally.drain(inject);
        tally.expect_each_once();
      },
      model::with_preemption_bound(3));
}

}  // namespace
}  // namespace brigade::runtime::detail
