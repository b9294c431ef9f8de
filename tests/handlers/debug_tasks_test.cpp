// GET /debug/tasks on the real `brigade` binary's admin port, read by Boost.Beast and parsed by
// Boost.JSON while a GET /sleep?ms=2000 is in flight on the main port: the dump lists the block_on
// root (which runs the accept loops), the connection tasks, and the /sleep handler's route.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON: this is its one translation unit
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <string_view>
#include <vector>

#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr auto kPatience = 20s;  // only to fail instead of hanging

std::uint16_t admin_port_of(const std::string& start_line) {
  return port_of(start_line.substr(start_line.find("admin_address=") + 6));
}

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

std::string text_of(const json::object& task, std::string_view key) {
  const json::value* value = task.if_contains(key);
  return value != nullptr ? std::string(value->as_string()) : std::string();
}

// The /sleep handler once it is parked on its timer: a dump taken during the poll that sets the
// annotation catches it still running.
const json::object* find_sleeping_handler(const json::array& tasks) {
  for (const json::value& value : tasks) {
    const json::object& task = value.as_object();
    if (text_of(task, "annotation") == "/sleep" && text_of(task, "state") == "idle") return &task;
  }
  return nullptr;
}

class DebugTasks : public ::testing::Test {
 protected:
  RunningBrigade server{{"--admin-listen", "127.0.0.1:0"}};
  std::uint16_t admin = admin_port_of(server.start_line());
};

