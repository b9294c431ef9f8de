// The runtime's first examples (concurrent_fetch, many_sleepers, spawn_vs_blocking, tcp_echo)
// run as programs, and what they print checked.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "run_program.hpp"

namespace {

using brigade::test::number_after;
using brigade::test::run_program;

TEST(ConcurrentFetch, TheShorterFetchFinishesFirstWhileMainWorks) {
  const auto result = run_program({CONCURRENT_FETCH_BIN});
  ASSERT_EQ(result.exit_code, 0) << result.out;
  const auto& out = result.out;
  const auto main_done = out.find("Main task has finished its other work.");
  const auto database = out.find("Finished fetching from Database.");
  const auto api = out.find("Finished fetching from API Server.");
  ASSERT_NE(main_done, std::string::npos) << out;
  ASSERT_NE(database, std::string::npos) << out;
  ASSERT_NE(api, std::string::npos) << out;
  EXPECT_LT(main_done, database) << out;  // 100 ms of other work, then the 300 ms fetch
  EXPECT_LT(database, api) << out;        // then the 500 ms one
  EXPECT_NE(out.find("Result from Task 1: 'Data from API Server'"), std::string::npos) << out;
  // The fetches overlapped: all of it took at least the slower fetch, and less than both in turn.
  const double total = number_after(out, "Both fetches done after");
  EXPECT_GE(total, 500) << out;
  EXPECT_LT(total, 500 + 300) << out;
}

TEST(ManySleepers, ThousandsOfOneSecondSleepsTakeAboutOneSecond) {
  const auto result = run_program({MANY_SLEEPERS_BIN, "5000"});
  ASSERT_EQ(result.exit_code, 0) << result.out;
  const double seconds = number_after(result.out, "all joined after");
  EXPECT_GE(seconds, 1.0) << result.out;
  EXPECT_LT(seconds, 10.0) << result.out;  // one after another would be 5,000 s
  EXPECT_GT(number_after(result.out, "MiB before spawning):"), 0) << result.out;
}

TEST(SpawnVsBlocking, ABlockingSleepDelaysTheTickerOnlyInsideSpawn) {
  // The 200 ms sleep holds the only worker: a tick waits for all of it. On the pool the ticker
  // is later only by what a loaded machine adds, which may once be a whole stall of the
  // process: up to three runs (a sleep inside spawn is late in every one).
  brigade::test::ProgramOutput result;
  double in_task = 0;
  double on_pool = 0;
  for (int attempt = 0; attempt < 3 && !(on_pool < in_task / 2); ++attempt) {
    result = run_program({SPAWN_VS_BLOCKING_BIN});
    ASSERT_EQ(result.exit_code, 0) << result.out;
    in_task = number_after(result.out, "inside spawn:          worst ticker lateness");
    on_pool = number_after(result.out, "inside spawn_blocking: worst ticker lateness");
    EXPECT_GE(in_task, 150) << result.out;
  }
  EXPECT_LT(on_pool, in_task / 2) << result.out;
  const auto& out = result.out;
  EXPECT_NE(out.find("spawn          ran on brigade-w0"), std::string::npos) << out;
  EXPECT_NE(out.find("spawn_blocking ran on brigade-blk"), std::string::npos) << out;
  EXPECT_EQ(number_after(out, "primes below 200,000:"), 17'984) << out;
  EXPECT_EQ(number_after(out, "below 400,000:"), 33'860) << out;
  EXPECT_NE(out.find("panicked: async task failed"), std::string::npos) << out;
  EXPECT_NE(out.find("panicked: blocking closure failed"), std::string::npos) << out;
}

// A client connection to tcp_echo on the loopback interface.
class Client {
 public:
  explicit Client(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { ::close(fd_); }

  bool connected() const { return connected_; }
  bool send(const std::string& text) {
    return ::send(fd_, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
  }
  // Exactly `size` bytes, or what arrived before the connection closed.
  std::string receive(std::size_t size) {
    std::string text(size, '\0');
    const ssize_t got = ::recv(fd_, text.data(), size, MSG_WAITALL);
    text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    return text;
  }
  bool closed_by_server() {
    char byte = 0;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  int fd_;
  bool connected_ = false;
};

// tcp_echo on a free port: three connections open at once, each served by its own task (three
// running), each echoing only what was sent on it, in whatever order the clients talk; SIGTERM
// closes all three.
TEST(TcpEcho, EachConnectionIsATaskOfItsOwnAndSigtermClosesThemAll) {
  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    ::execl(TCP_ECHO_BIN, TCP_ECHO_BIN, "127.0.0.1:0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  FILE* out = ::fdopen(out_pipe[0], "r");
  ASSERT_NE(out, nullptr);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof line, out), nullptr);  // "tcp_echo: listening on ADDR:PORT"
  const double port = number_after(line, "127.0.0.1:");
  ASSERT_GT(port, 0) << line;

  {
    Client first(static_cast<int>(port));
    Client second(static_cast<int>(port));
    Client third(static_cast<int>(port));
    ASSERT_TRUE(first.connected() && second.connected() && third.connected());
    // The first speaks, then the third speaks before the first reads its answer; the second, the
    // last to speak, is answered first.
    ASSERT_TRUE(first.send("one, from the first\n"));
    ASSERT_TRUE(third.send("three, from the third\n"));
    ASSERT_TRUE(second.send("two\n"));
    EXPECT_EQ(second.receive(4), "two\n");
    EXPECT_EQ(third.receive(22), "three, from the third\n");
    EXPECT_EQ(first.receive(20), "one, from the first\n");
    // Still served after the others have spoken: each has a task of its own.
    ASSERT_TRUE(first.send("again\n"));
    EXPECT_EQ(first.receive(6), "again\n");

    ::kill(pid, SIGTERM);
    // A line per connection accepted, then the shutdown's.
    std::string said;
    while (said.find("SIGTERM received") == std::string::npos &&
           std::fgets(line, sizeof line, out) != nullptr) {
      said += line;
    }
    EXPECT_NE(said.find("connected, 3 connection tasks running"), std::string::npos) << said;
    EXPECT_NE(said.find("SIGTERM received: stopped accepting, closed 3 connections"),
              std::string::npos)
        << said;
    EXPECT_TRUE(first.closed_by_server());
    EXPECT_TRUE(second.closed_by_server());
    EXPECT_TRUE(third.closed_by_server());
  }
  std::fclose(out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
