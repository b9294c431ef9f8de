// What Handle::dump_tasks() says of each task beyond its state: what an idle task waits on (a
// socket read with its descriptor, a timer with its deadline, a channel, a join with the joined
// task's id, a blocking job, a select or join of several operands), how old it is, how many times
// it was polled, and on which worker a running task runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/join.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/sync/mpsc.hpp"
#include "brigade/runtime/sync/notify.hpp"
#include "brigade/runtime/sync/oneshot.hpp"
#include "brigade/runtime/task_dump.hpp"
#include "brigade/runtime/time.hpp"

namespace rt = brigade::runtime;
namespace net = brigade::runtime::net;

namespace {

using namespace std::chrono_literals;
using rt::WaitReason;
using State = rt::TaskInfo::State;

constexpr auto kPatience = 10s;  // only to fail instead of hanging

std::optional<rt::TaskInfo> find(const std::vector<rt::TaskInfo>& tasks, std::uint64_t id) {
  const auto at = std::ranges::find(tasks, id, &rt::TaskInfo::id);
  if (at == tasks.end()) return std::nullopt;
  return *at;
}

// Yields (so the spawned tasks run up to their waits) until every task in `ids` is idle.
rt::Task<std::vector<rt::TaskInfo>> dump_once_idle(std::vector<std::uint64_t> ids) {
  const rt::Handle handle = rt::Handle::current();
  for (const auto deadline = std::chrono::steady_clock::now() + kPatience;;) {
    std::vector<rt::TaskInfo> tasks = handle.dump_tasks();
    const bool all_idle = std::ranges::all_of(ids, [&](std::uint64_t id) {
      const std::optional<rt::TaskInfo> task = find(tasks, id);
      return task && task->state == State::idle;
    });
    if (all_idle || std::chrono::steady_clock::now() > deadline) co_return tasks;
    co_await rt::yield_now();
  }
}

rt::Task<void> read_one(net::TcpStream stream) {
  std::array<std::byte, 16> buffer{};
  co_await stream.read(buffer);
}

rt::Task<void> sleep_for(std::chrono::milliseconds duration) { co_await rt::sleep(duration); }

rt::Task<void> receive(rt::mpsc::Receiver<int> receiver) { co_await receiver.recv(); }

rt::Task<void> send_into_full(rt::mpsc::Sender<int> sender) { co_await sender.send(2); }

rt::Task<void> receive_once(rt::oneshot::Receiver<int> receiver) { co_await receiver; }

rt::Task<void> notified(rt::Notify* notify) { co_await notify->notified(); }

rt::Task<void> join_task(rt::JoinHandle<void> handle) { co_await handle; }

rt::Task<void> join_blocking(rt::JoinHandle<void> handle) { co_await handle; }

rt::Task<void> select_two(rt::Notify* notify) {
  auto sleep = rt::sleep(10s);
  auto woken = notify->notified();
  co_await rt::select(std::move(sleep), std::move(woken));
}

// A join nested in a select: the outer combinator is what the task waits on.
rt::Task<void> select_of_join(rt::Notify* notify) {
  auto sleeps = rt::join(rt::sleep(10s), rt::sleep(20s));
  auto woken = notify->notified();
  co_await rt::select(std::move(sleeps), std::move(woken));
}

rt::Task<void> join_three(rt::Notify* notify) {
  auto sleep = rt::sleep(10s);
  auto woken = notify->notified();
  auto other = rt::sleep(20s);
  co_await rt::join(std::move(sleep), std::move(woken), std::move(other));
}

TEST(TaskDumpWait, EachIdleTaskShowsWhatItWaitsOnWithItsDetail) {
  auto runtime = rt::Builder::current_thread().build();
  runtime.block_on([]() -> rt::Task<void> {
    const rt::Handle handle = rt::Handle::current();
    auto listener = rt::net::TcpListener::bind(net::SocketAddr::ipv4_loopback(0));
    EXPECT_TRUE(listener.has_value());
    auto client_connect = net::TcpStream::connect(*listener->local_addr());
    auto client = co_await std::move(client_connect);
    auto accept = listener->accept();
    auto accepted = co_await std::move(accept);
    EXPECT_TRUE(client.has_value() && accepted.has_value());
    net::TcpStream server = std::move(accepted->first);
    const int server_fd = server.native_handle();

    auto [tx, rx] = rt::mpsc::channel<int>(1);
    auto [full_tx, full_rx] = rt::mpsc::channel<int>(1);
    EXPECT_TRUE(full_tx.try_send(1).has_value());
    auto [once_tx, once_rx] = rt::oneshot::channel<int>();
    rt::Notify notify;
    // Shared with the blocking job, which aborting its handle does not stop: it may still be
    // looking when this frame is gone.
    const auto release_job = std::make_shared<std::atomic<bool>>(false);

    const auto before_sleep = rt::Clock::now();
    std::vector<rt::JoinHandle<void>> handles;
    handles.push_back(handle.spawn(read_one(std::move(server))));
    handles.push_back(handle.spawn(sleep_for(2000ms)));
    const std::uint64_t sleeper = handles.back().id();
    handles.push_back(handle.spawn(receive(std::move(rx))));
    handles.push_back(handle.spawn(send_into_full(full_tx)));
    handles.push_back(handle.spawn(receive_once(std::move(once_rx))));
    handles.push_back(handle.spawn(notified(&notify)));
    auto joined = handle.spawn(sleep_for(3000ms));
    const std::uint64_t joined_id = joined.id();
    handles.push_back(handle.spawn(join_task(std::move(joined))));
    auto job = handle.spawn_blocking([release_job] {
      while (!release_job->load()) std::this_thread::sleep_for(1ms);
    });
    const std::uint64_t job_id = job.id();
    handles.push_back(handle.spawn(join_blocking(std::move(job))));
    handles.push_back(handle.spawn(select_two(&notify)));
    handles.push_back(handle.spawn(select_of_join(&notify)));
    handles.push_back(handle.spawn(join_three(&notify)));

    std::vector<std::uint64_t> ids;
    for (const auto& spawned : handles) ids.push_back(spawned.id());
    auto dump = dump_once_idle(ids);
    const std::vector<rt::TaskInfo> tasks = co_await std::move(dump);
    const auto waited = rt::Clock::now() - before_sleep;

    const auto expect_wait = [&](std::size_t index, WaitReason reason) {
      const std::optional<rt::TaskInfo> task = find(tasks, ids[index]);
      EXPECT_TRUE(task.has_value()) << "task " << index << " not listed";
      if (!task) return rt::TaskInfo{};
      EXPECT_EQ(task->state, State::idle) << index;
      EXPECT_EQ(rt::to_string(task->wait), std::string(rt::to_string(reason))) << index;
      return *task;
    };
    EXPECT_EQ(expect_wait(0, WaitReason::read).fd, server_fd);
    const rt::TaskInfo sleeping = expect_wait(1, WaitReason::timer);
    EXPECT_EQ(sleeping.id, sleeper);
    EXPECT_LE(sleeping.due_in, 2000ms);
    EXPECT_GE(sleeping.due_in,
              2000ms - std::chrono::duration_cast<std::chrono::milliseconds>(waited) - 1ms);
    expect_wait(2, WaitReason::mpsc_receive);
    expect_wait(3, WaitReason::mpsc_send);
    expect_wait(4, WaitReason::oneshot);
    expect_wait(5, WaitReason::notify);
    EXPECT_EQ(expect_wait(6, WaitReason::join).joined_task, joined_id);
    EXPECT_EQ(expect_wait(7, WaitReason::blocking).joined_task, job_id);
    EXPECT_EQ(expect_wait(8, WaitReason::select).branches, 2u);
    EXPECT_EQ(expect_wait(9, WaitReason::select).branches, 2u);
    EXPECT_EQ(expect_wait(10, WaitReason::join_all).branches, 3u);

    const std::string text = rt::describe(tasks, 20);
    EXPECT_NE(text.find(" idle on read of fd " + std::to_string(server_fd) + ", age "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(" idle on join of task " + std::to_string(joined_id) + ", "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(" idle on blocking job " + std::to_string(job_id) + ", "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(" idle on select of 2, "), std::string::npos) << text;
    EXPECT_NE(text.find(" idle on timer due in 1."), std::string::npos) << text;

    release_job->store(true);
    for (auto& spawned : handles) spawned.abort();
    for (auto& spawned : handles) co_await spawned;
    (void)once_tx;
    (void)tx;
  }());
}

rt::Task<void> yield_then_wait(int yields, rt::Notify* notify) {
  for (int i = 0; i < yields; ++i) co_await rt::yield_now();
  for (;;) co_await notify->notified();
}

// On the current-thread runtime the task runs only when the root yields, so its polls are exact:
// one to start, one after each yield, one after each wake-up.
TEST(TaskDumpWait, CountsPollsAndShowsTheAgeGrowing) {
  auto runtime = rt::Builder::current_thread().build();
  runtime.block_on([]() -> rt::Task<void> {
    const rt::Handle handle = rt::Handle::current();
    rt::Notify notify;
    auto waiter = handle.spawn(yield_then_wait(3, &notify));
    auto first_dump = dump_once_idle({waiter.id()});
    std::vector<rt::TaskInfo> tasks = co_await std::move(first_dump);
    std::optional<rt::TaskInfo> task = find(tasks, waiter.id());
    EXPECT_TRUE(task.has_value());
    EXPECT_EQ(task->polls, 4u);
    const std::chrono::milliseconds first_age = task->age;

    notify.notify_one();
    co_await rt::yield_now();  // the woken task runs, and waits again
    auto second_dump = dump_once_idle({waiter.id()});
    tasks = co_await std::move(second_dump);
    task = find(tasks, waiter.id());
    EXPECT_EQ(task->polls, 5u);

    // Time passing is what is tested here: the age follows it (within the coarse clock's ticks).
    co_await rt::sleep(60ms);
    tasks = handle.dump_tasks();
    task = find(tasks, waiter.id());
    EXPECT_GE(task->age - first_age, 60ms - 25ms);
    EXPECT_LT(task->age, 10s);

    waiter.abort();
    co_await waiter;
  }());
}

rt::Task<void> spin_until(std::atomic<int>* started, const std::atomic<bool>* stop) {
  started->fetch_add(1);
  while (!stop->load()) std::this_thread::yield();
  co_return;
}

// Two tasks that never yield occupy both workers: a dump from outside shows both running, each
// on its own worker.
TEST(TaskDumpWait, RunningTasksShowTheirWorker) {
  auto runtime = rt::Builder::multi_thread()
                     .worker_threads(2)
                     .stall_threshold(std::chrono::milliseconds(0))
                     .build();
  std::atomic<int> started{0};
  std::atomic<bool> stop{false};
  auto first = runtime.spawn(spin_until(&started, &stop));
  auto second = runtime.spawn(spin_until(&started, &stop));
  for (const auto deadline = std::chrono::steady_clock::now() + kPatience;
       started.load() < 2 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::yield();
  }
  const std::vector<rt::TaskInfo> tasks = runtime.dump_tasks();
  std::set<int> workers;
  for (const std::uint64_t id : {first.id(), second.id()}) {
    const std::optional<rt::TaskInfo> task = find(tasks, id);
    ASSERT_TRUE(task.has_value());
    EXPECT_EQ(task->state, State::running);
    EXPECT_EQ(task->wait, WaitReason::none);
    EXPECT_EQ(task->polls, 1u);
    workers.insert(task->worker);
  }
  EXPECT_EQ(workers, (std::set<int>{0, 1}));
  EXPECT_NE(rt::describe(tasks, 20).find(" running on worker 1, age "), std::string::npos);
  stop.store(true);
  runtime.block_on([](rt::JoinHandle<void> a, rt::JoinHandle<void> b) -> rt::Task<void> {
    co_await a;
    co_await b;
  }(std::move(first), std::move(second)));
}

rt::Task<void> sleep_in_a_loop(const std::atomic<bool>* stop) {
  while (!stop->load()) co_await rt::sleep(1ms);
}

rt::Task<void> notified_in_a_loop(rt::Notify* notify, const std::atomic<bool>* stop) {
  while (!stop->load()) co_await notify->notified();
}

// Tasks wake and wait again on both workers while another thread dumps: an idle task always
// shows the wait of its own kind with a sane detail (never half of one record and half of
// another), and its poll count never goes back.
TEST(TaskDumpWait, WaitRecordsStayWholeWhileTasksWakeOnSeveralWorkers) {
  auto runtime = rt::Builder::multi_thread()
                     .worker_threads(2)
                     .stall_threshold(std::chrono::milliseconds(0))
                     .build();
  std::atomic<bool> stop{false};
  rt::Notify notify;
  std::set<std::uint64_t> sleepers;
  std::set<std::uint64_t> waiters;
  std::vector<rt::JoinHandle<void>> handles;
  for (int i = 0; i < 8; ++i) {
    handles.push_back(runtime.spawn(sleep_in_a_loop(&stop)));
    sleepers.insert(handles.back().id());
    handles.push_back(runtime.spawn(notified_in_a_loop(&notify, &stop)));
    waiters.insert(handles.back().id());
  }
  std::vector<std::uint32_t> last_polls(handles.back().id() + 1, 0);
  std::size_t idle_seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  for (int dump = 0;
       (dump < 300 || idle_seen < 1000) && std::chrono::steady_clock::now() < deadline; ++dump) {
    notify.notify_waiters();
    for (const rt::TaskInfo& task : runtime.dump_tasks()) {
      if (task.id >= last_polls.size() ||
          (!sleepers.contains(task.id) && !waiters.contains(task.id))) {
        continue;
      }
      EXPECT_GE(task.polls, last_polls[task.id]) << task.id;
      last_polls[task.id] = task.polls;
      if (task.state != State::idle) {
        EXPECT_EQ(task.wait, WaitReason::none);
        continue;
      }
      ++idle_seen;
      if (sleepers.contains(task.id)) {
        EXPECT_EQ(task.wait, WaitReason::timer) << task.id;
        EXPECT_LE(task.due_in, 100ms);  // 1 ms after the sleep began, itself during the dump
        EXPECT_GE(task.due_in, -1s);
      } else {
        EXPECT_EQ(task.wait, WaitReason::notify) << task.id;
      }
    }
  }
  EXPECT_GE(idle_seen, 1000u);
  stop.store(true);
  notify.notify_waiters();
  runtime.block_on([](std::vector<rt::JoinHandle<void>>* all, rt::Notify* wake) -> rt::Task<void> {
    for (auto& handle : *all) {
      wake->notify_waiters();
      co_await handle;
    }
  }(&handles, &notify));
}

}  // namespace
