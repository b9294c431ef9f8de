// End-to-end tests of the `brigade` binary: the real program as a child process, its endpoints
// over loopback through Boost.Beast, its configuration errors and exit codes, and graceful
// shutdown with real signals.
//
// Every server listens on 127.0.0.1:0; the test reads the bound address from the start-up line,
// so tests run in parallel without port clashes.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../support/allowed_cpus.hpp"
#include "child_process.hpp"
#include "http_client.hpp"
#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBinary = BRIGADE_BIN;
constexpr auto kExitTimeout = kBrigadeExitTimeout;

using Server = RunningBrigade;

// Runs brigade to completion (for --help, bad settings...): {exit code, stdout, stderr}.
struct Finished {
  int exit_code;
  std::string out;
  std::string err;
};
Finished run_to_exit(std::vector<std::string> args, std::vector<std::string> env = {}) {
  ChildProcess child(kBinary, std::move(args), std::move(env));
  const auto code = child.wait_exit_code(kExitTimeout);
  EXPECT_TRUE(code.has_value()) << "brigade did not exit";
  return {code.value_or(-1), child.stdout_text(), child.stderr_text()};
}

std::string header(const Response& response, http::field field) {
  return std::string(response[field]);
}

// --- Endpoints ---------------------------------------------------------------------------------

TEST(BrigadeEndpoints, HelloIsPlainText) {
  Server server;
  const Response response = server.get("/");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "Hello, World!");
  EXPECT_TRUE(header(response, http::field::content_type).starts_with("text/plain"));

  const Response wrong = Client(server.port()).request(http::verb::post, "/", "x");
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_NE(header(wrong, http::field::allow).find("GET"), std::string::npos);
}

TEST(BrigadeEndpoints, JsonHello) {
  Server server;
  const Response response = server.get("/json");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), R"({"message":"Hello, World!"})");
  EXPECT_EQ(header(response, http::field::content_type), "application/json");
}

TEST(BrigadeEndpoints, EchoReturnsTheBodyWithItsContentType) {
  Server server;
  Client client(server.port());  // several requests on one kept-alive connection
  const std::string binary("a\0b\xff\r\n", 6);
  Response response = client.request(http::verb::post, "/echo", binary, "image/x-test");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), binary);
  EXPECT_EQ(header(response, http::field::content_type), "image/x-test");

  response = client.request(http::verb::post, "/echo", "no type");
  EXPECT_EQ(response.body(), "no type");
  EXPECT_EQ(header(response, http::field::content_type), "application/octet-stream");

  response = client.request(http::verb::post, "/echo", "");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "");

  const std::string large(1 << 20, 'x');
  response = client.request(http::verb::post, "/echo", large, "text/plain");
  EXPECT_EQ(response.body().size(), large.size());

  EXPECT_EQ(client.get("/echo").result_int(), 405);
}

TEST(BrigadeEndpoints, SleepWaitsOnTheTimer) {
  Server server;
  Client client(server.port());
  const auto start = std::chrono::steady_clock::now();
  Response response = client.get("/sleep?ms=100");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), R"({"slept_ms":100})");
  EXPECT_EQ(header(response, http::field::content_type), "application/json");

  EXPECT_EQ(client.get("/sleep?ms=0").body(), R"({"slept_ms":0})");
  EXPECT_EQ(client.get("/sleep?x=1&ms=1").body(), R"({"slept_ms":1})");
}

TEST(BrigadeEndpoints, SleepRefusesBadDurations) {
  Server server;
  Client client(server.port());
  for (const char* target :
       {"/sleep", "/sleep?ms=", "/sleep?ms=abc", "/sleep?ms=-1", "/sleep?ms=60001", "/sleep?ms=5ms",
        "/sleep?ms=1e3", "/sleep?ms=%20", "/sleep?ms=99999999999999999999999"}) {
    SCOPED_TRACE(target);
    const Response response = client.get(target);
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(header(response, http::field::content_type), "application/json");
    EXPECT_NE(response.body().find(R"("error":)"), std::string::npos) << response.body();
  }
  // The bounds themselves are fine (60000 is not waited for here: ms=0 suffices for the low end).
  EXPECT_EQ(client.get("/sleep?ms=0").result_int(), 200);
}

