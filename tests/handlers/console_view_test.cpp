// `brigade console`'s view: GET /debug/runtime and /debug/tasks?format=json snapshots, fixed
// here in the server's own format, parsed and turned into the lines of the screen.
#include "console_view.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::app::console_view {
namespace {

// Two workers; the numbers are those a test can compute rates from.
std::string runtime_json(std::uint64_t polls0, std::uint64_t busy_ns0, std::uint64_t stalls1) {
  return R"({"worker_count":2,"injection_queue_depth":7,"workers":[)"
         R"({"index":0,"local_queue_depth":3,"polls":)" +
         std::to_string(polls0) + R"(,"steals":10,"steal_operations":2,"parks":5,"busy_ns":)" +
         std::to_string(busy_ns0) +
         R"(,"stalls":0},)"
         R"({"index":1,"local_queue_depth":0,"polls":100,"steals":0,"steal_operations":0,)"
         R"("parks":9,"busy_ns":0,"stalls":)" +
         std::to_string(stalls1) +
         R"(}],"tasks":{"spawned":5000,"alive":42,"budget_forced_yields":1},)"
         R"("blocking":{"threads":6,"idle_threads":2,"queue_depth":11,"spawned":80,"rejected":4},)"
         R"("io":{"registered":3,"events":99}})";
}

constexpr std::string_view kTasksJson =
    R"j({"count":4,"tasks":[)j"
    R"j({"id":1,"file":"/src/runtime/include/brigade/runtime/runtime.hpp","line":149,)j"
    R"j("function":"T brigade::runtime::Runtime::block_on(F&&) [with F = X; T = void]",)j"
    R"j("state":"running"},)j"
    R"j({"id":2,"file":"/src/server/src/server.cpp","line":258,)j"
    R"j("function":"void brigade::server::Server::serve(Conn)","state":"idle",)j"
    R"j("annotation":"/sleep"},)j"
    R"j({"id":3,"file":"/src/server/src/server.cpp","line":258,)j"
    R"j("function":"void brigade::server::Server::serve(Conn)","state":"scheduled"},)j"
    R"j({"id":4,"file":"/src/server/src/server.cpp","line":258,)j"
    R"j("function":"void brigade::server::Server::serve(Conn)","state":"idle"}]})j";

RuntimeFigures runtime(std::uint64_t polls0, std::uint64_t busy_ns0, std::uint64_t stalls1) {
  auto parsed = parse_runtime(runtime_json(polls0, busy_ns0, stalls1));
  EXPECT_TRUE(parsed.has_value()) << parsed.error();
  return parsed.value_or(RuntimeFigures{});
}

// The line that starts with `prefix` (after leading blanks), or "" when there is none.
std::string line_starting(const std::vector<std::string>& lines, std::string_view prefix) {
  for (const std::string& line : lines) {
    const std::size_t text = line.find_first_not_of(' ');
    if (text != std::string::npos && std::string_view(line).substr(text).starts_with(prefix)) {
      return line;
    }
  }
  return {};
}

// The line split into its blank-separated words.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  for (std::size_t at = line.find_first_not_of(' '); at != std::string::npos;) {
    const std::size_t end = line.find(' ', at);
    out.push_back(line.substr(at, end - at));
    at = line.find_first_not_of(' ', end);
  }
  return out;
}