TEST_F(DebugTasks, JsonListsTheAcceptLoopTheConnectionsAndTheRouteOfAHandlerInFlight) {
  auto sleeping = std::async(std::launch::async, [port = server.port()] {
    return Client(port).get("/sleep?ms=2000").result_int();
  });

  // Polls until the /sleep handler shows idle (its request may not have arrived yet).
  json::object dump;
  const json::object* handler = nullptr;
  for (const auto deadline = std::chrono::steady_clock::now() + kPatience;
       handler == nullptr && std::chrono::steady_clock::now() < deadline;) {
    const Response response = Client(admin).get("/debug/tasks?format=json");
    ASSERT_EQ(response.result_int(), 200) << response.body();
    ASSERT_EQ(response[http::field::content_type], "application/json");
    dump = json::parse(response.body()).as_object();
    handler = find_sleeping_handler(dump.at("tasks").as_array());
  }
  ASSERT_NE(handler, nullptr) << json::serialize(dump);

  const json::array& tasks = dump.at("tasks").as_array();
  EXPECT_EQ(dump.at("count").to_number<std::size_t>(), tasks.size());
  // A handler runs inside its connection's task: spawned where the server admits a connection.
  EXPECT_TRUE(ends_with(text_of(*handler, "file"), "server.cpp")) << json::serialize(*handler);
  EXPECT_NE(text_of(*handler, "function").find("admit"), std::string::npos);
  EXPECT_GT(handler->at("id").to_number<std::uint64_t>(), 0u);
  EXPECT_GT(handler->at("line").to_number<std::uint64_t>(), 0u);
  EXPECT_GE(handler->at("polls").to_number<std::uint64_t>(), 1u);
  EXPECT_LT(handler->at("age_ms").to_number<std::int64_t>(), 20'000);
  // The connection races the handler against its socket (a client that goes away cancels it).
  const json::object& wait = handler->at("wait").as_object();
  EXPECT_EQ(text_of(wait, "reason"), "select") << json::serialize(*handler);
  EXPECT_EQ(wait.at("branches").to_number<std::uint64_t>(), 2u);

  int accept_loops = 0;
  int connections = 0;
  bool dump_request_seen = false;
  for (const json::value& value : tasks) {
    const json::object& task = value.as_object();
    const std::string function = text_of(task, "function");
    if (ends_with(text_of(task, "file"), "runtime.hpp") &&
        function.find("block_on") != std::string::npos) {
      ++accept_loops;
    }
    if (function.find("admit") != std::string::npos) ++connections;
    // The connection asking for the dump waits for it: the dump is taken on the blocking pool,
    // which may start on it before the asker's poll has ended, so the asker is caught either still
    // running or already idle on its select.
    if (text_of(task, "annotation") == "/debug/tasks") {
      dump_request_seen = true;
      const std::string state = text_of(task, "state");
      if (state == "idle") {
        EXPECT_EQ(text_of(task.at("wait").as_object(), "reason"), "select")
            << json::serialize(task);
      } else {
        EXPECT_EQ(state, "running") << json::serialize(task);
      }
    }
  }
  EXPECT_EQ(accept_loops, 1) << json::serialize(dump);  // block_on's root runs both listeners
  EXPECT_GE(connections, 2) << json::serialize(dump);   // the sleeper and the dump's asker
  EXPECT_TRUE(dump_request_seen) << json::serialize(dump);

  EXPECT_EQ(sleeping.get(), 200);
}

TEST_F(DebugTasks, TextGroupsTasksBySpawnSiteWithCounts) {
  auto sleeping = std::async(std::launch::async, [port = server.port()] {
    return Client(port).get("/sleep?ms=2000").result_int();
  });
  // The /sleep handler's line once it is parked on its timer (a dump taken during the poll that
  // sets the annotation catches it still running).
  const auto sleeping_handler_line = [](const std::string& text) {
    const std::size_t end = text.find(", annotation=/sleep\n");
    if (end == std::string::npos) return std::string_view();
    const std::size_t start = text.rfind('\n', end) + 1;
    return std::string_view(text).substr(start, end - start);
  };
  std::string text;
  for (const auto deadline = std::chrono::steady_clock::now() + kPatience;
       sleeping_handler_line(text).find(" idle on select of 2, age ") == std::string::npos &&
       std::chrono::steady_clock::now() < deadline;) {
    const Response response = Client(admin).get("/debug/tasks");
    ASSERT_EQ(response.result_int(), 200);
    ASSERT_EQ(response[http::field::content_type].substr(0, 10), "text/plain");
    text = response.body();
  }
  EXPECT_NE(text.find(" live tasks\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tasks spawned at "), std::string::npos) << text;
  EXPECT_NE(text.find("server.cpp:"), std::string::npos) << text;
  EXPECT_NE(sleeping_handler_line(text).find(" idle on select of 2, age "), std::string::npos)
      << text;
  EXPECT_EQ(sleeping.get(), 200);
}

// /fanout's children each sleep: the dump gives each one's timer and when it is due.
TEST_F(DebugTasks, JsonGivesEachSleepingTaskItsTimer) {
  auto fanning = std::async(std::launch::async, [port = server.port()] {
    return Client(port).get("/fanout?n=3&ms=3000").result_int();
  });
  std::vector<json::object> sleepers;
  for (const auto deadline = std::chrono::steady_clock::now() + kPatience;
       sleepers.size() < 3 && std::chrono::steady_clock::now() < deadline;) {
    const Response response = Client(admin).get("/debug/tasks?format=json");
    ASSERT_EQ(response.result_int(), 200) << response.body();
    sleepers.clear();
    const json::value dump = json::parse(response.body());
    for (const json::value& value : dump.at("tasks").as_array()) {
      const json::object& task = value.as_object();
      if (ends_with(text_of(task, "file"), "fanout.cpp")) sleepers.push_back(task);
    }
  }
  ASSERT_EQ(sleepers.size(), 3u);
  for (const json::object& task : sleepers) {
    const json::object& wait = task.at("wait").as_object();
    EXPECT_EQ(text_of(wait, "reason"), "timer") << json::serialize(task);
    const auto due_in = wait.at("due_in_ms").to_number<std::int64_t>();
    EXPECT_GT(due_in, 0);
    EXPECT_LE(due_in, 3000);
    EXPECT_EQ(task.at("polls").to_number<std::uint64_t>(), 1u);
  }
  EXPECT_EQ(fanning.get(), 200);
}

TEST_F(DebugTasks, IsAdminOnlyAndRefusesAnUnknownFormat) {
  EXPECT_EQ(server.get("/debug/tasks").result_int(), 404);
  EXPECT_EQ(Client(admin).get("/debug/tasks?format=xml").result_int(), 400);
}

}  // namespace
}  // namespace brigade::testing