TEST(BrigadeEndpoints, HealthAndReadiness) {
  Server server;
  const Response health = server.get("/healthz");
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_EQ(health.body(), R"({"status":"ok"})");
  const Response ready = server.get("/readyz");
  EXPECT_EQ(ready.result_int(), 200);
  EXPECT_EQ(ready.body(), R"({"status":"ready"})");
}

TEST(BrigadeEndpoints, UnknownPathIs404) {
  Server server;
  const Response response = server.get("/nope");
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(header(response, http::field::content_type), "application/json");
}

// --- The command line ---------------------------------------------------------------------------

TEST(BrigadeCommandLine, HelpListsEveryKey) {
  const Finished config = run_to_exit({"--print-config"});
  ASSERT_EQ(config.exit_code, 0) << config.err;
  const Finished help = run_to_exit({"--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;

  // Every key --print-config knows, set ("key = value") or not ("# key is not set").
  std::set<std::string> keys;
  std::istringstream lines(config.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# ") && line.ends_with(" is not set")) {
      keys.insert(line.substr(2, line.find(' ', 2) - 2));
    } else if (const std::size_t eq = line.find(" = "); eq != std::string::npos) {
      keys.insert(line.substr(0, eq));
    }
  }
  EXPECT_GE(keys.size(), 17u);
  for (const std::string& key : keys) {
    EXPECT_NE(help.out.find(key), std::string::npos) << key << " is missing from --help";
  }
  EXPECT_NE(help.out.find("healthcheck"), std::string::npos);
}

TEST(BrigadeCommandLine, UnknownFlagExits2NamingIt) {
  const Finished result = run_to_exit({"--no-such-setting", "1"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("no_such_setting"), std::string::npos) << result.err;
}

TEST(BrigadeCommandLine, BadEnvironmentValueExits2NamingTheKey) {
  const Finished result = run_to_exit({}, {"BRIGADE_HEADER_TIMEOUT=10"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("header_timeout"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("BRIGADE_HEADER_TIMEOUT"), std::string::npos) << result.err;
}

TEST(BrigadeCommandLine, AddressInUseExits1NamingListen) {
  // Hold a port, then ask brigade to listen on it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  const Finished result = run_to_exit({"--listen", listen});
  ::close(fd);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("listen"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(listen), std::string::npos) << result.err;
}

TEST(BrigadeCommandLine, StartupLineInJson) {
  Server server({"--log-format", "json", "--max-connections", "77"});
  const std::string& line = server.start_line();
  EXPECT_TRUE(line.starts_with("{\"time\":\"")) << line;
  EXPECT_TRUE(line.ends_with("}")) << line;
  EXPECT_NE(line.find(R"("msg":"brigade started")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("max_connections":77)"), std::string::npos) << line;
  EXPECT_EQ(server.get("/").result_int(), 200);
}

TEST(BrigadeCommandLine, StartupLineShowsTheEffectiveSettings) {
  Server server({"--header-timeout", "7s"}, {"BRIGADE_MAX_BODY_BYTES=1MiB"});
  const std::string& line = server.start_line();
  EXPECT_NE(line.find(" info brigade started "), std::string::npos) << line;
  EXPECT_NE(line.find("header_timeout=7s"), std::string::npos) << line;
  EXPECT_NE(line.find("max_body_bytes="), std::string::npos) << line;
  EXPECT_NE(line.find("listen=127.0.0.1:0"), std::string::npos) << line;
}

// On stdout, one JSON object per request (access_log_e2e_test checks the fields).
TEST(BrigadeCommandLine, AccessLogWritesALinePerRequest) {
  Server server({"--access-log", "stdout"});
  EXPECT_EQ(server.get("/json?x=1").result_int(), 200);
  const auto line = server.process().wait_for_stdout_line(R"("target":"/json?x=1")", 5s);
  ASSERT_TRUE(line.has_value()) << server.process().stdout_text();
  EXPECT_NE(line->find(R"("method":"GET")"), std::string::npos) << *line;
  EXPECT_NE(line->find(R"("status":200)"), std::string::npos) << *line;
  EXPECT_NE(line->find(R"("route":"/json")"), std::string::npos) << *line;
}

TEST(BrigadeCommandLine, HelpTablesTheExitStatuses) {
  const Finished help = run_to_exit({"--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  const std::size_t table = help.out.find("Exit status:\n");
  ASSERT_NE(table, std::string::npos) << help.out;
  for (const std::string code : {"\n  0 ", "\n  1 ", "\n  2 ", "\n  130 ", "\n  143 "}) {
    EXPECT_NE(help.out.find(code, table), std::string::npos) << "no row for" << code;
  }
}

// --- data_dir ------------------------------------------------------------------------------------

// The port in `child`'s start-up line, or 0 if it exited or did not start in time.
std::uint16_t start_in(ChildProcess& child) {
  const auto line = child.wait_for_stderr_line("brigade started", kBrigadeStartTimeout);
  return line ? port_of(*line) : 0;
}

TEST(BrigadeDataDir, TheDefaultServesTheSampleFromTheRepositoryRoot) {
  ChildProcess child(kBinary, {"--listen", "127.0.0.1:0", "--worker-threads", "2"}, {},
                     BRIGADE_SOURCE_DIR);
  const std::uint16_t port = start_in(child);
  ASSERT_NE(port, 0) << child.stderr_text();
  const Response response = Client(port).get("/files/hello.txt/sha256");
  EXPECT_EQ(response.result_int(), 200) << response.body();
  const auto size =
      std::filesystem::file_size(std::filesystem::path(BRIGADE_SOURCE_DIR) / "data" / "hello.txt");
  EXPECT_NE(response.body().find("\"bytes\":" + std::to_string(size)), std::string::npos)
      << response.body();
  EXPECT_EQ(child.stderr_text().find("data_dir is not a directory"), std::string::npos)
      << child.stderr_text();
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit_code(kExitTimeout), 0) << child.stderr_text();
}

TEST(BrigadeDataDir, AMissingDirectoryIsAWarningAndFilesAnswer404) {
  Server server({"--data-dir", "/nonexistent/brigade-data"});
  const auto warning =
      server.process().wait_for_stderr_line("data_dir is not a directory", kBrigadeStartTimeout);
  ASSERT_TRUE(warning.has_value()) << server.process().stderr_text();
  EXPECT_NE(warning->find(" warn "), std::string::npos) << *warning;
  EXPECT_NE(warning->find("/nonexistent/brigade-data"), std::string::npos) << *warning;
  EXPECT_EQ(server.get("/files/hello.txt/sha256").result_int(), 404);
  EXPECT_EQ(server.get("/").result_int(), 200);
}

TEST(BrigadeHealthcheck, ExitsZeroOnAHealthyServer) {
  Server server;
  const std::string listen = "127.0.0.1:" + std::to_string(server.port());
  const Finished ok = run_to_exit({"healthcheck", "--listen", listen});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // The port can also come from the environment, as in a container; 0.0.0.0 means loopback.
  const Finished from_env =
      run_to_exit({"healthcheck"}, {"BRIGADE_LISTEN=0.0.0.0:" + std::to_string(server.port())});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
}

TEST(BrigadeHealthcheck, ExitsOneWhenNothingAnswers) {
  Server server;
  const std::string listen = "127.0.0.1:" + std::to_string(server.port());
  server.process().signal(SIGTERM);
  ASSERT_EQ(server.process().wait_exit_code(kExitTimeout), 0);
  const Finished down = run_to_exit({"healthcheck", "--listen", listen});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("healthcheck"), std::string::npos) << down.err;
}

// --- Limits -------------------------------------------------------------------------------------

// --- the blocking pool's priority
// -----------------------------------------------------------------

// Each thread of the process by its name, with its nice value (field 19 of
// /proc/PID/task/TID/stat).
std::vector<std::pair<std::string, int>> thread_niceness(pid_t pid) {
  std::vector<std::pair<std::string, int>> threads;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    std::ifstream stat_file(entry.path() / "stat");
    std::string stat;
    std::getline(stat_file, stat);
    // After "pid (comm) " come the fields from 3 on: the nice value is the 17th of them.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 0; i < 17; ++i) fields >> field;
    threads.emplace_back(name, std::stoi(field));
  }
  return threads;
}

// Each worker names itself as it starts, which on a busy machine can come after another worker
// has already served a request: waits (up to 5 s) until a thread of `pid` is called `name`.
void wait_for_thread_named(pid_t pid, std::string_view name) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    const auto threads = thread_niceness(pid);
    if (std::any_of(threads.begin(), threads.end(),
                    [name](const auto& thread) { return thread.first == name; }) ||
        std::chrono::steady_clock::now() > deadline) {
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
}

// The nice value of the threads named `name`: all the same, or nullopt (none, or they differ).
std::optional<int> nice_of(const std::vector<std::pair<std::string, int>>& threads,
                           std::string_view name) {
  std::optional<int> nice;
  for (const auto& [thread, value] : threads) {
    if (thread != name) continue;
    if (nice && *nice != value) return std::nullopt;
    nice = value;
  }
  return nice;
}

// The pool thread that ran /cpu stays for its keep-alive, so it can be looked at afterwards.
TEST(BrigadeBlockingPool, ThreadsRunTenNicerThanTheWorkersByDefault) {
  Server server;
  ASSERT_EQ(server.get("/cpu?work=100").result_int(), 200);
  wait_for_thread_named(server.process().pid(), "brigade-w0");
  const auto threads = thread_niceness(server.process().pid());
  const auto worker = nice_of(threads, "brigade-w0");
  const auto pool = nice_of(threads, "brigade-blk");
  ASSERT_TRUE(worker && pool);
  EXPECT_EQ(*pool, std::min(*worker + 10, 19));
}

TEST(BrigadeBlockingPool, BlockingNiceZeroKeepsThemEven) {
  Server server({"--blocking-nice", "0"});
  ASSERT_EQ(server.get("/cpu?work=100").result_int(), 200);
  wait_for_thread_named(server.process().pid(), "brigade-w0");
  const auto threads = thread_niceness(server.process().pid());
  const auto pool = nice_of(threads, "brigade-blk");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool, nice_of(threads, "brigade-w0"));
}

// --- the blocking pool's CPUs
// ----------------------------------------------------------------------

// The CPUs this test may run on, as the server it starts inherits them.
using brigade::testing::allowed_cpus;

// Linux's list of the CPUs each thread named `name` may run on ("0-1"), one entry per thread.
std::set<std::string> cpus_of_threads(pid_t pid, std::string_view name) {
  std::set<std::string> lists;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string thread;
    std::getline(comm, thread);
    if (thread != name) continue;
    std::ifstream status(entry.path() / "status");
    for (std::string line; std::getline(status, line);) {
      constexpr std::string_view kField = "Cpus_allowed_list:";
      if (line.starts_with(kField))
        lists.insert(line.substr(line.find_first_not_of(" \t", kField.size())));
    }
  }
  return lists;
}

TEST(BrigadeBlockingPool, BlockingCpusConfineThePoolNotTheWorkers) {
  const std::vector<std::size_t> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const std::string last = std::to_string(cpus.back());
  Server server({"--blocking-cpus", last});
  ASSERT_EQ(server.get("/cpu?work=100").result_int(), 200);
  wait_for_thread_named(server.process().pid(), "brigade-w0");
  EXPECT_EQ(cpus_of_threads(server.process().pid(), "brigade-blk"), std::set<std::string>{last});
  const auto workers = cpus_of_threads(server.process().pid(), "brigade-w0");
  ASSERT_EQ(workers.size(), 1u);
  if (cpus.size() > 1) {
    EXPECT_NE(*workers.begin(), last);
  }
}

// With the pool on the last CPU and the workers on the first, neither shares the other's: a
// worker never waits for a CPU-bound job to give way. One worker per CPU named.
TEST(BrigadeBlockingPool, WorkerCpusKeepTheWorkersOffThePoolsCpus) {
  const std::vector<std::size_t> cpus = allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs this process may run on";
  const std::string first = std::to_string(cpus.front());
  const std::string last = std::to_string(cpus.back());
  Server server({"--blocking-cpus", last, "--worker-cpus", first, "--worker-threads", "0"});
  ASSERT_EQ(server.get("/cpu?work=100").result_int(), 200);
  wait_for_thread_named(server.process().pid(), "brigade-w0");
  EXPECT_EQ(cpus_of_threads(server.process().pid(), "brigade-blk"), std::set<std::string>{last});
  EXPECT_EQ(cpus_of_threads(server.process().pid(), "brigade-w0"), std::set<std::string>{first});
  EXPECT_TRUE(cpus_of_threads(server.process().pid(), "brigade-w1").empty()) << "one worker";
}

TEST(BrigadeCommandLine, BlockingCpuTheProcessCannotUseExits2NamingIt) {
  const std::vector<std::size_t> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const Finished result = run_to_exit({"--blocking-cpus", std::to_string(cpus.back() + 1)});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("blocking_cpus"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("is not one this process may run on"), std::string::npos) << result.err;
}

TEST(BrigadeLimits, ConnectionsBeyondMaxConnectionsGet503) {
  Server server({"--max-connections", "2"});
  Client first(server.port());
  Client second(server.port());
  ASSERT_EQ(first.get("/").result_int(), 200);  // both accepted and counted
  ASSERT_EQ(second.get("/").result_int(), 200);

  Client third(server.port());
  const Response refused = third.get("/");
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_EQ(header(refused, http::field::content_type), "application/json");

  // The two served connections still work.
  EXPECT_EQ(first.get("/json").result_int(), 200);
  EXPECT_EQ(second.get("/json").result_int(), 200);
}

// --- Graceful shutdown --------------------------------------------------------------------------

// Requests in flight when SIGTERM arrives all get their answer, with "Connection: close";
// readiness turns 503 during the drain delay; the process then exits 0.
TEST(BrigadeShutdown, SigtermFinishesRequestsInFlight) {
  // The sleeps outlast the drain delay, so they are still running when the listener closes.
  Server server({"--drain-delay", "1s", "--grace-period", "20s"});
  constexpr int kInFlight = 4;
  std::vector<std::future<Response>> answers;
  for (int i = 0; i < kInFlight; ++i) {
    answers.push_back(std::async(
        std::launch::async, [port = server.port()] { return Client(port).get("/sleep?ms=2500"); }));
  }
  std::this_thread::sleep_for(300ms);  // let the server read them
  server.process().signal(SIGTERM);
  ASSERT_TRUE(server.process().wait_for_stderr_line("shutting down", 5s))
      << server.process().stderr_text();

  Response ready;
  ASSERT_NO_THROW(ready = server.get("/readyz")) << "no answer during the drain delay";
  EXPECT_EQ(ready.result_int(), 503);
  EXPECT_EQ(ready.body(), R"({"status":"draining"})");
  Response health;
  ASSERT_NO_THROW(health = server.get("/healthz"));
  EXPECT_EQ(health.result_int(), 200);  // alive, only draining

  for (auto& answer : answers) {
    Response response;
    ASSERT_NO_THROW(response = answer.get()) << "a request in flight got no answer";
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), R"({"slept_ms":2500})");
    EXPECT_FALSE(response.keep_alive());
    EXPECT_EQ(header(response, http::field::connection), "close");
  }
  EXPECT_EQ(server.process().wait_exit_code(kExitTimeout), 0) << server.process().stderr_text();
  EXPECT_NE(server.process().stderr_text().find("brigade stopped"), std::string::npos);
}

