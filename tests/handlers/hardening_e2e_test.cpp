// End-to-end tests of the server's hardening against the real `brigade` binary: the memory that
// hostile uploads can take stays under max_buffered_body_bytes while GET / is still answered,
// and handlers whose client has gone (/sleep, /fanout, /cpu) are cancelled and counted. The
// runtime's figures come from GET /debug/runtime and GET /metrics, polled with a deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "raw_client.hpp"
#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // ASan's quarantine keeps freed memory resident
#else
constexpr bool kSanitized = false;
#endif

// The integer after `"key":` in a JSON text, or -1.
std::int64_t json_integer(std::string_view text, std::string_view key) {
  std::string needle = "\"";  // appended in parts: GCC 12 warns (-Wrestrict) about "\"" + key
  needle += key;
  needle += "\":";
  const std::size_t at = text.find(needle);
  if (at == std::string_view::npos) return -1;
  return std::stoll(std::string(text.substr(at + needle.size(), 20)));
}

std::int64_t tasks_alive(RunningBrigade& server) {
  return json_integer(server.get("/debug/runtime").body(), "alive");
}

// The value of the sample `series` (name and labels, as written) in GET /metrics, or 0.
double metric(RunningBrigade& server, std::string_view series) {
  const std::string text = server.get("/metrics").body();
  std::string line = "\n";  // appended in parts: GCC 12 warns (-Wrestrict) about "\n" + series
  line += series;
  line += ' ';
  const std::size_t at = text.find(line);
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size() + 2, 30));
}

// A figure in kB from /proc/PID/status ("VmRSS:", "VmHWM:"), in bytes.
std::size_t status_bytes(int pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) return std::stoul(line.substr(field.size())) * 1024;
  }
  return 0;
}

