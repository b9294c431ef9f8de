// End-to-end tests of GET /metrics: the real `brigade` binary as a child process, scraped over
// loopback with Boost.Beast. The scrape is parsed here (an independent reader of the text
// format) and linted by the real `promtool check metrics`.
//
// Every server listens on 127.0.0.1:0; the test reads the bound address from the start-up line,
// so tests run in parallel without port clashes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"
#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Found by CMake (Debian package `prometheus`); empty when it is not installed.
constexpr const char* kPromtool = BRIGADE_PROMTOOL;
// Generous: the ASan build answers several times slower.
constexpr auto kPollTimeout = 20s;

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// An independent reader of the text exposition format (version 0.0.4): the TYPE of each family
// and every sample with its labels. Throws std::runtime_error on a line it cannot read.
struct Exposition {
  std::map<std::string, std::string> types;
  std::vector<Sample> samples;

  static Exposition parse(std::string_view text) {
    Exposition result;
    while (!text.empty()) {
      const std::size_t end = text.find('\n');
      if (end == std::string_view::npos) throw std::runtime_error("no final newline");
      const std::string_view line = text.substr(0, end);
      text.remove_prefix(end + 1);
      if (line.empty()) continue;
      if (line.starts_with("# TYPE ")) {
        const std::string_view rest = line.substr(7);
        const std::size_t space = rest.find(' ');
        result.types[std::string(rest.substr(0, space))] = std::string(rest.substr(space + 1));
      } else if (!line.starts_with('#')) {
        result.samples.push_back(parse_sample(line));
      }
    }
    return result;
  }

  // The samples named `name` whose labels include all of `wanted`.
  std::vector<Sample> find(std::string_view name, const Labels& wanted = {}) const {
    std::vector<Sample> found;
    for (const Sample& sample : samples) {
      if (sample.name != name) continue;
      bool all = true;
      for (const auto& [key, value] : wanted) {
        const auto it = sample.labels.find(key);
        all = all && it != sample.labels.end() && it->second == value;
      }
      if (all) found.push_back(sample);
    }
    return found;
  }

  // The value of the one sample that matches; otherwise fails the test and returns NaN (which
  // every comparison then fails too).
  double value(std::string_view name, const Labels& wanted = {}) const {
    const auto found = find(name, wanted);
    if (found.size() != 1) {
      ADD_FAILURE() << found.size() << " samples of " << name << " match";
      return std::numeric_limits<double>::quiet_NaN();
    }
    return found.front().value;
  }

  // The value of the one sample that matches, 0 when none does (a series not yet counted).
  double count(std::string_view name, const Labels& wanted) const {
    const auto found = find(name, wanted);
    return found.empty() ? 0 : found.front().value;
  }

 private:
  static Sample parse_sample(std::string_view line) {
    Sample sample;
    const std::size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos)
      throw std::runtime_error("bad sample: " + std::string(line));
    sample.name = line.substr(0, name_end);
    std::size_t at = name_end;
    if (line[at] == '{') {
      ++at;
      while (line.at(at) != '}') {
        const std::size_t eq = line.find("=\"", at);
        if (eq == std::string_view::npos)
          throw std::runtime_error("bad labels: " + std::string(line));
        std::string key(line.substr(at, eq - at));
        std::string value;
        for (at = eq + 2; line.at(at) != '"'; ++at) {
          if (line[at] == '\\') {
            ++at;
            value += line.at(at) == 'n' ? '\n' : line[at];
          } else {
            value += line[at];
          }
        }
        sample.labels[std::move(key)] = std::move(value);
        ++at;  // the closing quote
        if (line.at(at) == ',') ++at;
      }
      ++at;  // '}'
    }
    const std::string value(line.substr(at + 1));
    sample.value = value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value);
    return sample;
  }
};

// brigade with its defaults, and scrapes of its /metrics.
class Server : public RunningBrigade {
 public:
  using RunningBrigade::RunningBrigade;