TEST(ConsoleView, TheFirstSnapshotShowsDepthsAndTotalsButNoRatesYet) {
  const RuntimeFigures now = runtime(1000, 1'000'000'000, 1);
  Frame frame;
  frame.target = "http://127.0.0.1:9090";
  frame.runtime = &now;
  const auto lines = render(frame);

  EXPECT_NE(lines.at(0).find("http://127.0.0.1:9090"), std::string::npos);
  EXPECT_NE(line_starting(lines, "WORKER").find("POLLS/S"), std::string::npos);
  // worker, busy, polls/s, steals/s, local queue, stalls
  EXPECT_EQ(words(line_starting(lines, "0 ")),
            (std::vector<std::string>{"0", "-", "-", "-", "3", "0"}));
  EXPECT_EQ(words(line_starting(lines, "1 ")),
            (std::vector<std::string>{"1", "-", "-", "-", "0", "1"}));
  EXPECT_EQ(line_starting(lines, "Stalls:"), "Stalls: 1");
}

TEST(ConsoleView, BusyRatioAndRatesAreTheDifferenceOverTheTimeBetweenSnapshots) {
  const RuntimeFigures before = runtime(1000, 1'000'000'000, 1);
  const RuntimeFigures now = runtime(3000, 2'000'000'000, 4);
  Frame frame;
  frame.runtime = &now;
  frame.previous = &before;
  frame.elapsed_seconds = 2;
  const auto lines = render(frame);

  // 1 s busy in 2 s, 2000 polls in 2 s; worker 1 did nothing.
  EXPECT_EQ(words(line_starting(lines, "0 ")),
            (std::vector<std::string>{"0", "50.0%", "1000", "0", "3", "0"}));
  EXPECT_EQ(words(line_starting(lines, "1 ")),
            (std::vector<std::string>{"1", "0.0%", "0", "0", "0", "4"}));
  EXPECT_EQ(line_starting(lines, "Stalls:"), "Stalls: 4 (+3 since last refresh)");
  EXPECT_EQ(line_starting(lines, "Tasks:"), "Tasks: 42 alive, 0 spawned/s    Inject queue: 7");
}

TEST(ConsoleView, TheBlockingPoolsBusyThreadsAreTheThreadsNotIdle) {
  const RuntimeFigures now = runtime(1, 1, 0);
  Frame frame;
  frame.runtime = &now;
  EXPECT_EQ(line_starting(render(frame), "Blocking pool:"),
            "Blocking pool: 6 threads, 4 busy, 11 queued, 4 rejected");
}

TEST(ConsoleView, SpawnSitesAreGroupedBusiestFirstWithTheirTasksByState) {
  const auto sites = parse_tasks(kTasksJson);
  ASSERT_TRUE(sites.has_value()) << sites.error();
  ASSERT_EQ(sites->size(), 2u);
  EXPECT_EQ((*sites)[0].where, "server.cpp:258 brigade::server::Server::serve");
  EXPECT_EQ((*sites)[0].per_state, (std::array<std::uint64_t, 4>{2, 1, 0, 0}));
  EXPECT_EQ((*sites)[1].where, "runtime.hpp:149 brigade::runtime::Runtime::block_on");

  Frame frame;
  frame.sites = &*sites;
  frame.width = 100;
  const auto lines = render(frame);
  const auto heading = std::ranges::find_if(
      lines, [](const std::string& l) { return l.starts_with("BUSIEST SPAWN SITES"); });
  ASSERT_NE(heading, lines.end());
  ASSERT_GE(lines.end() - heading, 4);
  EXPECT_EQ(words(*(heading + 1)),
            (std::vector<std::string>{"TASKS", "IDLE", "SCHED", "RUN", "SITE"}));
  EXPECT_EQ(words(*(heading + 2)), (std::vector<std::string>{"3", "2", "1", "0", "server.cpp:258",
                                                             "brigade::server::Server::serve"}));
  EXPECT_EQ(words(*(heading + 3)),
            (std::vector<std::string>{"1", "0", "0", "1", "runtime.hpp:149",
                                      "brigade::runtime::Runtime::block_on"}));
}

TEST(ConsoleView, AnUnreachableServerIsAnErrorLineWithoutFigures) {
  Frame frame;
  frame.error = "GET /debug/runtime: connect to 127.0.0.1:1: Connection refused";
  const auto lines = render(frame);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1],
            "! GET /debug/runtime: connect to 127.0.0.1:1: Connection refused (retrying)");
  EXPECT_EQ(line_starting(lines, "WORKER"), "");
}

TEST(ConsoleView, TheScreenFitsTheTerminal) {
  const RuntimeFigures now = runtime(1, 1, 0);
  const auto sites = parse_tasks(kTasksJson);
  ASSERT_TRUE(sites.has_value());
  Frame frame;
  frame.runtime = &now;
  frame.sites = &*sites;
  frame.width = 30;
  frame.height = 8;
  const auto lines = render(frame);
  EXPECT_EQ(lines.size(), 8u);
  for (const std::string& line : lines) EXPECT_LE(line.size(), 30u) << line;
}

TEST(ConsoleView, AnswersThatAreNotTheSnapshotsAreErrorsNamingWhatIsMissing) {
  EXPECT_FALSE(parse_runtime("{").has_value());
  EXPECT_FALSE(parse_runtime("[1,2]").has_value());
  std::string without_polls = runtime_json(1000, 1, 0);
  without_polls.erase(without_polls.find(R"("polls":1000,)"),
                      std::string_view(R"("polls":1000,)").size());
  const auto no_polls = parse_runtime(without_polls);
  ASSERT_FALSE(no_polls.has_value());
  EXPECT_NE(no_polls.error().find("no polls"), std::string::npos) << no_polls.error();
  const auto no_state = parse_tasks(R"j({"tasks":[{"file":"a.cpp","line":1,"function":"f()"}]})j");
  ASSERT_FALSE(no_state.has_value());
  EXPECT_NE(no_state.error().find("state"), std::string::npos) << no_state.error();
}

}  // namespace
}  // namespace brigade::app::console_view