TEST(BrigadeShutdown, SigintIsGracefulToo) {
  Server server;
  Client idle(server.port());
  ASSERT_EQ(idle.get("/").result_int(), 200);
  server.process().signal(SIGINT);
  EXPECT_EQ(server.process().wait_exit_code(kExitTimeout), 0) << server.process().stderr_text();
  EXPECT_TRUE(idle.closed_by_peer(1s));  // the idle keep-alive connection was closed
}

// Two of `signal` (SIGTERM or SIGINT): the first starts a minute-long drain, the second exits at
// once with `status` (128 + its number, as a shell reports a process killed by it).
void expect_second_signal_exits_at_once(int signal, int status) {
  Server server({"--drain-delay", "60s", "--grace-period", "60s"});
  server.process().signal(signal);
  ASSERT_TRUE(server.process().wait_for_stderr_line("shutting down", 5s));
  const auto start = std::chrono::steady_clock::now();
  server.process().signal(signal);
  const auto code = server.process().wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, status);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_NE(server.process().stderr_text().find("second signal"), std::string::npos);
}

TEST(BrigadeShutdown, SecondSignalExitsAtOnce) { expect_second_signal_exits_at_once(SIGTERM, 143); }

// The exit-status table's 130: Ctrl-C twice in a terminal.
TEST(BrigadeShutdown, SecondSigintExits130) { expect_second_signal_exits_at_once(SIGINT, 130); }

}  // namespace
}  // namespace brigade::testing