  // One GET /metrics on a connection of its own, checked and parsed.
  Exposition scrape() {
    Client client(port());
    return scrape_over(client);
  }

  // One GET /metrics on `client`'s connection, checked and parsed.
  static Exposition scrape_over(Client& client) {
    const Response response = client.get("/metrics");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    return Exposition::parse(response.body());
  }
};

// Scrapes until `done` holds for a scrape (returned), or fails the test after kPollTimeout.
template <class Predicate>
std::optional<Exposition> scrape_until(Server& server, Predicate done) {
  const auto deadline = Clock::now() + kPollTimeout;
  for (;;) {
    Exposition scrape = server.scrape();
    if (done(scrape)) return scrape;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `argv` with `input` on its stdin, and collects what it prints.
ToolResult run_with_stdin(const std::vector<std::string>& argv, const std::string& input) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, args.front().c_str(), &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    throw std::system_error(rc, std::generic_category(), "posix_spawn " + args.front());
  }

  // The tool reads all of its input before it writes anything, and a scrape fits in the pipe:
  // writing everything first cannot deadlock. A tool that exits early makes write() fail
  // (EPIPE: SIGPIPE is ignored around it), and its output says why.
  const auto previous = std::signal(SIGPIPE, SIG_IGN);
  for (std::string_view rest = input; !rest.empty();) {
    const ssize_t n = ::write(in[1], rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(in[1]);
  std::signal(SIGPIPE, previous);

  ToolResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Connections closed unserved count by reason, deadlines that ran out by phase.
TEST(Metrics, RejectionsAndTimeoutsAreCountedByReasonAndPhase) {
  Server server({"--max-connections", "2", "--header-timeout", "300ms"});
  Client scraper(server.port());
  const Exposition before = Server::scrape_over(scraper);
  for (const char* reason : {"max_connections", "tls_handshake_failed", "tls_handshake_timeout"}) {
    EXPECT_EQ(before.value("brigade_http_connections_rejected_total", {{"reason", reason}}), 0);
  }
  for (const char* phase : {"header", "body", "idle", "write"}) {
    EXPECT_EQ(before.value("brigade_http_timeouts_total", {{"phase", phase}}), 0);
  }
  {
    // A silent connection: closed at header_timeout. While it is open, a third is refused.
    Client silent(server.port());
    Client refused(server.port());
    EXPECT_EQ(refused.get("/").result_int(), 503);
    EXPECT_TRUE(silent.closed_by_peer(5s));
  }
  const Exposition after = Server::scrape_over(scraper);
  EXPECT_EQ(after.value("brigade_http_connections_rejected_total", {{"reason", "max_connections"}}),
            1);
  EXPECT_EQ(after.value("brigade_http_timeouts_total", {{"phase", "header"}}), 1);
  EXPECT_EQ(after.value("brigade_server_draining"), 0);
}

TEST(Metrics, EveryFamilyIsExposedWithItsType) {
  Server server;
  server.get("/");  // so the HTTP families have a series
  const Exposition scrape = server.scrape();

  const std::map<std::string, std::string> expected{
      {"brigade_runtime_workers", "gauge"},
      {"brigade_runtime_global_queue_depth", "gauge"},
      {"brigade_runtime_local_queue_depth", "gauge"},
      {"brigade_runtime_blocking_threads", "gauge"},
      {"brigade_runtime_blocking_idle_threads", "gauge"},
      {"brigade_runtime_blocking_queue_depth", "gauge"},
      {"brigade_runtime_tasks_alive", "gauge"},
      {"brigade_runtime_tasks_spawned_total", "counter"},
      {"brigade_runtime_steals_total", "counter"},
      {"brigade_runtime_parks_total", "counter"},
      {"brigade_runtime_overflows_total", "counter"},
      {"brigade_runtime_polls_total", "counter"},
      {"brigade_runtime_worker_busy_seconds_total", "counter"},
      {"brigade_runtime_budget_forced_yields_total", "counter"},
      {"brigade_runtime_poll_duration_seconds", "histogram"},
      {"brigade_runtime_schedule_delay_seconds", "histogram"},
      {"brigade_runtime_blocking_queue_wait_seconds", "histogram"},
      {"brigade_http_requests_total", "counter"},
      {"brigade_http_request_duration_seconds", "histogram"},
      {"brigade_http_connections_active", "gauge"},
      {"brigade_http_connections_total", "counter"},
      {"brigade_http_request_bytes_total", "counter"},
      {"brigade_http_response_bytes_total", "counter"},
      {"brigade_http_connections_rejected_total", "counter"},
      {"brigade_http_timeouts_total", "counter"},
      {"brigade_server_draining", "gauge"},
      {"process_cpu_seconds_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"process_open_fds", "gauge"},
      {"process_max_fds", "gauge"},
      {"process_start_time_seconds", "gauge"},
  };
  for (const auto& [name, type] : expected) {
    const auto it = scrape.types.find(name);
    ASSERT_NE(it, scrape.types.end()) << name << " has no TYPE line";
    EXPECT_EQ(it->second, type) << name;
    const std::string sample_name = type == "histogram" ? name + "_count" : name;
    EXPECT_FALSE(scrape.find(sample_name).empty()) << name << " has no sample";
  }

  // The per-worker families have one series per worker, labelled 0..workers-1.
  EXPECT_EQ(scrape.value("brigade_runtime_workers"), 2);
  for (const char* name :
       {"brigade_runtime_local_queue_depth", "brigade_runtime_steals_total",
        "brigade_runtime_parks_total", "brigade_runtime_overflows_total",
        "brigade_runtime_polls_total", "brigade_runtime_worker_busy_seconds_total"}) {
    std::set<std::string> workers;
    for (const Sample& sample : scrape.find(name)) workers.insert(sample.labels.at("worker"));
    EXPECT_EQ(workers, (std::set<std::string>{"0", "1"})) << name;
  }
  EXPECT_GT(scrape.value("brigade_runtime_tasks_spawned_total"), 0);
  EXPECT_GT(scrape.value("brigade_runtime_tasks_alive"), 0);  // the accept loop, at least
}

TEST(Metrics, RequestsCountUnderTheRoutePatternNotTheRawPath) {
  Server server;
  Client client(server.port());
  EXPECT_EQ(client.get("/sleep?ms=1").result_int(), 200);
  EXPECT_EQ(client.get("/sleep?ms=2").result_int(), 200);
  EXPECT_EQ(client.get("/sleep?ms=oops").result_int(), 400);
  EXPECT_EQ(client.get("/nope/xyz").result_int(), 404);
  EXPECT_EQ(client.get("/nope/abc").result_int(), 404);
  EXPECT_EQ(client.request(http::verb::delete_, "/json").result_int(), 405);
  EXPECT_EQ(client.request(http::verb::post, "/echo", "hi").result_int(), 200);

  const Exposition scrape = server.scrape();
  const auto requests = [&scrape](std::string method, std::string route, std::string code) {
    return scrape.count("brigade_http_requests_total",
                        {{"method", method}, {"route", route}, {"code", code}});
  };
  EXPECT_EQ(requests("GET", "/sleep", "200"), 2);
  EXPECT_EQ(requests("GET", "/sleep", "400"), 1);
  EXPECT_EQ(requests("GET", "unmatched", "404"), 2);
  EXPECT_EQ(requests("DELETE", "unmatched", "405"), 1);
  EXPECT_EQ(requests("POST", "/echo", "200"), 1);
  // Each (method, route) has one histogram, whatever the codes and raw paths were.
  EXPECT_EQ(scrape.value("brigade_http_request_duration_seconds_count",
                         {{"method", "GET"}, {"route", "/sleep"}}),
            3);

  // No label value is a raw path or a query.
  for (const Sample& sample : scrape.samples) {
    const auto route = sample.labels.find("route");
    if (route == sample.labels.end()) continue;
    EXPECT_EQ(route->second.find("nope"), std::string::npos) << route->second;
    EXPECT_EQ(route->second.find('?'), std::string::npos) << route->second;
  }
}

// Each worker counts into a stripe of its own; a scrape adds them up. One worker is held in
// /block while the clients send their requests, so the other one answers them: both workers
// count (one of them a single request), and every answer is counted exactly once. Without the
// block one worker can answer them all, and the sum would cover a single stripe.
TEST(Metrics, RequestsAnsweredByEveryWorkerAddUpExactly) {
  Server server({"--enable-block-endpoint"});  // two workers
  std::thread blocker([&server] {
    Client client(server.port());
    EXPECT_EQ(client.get("/block?ms=1500").result_int(), 200);
  });
  std::this_thread::sleep_for(200ms);  // the block is under way long before it ends
  constexpr int kClients = 8;
  constexpr int kRequestsEach = 50;
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&server, &answered] {
      Client client(server.port());
      for (int n = 0; n < kRequestsEach; ++n) {
        if (client.get("/json").result_int() == 200) ++answered;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  blocker.join();
  ASSERT_EQ(answered.load(), kClients * kRequestsEach);

  const Exposition scrape = server.scrape();
  EXPECT_EQ(scrape.value("brigade_http_requests_total",
                         {{"method", "GET"}, {"route", "/json"}, {"code", "200"}}),
            kClients * kRequestsEach);
  EXPECT_EQ(scrape.value("brigade_http_request_duration_seconds_count",
                         {{"method", "GET"}, {"route", "/json"}}),
            kClients * kRequestsEach);
  EXPECT_EQ(scrape.value("brigade_http_requests_total",
                         {{"method", "GET"}, {"route", "/block"}, {"code", "200"}}),
            1);
  for (const char* worker : {"0", "1"}) {
    EXPECT_GT(scrape.value("brigade_runtime_polls_total", {{"worker", worker}}), 0)
        << "worker " << worker;
  }
}

TEST(Metrics, UnknownMethodsShareOneLabelValue) {
  Server server;
  Client client(server.port());
  http::request<http::string_body> request{http::verb::unknown, "/json", 11};
  request.method_string("BREW");
  request.set(http::field::host, "127.0.0.1");
  client.send(request);
  EXPECT_EQ(client.receive().result_int(), 501);  // a method the server does not know

  const Exposition scrape = server.scrape();
  EXPECT_EQ(scrape.count("brigade_http_requests_total",
                         {{"method", "other"}, {"route", "unmatched"}, {"code", "501"}}),
            1);
  EXPECT_TRUE(scrape.find("brigade_http_requests_total", {{"method", "BREW"}}).empty());
}

TEST(Metrics, ByteCountersGrowByAtLeastWhatWasSent) {
  Server server;
  const Exposition before = server.scrape();
  const std::string body(100'000, 'x');
  const Response echoed =
      Client(server.port()).request(http::verb::post, "/echo", body, "application/octet-stream");
  ASSERT_EQ(echoed.body().size(), body.size());
  const Exposition after = server.scrape();

  EXPECT_GE(after.value("brigade_http_request_bytes_total") -
                before.value("brigade_http_request_bytes_total"),
            static_cast<double>(body.size() + std::string_view("POST /echo HTTP/1.1\r\n").size()));
  EXPECT_GE(after.value("brigade_http_response_bytes_total") -
                before.value("brigade_http_response_bytes_total"),
            static_cast<double>(body.size() + std::string_view("HTTP/1.1 200 OK\r\n").size()));

  // A large request head with a small answer grows the received bytes only: the two counters
  // are not mixed up. (The response delta holds the scrape `after` and "Hello, World!".)
  Client client(server.port());
  http::request<http::string_body> padded{http::verb::get, "/", 11};
  padded.set(http::field::host, "127.0.0.1");
  padded.set("X-Padding", std::string(50'000, 'p'));
  client.send(padded);
  ASSERT_EQ(client.receive().result_int(), 200);
  const Exposition last = server.scrape();
  EXPECT_GE(last.value("brigade_http_request_bytes_total") -
                after.value("brigade_http_request_bytes_total"),
            50'000);
  EXPECT_LT(last.value("brigade_http_response_bytes_total") -
                after.value("brigade_http_response_bytes_total"),
            50'000);
}

TEST(Metrics, ConnectionsAreCountedWhileOpenAndInTotal) {
  Server server;
  // Every scrape on this one kept-alive connection, so the test knows every connection there is.
  Client scraper(server.port());
  const Exposition alone = Server::scrape_over(scraper);
  EXPECT_EQ(alone.value("brigade_http_connections_active"), 1);
  const double total_before = alone.value("brigade_http_connections_total");
  {
    Client first(server.port());
    Client second(server.port());
    EXPECT_EQ(first.get("/").result_int(), 200);
    EXPECT_EQ(second.get("/").result_int(), 200);
    const Exposition open = Server::scrape_over(scraper);
    EXPECT_EQ(open.value("brigade_http_connections_active"), 3);
    EXPECT_EQ(open.value("brigade_http_connections_total") - total_before, 2);
  }
  // The server sees the two clients close; the scraper's connection is left.
  const auto deadline = Clock::now() + kPollTimeout;
  Exposition closed = Server::scrape_over(scraper);
  while (closed.value("brigade_http_connections_active") != 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    closed = Server::scrape_over(scraper);
  }
  EXPECT_EQ(closed.value("brigade_http_connections_active"), 1);
  EXPECT_EQ(closed.value("brigade_http_connections_total") - total_before, 2);
}

// A request pipelined behind a slow one is timed from when the server turns to it (the answer
// before it queued), not from when its bytes arrived with the slow one's.
TEST(Metrics, APipelinedRequestIsTimedFromItsTurn) {
  Server server;
  Client client(server.port());
  http::request<http::string_body> slow{http::verb::get, "/sleep?ms=300", 11};
  slow.set(http::field::host, "127.0.0.1");
  http::request<http::string_body> quick{http::verb::get, "/json", 11};
  quick.set(http::field::host, "127.0.0.1");
  client.send(slow);
  client.send(quick);  // sent before the first answer: both are in the server's buffer at once
  EXPECT_EQ(client.receive().result_int(), 200);
  EXPECT_EQ(client.receive().result_int(), 200);

  const Exposition scrape = server.scrape();
  EXPECT_GE(scrape.value("brigade_http_request_duration_seconds_sum",
                         {{"method", "GET"}, {"route", "/sleep"}}),
            0.3);
  EXPECT_LT(scrape.value("brigade_http_request_duration_seconds_sum",
                         {{"method", "GET"}, {"route", "/json"}}),
            0.1);
}

TEST(Metrics, DurationHistogramHasTheBucketsFromHalfAMillisecondToTenSeconds) {
  Server server;
  EXPECT_EQ(server.get("/sleep?ms=30").result_int(), 200);
  const Exposition scrape = server.scrape();
  const Labels sleep{{"method", "GET"}, {"route", "/sleep"}};

  const std::vector<std::string> bounds{"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                        "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                        "1",      "2.5",   "5",      "10",    "+Inf"};
  const auto buckets = scrape.find("brigade_http_request_duration_seconds_bucket", sleep);
  ASSERT_EQ(buckets.size(), bounds.size());
  double previous = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    EXPECT_EQ(buckets[i].labels.at("le"), bounds[i]);
    EXPECT_GE(buckets[i].value, previous) << "buckets are cumulative";
    previous = buckets[i].value;
  }
  // The request slept 30 ms: it is in no bucket below 25 ms, and in the +Inf one.
  EXPECT_EQ(buckets[5].value, 0) << "le=0.025";
  EXPECT_EQ(buckets.back().value, 1);
  EXPECT_EQ(scrape.value("brigade_http_request_duration_seconds_count", sleep), 1);
  EXPECT_GE(scrape.value("brigade_http_request_duration_seconds_sum", sleep), 0.030);
}

// The scheduler's histograms: one series each (summed over the workers, no label but `le`),
// buckets at powers of 4 from 2^10 ns to 2^34 ns and +Inf, counting after some requests (GET
// /cpu runs on the blocking pool, so its queue wait is recorded too).
TEST(Metrics, RuntimeLatencyHistogramsCountPollsWakeUpsAndBlockingJobs) {
  Server server;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(server.get("/").result_int(), 200);
    EXPECT_EQ(server.get("/cpu?work=100").result_int(), 200);
  }
  const Exposition scrape = server.scrape();

  for (const std::string name :
       {"brigade_runtime_poll_duration_seconds", "brigade_runtime_schedule_delay_seconds",
        "brigade_runtime_blocking_queue_wait_seconds"}) {
    const auto buckets = scrape.find(name + "_bucket");
    ASSERT_EQ(buckets.size(), 14u) << name;
    double bound = 1024e-9;
    double previous = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      EXPECT_EQ(buckets[i].labels.size(), 1u) << name << ": only `le`";
      const std::string le = buckets[i].labels.at("le");
      if (i + 1 < buckets.size()) {
        EXPECT_NEAR(std::stod(le), bound, bound * 1e-9) << name << " bucket " << i;
      } else {
        EXPECT_EQ(le, "+Inf") << name;
      }
      EXPECT_GE(buckets[i].value, previous) << name << ": buckets are cumulative";
      previous = buckets[i].value;
      bound *= 4;
    }
    const double count = scrape.value(name + "_count");
    EXPECT_GT(count, 0) << name;
    EXPECT_EQ(buckets.back().value, count) << name;
    EXPECT_GT(scrape.value(name + "_sum"), 0) << name;
  }
  // At least one poll per request and per scrape so far; each poll ends a wait.
  EXPECT_GE(scrape.value("brigade_runtime_poll_duration_seconds_count"), 6);
  EXPECT_GE(scrape.value("brigade_runtime_schedule_delay_seconds_count"), 6);
  EXPECT_GE(scrape.value("brigade_runtime_blocking_queue_wait_seconds_count"), 3);
}

TEST(Metrics, ProcessMetricsDescribeThisProcess) {
  const double started =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Server server;
  const Exposition scrape = server.scrape();
  EXPECT_GT(scrape.value("process_resident_memory_bytes"), 1 << 20);
  const double open_fds = scrape.value("process_open_fds");
  EXPECT_GE(open_fds, 4);  // stdin, stdout, stderr, the listener at least
  EXPECT_LT(open_fds, scrape.value("process_max_fds"));
  EXPECT_GE(scrape.value("process_cpu_seconds_total"), 0);
  // Started by this test: /proc counts in clock ticks (1/100 s) since a boot time in seconds.
  const double start_time = scrape.value("process_start_time_seconds");
  EXPECT_GT(start_time, started - 2);
  EXPECT_LT(start_time, started + kBrigadeStartTimeout.count());
}

TEST(Metrics, PromtoolAcceptsTheScrape) {
  ASSERT_NE(std::string_view(kPromtool), "")
      << "promtool was not found at configure time: install the Debian package prometheus";
  Server server;
  Client client(server.port());
  client.get("/sleep?ms=1");
  client.get("/missing");
  client.request(http::verb::post, "/echo", "abc");
  const Response response = server.get("/metrics");
  ASSERT_EQ(response.result_int(), 200);

  const ToolResult lint = run_with_stdin({kPromtool, "check", "metrics"}, response.body());
  EXPECT_EQ(lint.exit_code, 0) << lint.output << "\nthe scrape:\n" << response.body();

  // The lint does find problems: a counter named without _total fails it.
  const ToolResult bad = run_with_stdin({kPromtool, "check", "metrics"},
                                        "# HELP c A counter.\n# TYPE c counter\nc 1\n");
  EXPECT_NE(bad.exit_code, 0) << bad.output;
}

// The first stderr line of `server` holding both `event` and `detail`, once one has appeared;
// nullopt after kPollTimeout. (Other stalls may be logged first: the ASan build's start-up is one.)
std::optional<std::string> wait_for_log_line(Server& server, std::string_view event,
                                             std::string_view detail) {
  const auto deadline = Clock::now() + kPollTimeout;
  for (;;) {
    const std::string& text = server.process().stderr_text();
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t end = text.find('\n', at);
      if (end == std::string::npos) break;  // a line still being written
      const std::string_view line(text.data() + at, end - at);
      if (line.find(event) != std::string_view::npos &&
          line.find(detail) != std::string_view::npos) {
        return std::string(line);
      }
      at = end + 1;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    // Reads the child's output for up to 20 ms (no line holds this needle).
    static_cast<void>(server.process().wait_for_stderr_line("\x01", 20ms));
  }
}

// The stall detector on the real binary: GET /block keeps its worker 200 ms in one poll, which is
// logged while it lasts (naming the route, since the task's spawn site is the accept loop) and
// when it ends, and counted in brigade_runtime_stalls_total.
TEST(Metrics, BlockingAWorkerIsLoggedAsAStallNamingTheRouteAndCounted) {
  Server server({"--enable-block-endpoint"});
  const auto stalls = [](const Exposition& scrape) {
    double total = 0;
    for (const Sample& sample : scrape.find("brigade_runtime_stalls_total")) total += sample.value;
    return total;
  };
  const double before = stalls(server.scrape());
  EXPECT_EQ(server.scrape().types.at("brigade_runtime_stalls_total"), "counter");

  EXPECT_EQ(server.get("/block?ms=200").result_int(), 200);

  const auto stalled = wait_for_log_line(server, "worker stalled", "route=/block");
  ASSERT_TRUE(stalled) << server.process().stderr_text();
  EXPECT_NE(stalled->find(" warn "), std::string::npos) << *stalled;
  EXPECT_NE(stalled->find("spawned_at="), std::string::npos) << *stalled;
  EXPECT_NE(stalled->find("backtrace=[\""), std::string::npos) << *stalled;
  const auto ended = wait_for_log_line(server, "worker stall ended", "route=/block");
  ASSERT_TRUE(ended) << server.process().stderr_text();
  EXPECT_NE(ended->find("ms_total="), std::string::npos) << *ended;

  EXPECT_TRUE(scrape_until(server, [&](const Exposition& scrape) {
    return stalls(scrape) >= before + 1;
  })) << "brigade_runtime_stalls_total did not count the stall";
}

// Needs GET /cpu?work=N (N rounds of SHA-256 on the blocking pool) from the endpoints branch.
TEST(Metrics, BlockingThreadsGrowWhileCpuWorkRuns) {
  Server server;
  // The pool starts empty and grows on demand.
  EXPECT_EQ(server.scrape().value("brigade_runtime_blocking_threads"), 0);

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  const std::uint16_t port = server.port();
  std::thread load([&stop, &answered, &failed, port] {
    try {
      Client client(port);
      while (!stop.load()) {
        const int status = client.get("/cpu?work=20000").result_int();
        (status == 200 ? answered : failed).fetch_add(1);
        if (status != 200) return;
      }
    } catch (const std::exception&) {
      failed.fetch_add(1);
    }
  });
  // A thread of the pool that is not idle is running a request's hashing at that moment.
  const auto busy = [](const Exposition& scrape) {
    return scrape.value("brigade_runtime_blocking_threads") -
           scrape.value("brigade_runtime_blocking_idle_threads");
  };
  const auto grown = scrape_until(server, [&failed, &busy](const Exposition& scrape) {
    return failed.load() > 0 || busy(scrape) >= 1;
  });
  stop = true;
  load.join();

  ASSERT_EQ(failed.load(), 0) << "GET /cpu did not answer 200 (after " << answered.load()
                              << " that did)";
  ASSERT_TRUE(grown) << "no scrape saw a busy blocking thread while /cpu ran";
  EXPECT_GE(grown->value("brigade_runtime_blocking_threads"), 1);
}

}  // namespace
}  // namespace brigade::testing
