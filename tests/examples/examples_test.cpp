// The runtime's first examples (concurrent_fetch, many_sleepers, spawn_vs_blocking, tcp_echo)
// run as programs, and what they print checked.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

// tcp_echo on a free port: echoes a line, then stops on SIGTERM, closing the open connection.
TEST(TcpEcho, EchoesAndClosesItsConnectionsOnSigterm) {
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

  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string hello = "hello, brigade\n";
  ASSERT_EQ(::send(client, hello.data(), hello.size(), 0), static_cast<ssize_t>(hello.size()));
  std::string echoed(hello.size(), '\0');
  ASSERT_EQ(::recv(client, echoed.data(), echoed.size(), MSG_WAITALL),
            static_cast<ssize_t>(hello.size()));
  EXPECT_EQ(echoed, hello);

  ::kill(pid, SIGTERM);
  ASSERT_NE(std::fgets(line, sizeof line, out), nullptr);
  EXPECT_NE(std::string(line).find("SIGTERM received: stopped accepting, closed 1 connection"),
            std::string::npos)
      << line;
  char byte = 0;
  EXPECT_EQ(::recv(client, &byte, 1, 0), 0);  // the server closed our connection
  ::close(client);
  std::fclose(out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