template <class Pred>
bool within(std::chrono::milliseconds limit, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// ---- the body budget ---------------------------------------------------------------------------

// 64 clients each upload 16 MiB to POST /hash, slowly, with the default settings: bodies held
// at once stay under max_buffered_body_bytes (64 MiB by default), those that would pass it get
// 503 with Retry-After, GET / keeps being answered, and the server's resident memory stays under
// the budget plus 40 MiB (the process itself, the connections, the blocking pool's threads).
TEST(BrigadeBodyBudget, SlowUploadsCannotTakeMoreThanTheBudget) {
  RunningBrigade server;
  constexpr std::size_t kClients = 64;
  constexpr std::size_t kBody = 16 << 20;
  constexpr std::size_t kPiece = 256 << 10;
  constexpr std::size_t kBudget = 64 << 20;
  constexpr std::size_t kOverhead = 40 << 20;

  std::atomic<int> hashed{0};
  std::atomic<int> refused{0};
  std::atomic<int> done{0};
  std::vector<std::thread> uploads;
  for (std::size_t i = 0; i < kClients; ++i) {
    uploads.emplace_back([&, port = server.port()] {
      RawClient raw(port);
      const std::string piece(kPiece, 'u');
      try {
        raw.send("POST /hash HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kBody) +
                 "\r\n\r\n");
        for (std::size_t sent = 0; sent < kBody; sent += kPiece) {
          raw.send(piece);
          std::this_thread::sleep_for(10ms);  // slow, so that many are in progress at once
        }
      } catch (const std::system_error&) {
        // Refused: the server stopped reading and closed.
      }
      const std::string answer = raw.read_until("\r\n\r\n", 60s);
      if (answer.starts_with("HTTP/1.1 200 ")) hashed.fetch_add(1);
      if (answer.starts_with("HTTP/1.1 503 ") &&
          answer.find("Retry-After: 1\r\n") != std::string::npos) {
        refused.fetch_add(1);
      }
      done.fetch_add(1);
    });
  }
  std::size_t peak = 0;
  int answered = 0;
  while (done.load() < static_cast<int>(kClients)) {
    const Response hello = server.get("/");
    ASSERT_EQ(hello.result_int(), 200);
    ++answered;
    peak = std::max(peak, status_bytes(server.process().pid(), "VmRSS:"));
  }
  for (auto& upload : uploads) upload.join();

  EXPECT_GT(hashed.load(), 0);
  EXPECT_GT(refused.load(), 0);
  EXPECT_EQ(hashed.load() + refused.load(), static_cast<int>(kClients));
  EXPECT_GT(answered, 0);
  RecordProperty("peak_resident_bytes", std::to_string(peak));
  std::printf("64 uploads of 16 MiB: %d hashed, %d refused, peak RSS %.1f MiB, %d GET / answered\n",
              hashed.load(), refused.load(), static_cast<double>(peak) / (1 << 20), answered);
  if (!kSanitized) {
    EXPECT_LT(peak, kBudget + kOverhead);
  }
}

// POST /echo of 16 MiB: the body is held once, not twice (request body plus a copy in the output
// buffer). The process's peak resident memory (VmHWM) grows by less than one and a half bodies.
TEST(BrigadeBodyBudget, EchoHoldsALargeBodyOnce) {
  RunningBrigade server;
  constexpr std::size_t kBody = 16 << 20;
  ASSERT_EQ(server.post("/echo", std::string(1000, 'w')).result_int(), 200);
  const std::size_t before = status_bytes(server.process().pid(), "VmHWM:");
  RawClient raw(server.port());
  raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
           std::to_string(kBody) + "\r\n\r\n" + std::string(kBody, 'e'));
  const std::string echoed = raw.read_until_closed(60s);
  EXPECT_TRUE(echoed.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(echoed.ends_with("\r\n\r\n" + std::string(kBody, 'e')));
  const std::size_t peak = status_bytes(server.process().pid(), "VmHWM:");
  std::printf("echo of 16 MiB: peak resident memory grew by %.1f MiB\n",
              static_cast<double>(peak - before) / (1 << 20));
  if (!kSanitized) {
    EXPECT_LT(peak - before, kBody + kBody / 2);
  }
}

// ---- clients that go away ----------------------------------------------------------------------

// A client that closes 100 ms into a long request frees what the request holds within a few ms
// (the generous deadline is far below the handler's own duration).
TEST(BrigadeClientGone, AbandonedSleepAndFanoutAreCancelled) {
  RunningBrigade server;
  const std::int64_t baseline = tasks_alive(server);
  for (const std::string_view target : {"/sleep?ms=30000", "/fanout?n=1000&ms=10000"}) {
    SCOPED_TRACE(target);
    {
      RawClient raw(server.port());
      raw.send("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n");
      std::this_thread::sleep_for(100ms);  // the scenario: the client gives up after 100 ms
      if (target.starts_with("/fanout")) {
        EXPECT_GE(tasks_alive(server), baseline + 1000);
      }
    }
    EXPECT_TRUE(within(3s, [&] { return tasks_alive(server) <= baseline; }))
        << tasks_alive(server) << " tasks alive, " << baseline << " before";
  }
  EXPECT_EQ(metric(server, R"(brigade_http_requests_cancelled_total{route="/sleep"})"), 1);
  EXPECT_EQ(metric(server, R"(brigade_http_requests_cancelled_total{route="/fanout"})"), 1);
}

// A blocking job already running finishes on its thread; its result is dropped and the server
// goes on.
TEST(BrigadeClientGone, AbandonedBlockingJobFinishesAndIsDropped) {
  RunningBrigade server;
  {
    RawClient raw(server.port());
    raw.send("GET /cpu?work=100000 HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(within(5s, [&] {
      const std::string now = server.get("/debug/runtime").body();
      return json_integer(std::string_view(now).substr(now.find("\"blocking\"")), "spawned") > 0;
    }));
    raw.close(true);
  }
  EXPECT_TRUE(within(5s, [&] {
    return metric(server, R"(brigade_http_requests_cancelled_total{route="/cpu"})") == 1;
  }));
  const std::string snapshot = server.get("/debug/runtime").body();
  EXPECT_TRUE(within(30s, [&] {
    const std::string now = server.get("/debug/runtime").body();
    return json_integer(now, "threads") == json_integer(now, "idle_threads");
  })) << snapshot;
  EXPECT_EQ(server.get("/cpu?work=10").result_int(), 200);
}

}  // namespace
}  // namespace brigade::testing
