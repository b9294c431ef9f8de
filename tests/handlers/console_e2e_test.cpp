// `brigade console` in a real terminal: tmux (BRIGADE_TMUX) runs it in a detached session of
// fixed size against the real `brigade` binary, and the test reads the screen with
// `tmux capture-pane`: the headings and figures, figures that move when the test puts load on
// the server, the error line while nothing listens, and q restoring the terminal.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kPatience = 30s;  // only to fail instead of hanging

// A tmux server of the test's own (-L: its own socket, a new one for each test, so a test never
// meets the previous one's server shutting down), killed with its sessions at the end.
class Tmux {
 public:
  Tmux()
      : socket_("brigade-console-test-" + std::to_string(::getpid()) + "-" +
                std::to_string(servers_started++)) {}
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;
  ~Tmux() { run({"kill-server"}); }

  // The session runs `command` under sh, in a 100x40 terminal.
  void start(const std::string& command) {
    run({"new-session", "-d", "-s", "console", "-x", "100", "-y", "40", "sh", "-c", command});
  }
  std::string screen() { return run({"capture-pane", "-p", "-t", "console"}); }
  void press(const std::string& key) { run({"send-keys", "-t", "console", key}); }

  // Captures the screen until `done` holds for it; the last screen either way.
  std::string wait_for_screen(const std::function<bool(const std::string&)>& done) {
    std::string last = screen();
    for (const auto deadline = std::chrono::steady_clock::now() + kPatience;
         !done(last) && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(50ms);  // polling interval, not synchronisation
      last = screen();
    }
    return last;
  }

 private:
  std::string run(std::vector<std::string> args) {
    args.insert(args.begin(), {"-L", socket_});
    ChildProcess tmux(BRIGADE_TMUX, std::move(args));
    EXPECT_EQ(tmux.wait_exit_code(kPatience), 0) << tmux.stderr_text();
    return tmux.stdout_text();
  }

  static inline int servers_started = 0;
  std::string socket_;
};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::vector<std::string> lines_of(const std::string& screen) {
  std::vector<std::string> lines;
  std::istringstream in(screen);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// The rows under the WORKER heading: worker, busy, polls/s, steals/s, local queue, stalls.
std::vector<std::vector<std::string>> worker_rows(const std::string& screen) {
  std::vector<std::vector<std::string>> rows;
  bool in_table = false;
  for (const std::string& line : lines_of(screen)) {
    const auto row = words(line);
    if (!row.empty() && row[0] == "WORKER") {
      in_table = true;
    } else if (in_table && row.size() == 6) {
      rows.push_back(row);
    } else if (in_table) {
      break;
    }
  }
  return rows;
}

// The sum of the POLLS/S column; -1 before the console has two snapshots to compare.
long polls_per_second(const std::string& screen) {
  const auto rows = worker_rows(screen);
  long sum = rows.empty() ? -1 : 0;
  for (const auto& row : rows) {
    if (row[2] == "-") return -1;
    sum += std::stol(row[2]);
  }
  return sum;
}

// The N in "Blocking pool: N threads"; -1 when not on screen.
long blocking_threads(const std::string& screen) {
  const std::size_t at = screen.find("Blocking pool: ");
  return at == std::string::npos ? -1 : std::stol(screen.substr(at + 15));
}

std::uint16_t admin_port_of(const std::string& start_line) {
  return port_of(start_line.substr(start_line.find("admin_address=") + 6));
}

// A loopback port nothing listens on (bound, then released).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), size);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The console with `arguments`, then a line saying how it exited and whether the terminal's
// modes are as before.
std::string console_command(const std::string& arguments) {
  return "before=$(stty -g); echo before-console; " + std::string(BRIGADE_BIN) + " console " +
         arguments +
         " --interval 0.25; status=$?; "
         "if [ \"$(stty -g)\" = \"$before\" ]; then modes=restored; else modes=changed; fi; "
         "echo \"console exited $status, terminal $modes\"; exec sleep 600";
}

// Requests to the main port in a loop, CPU work on the blocking pool among them, until stopped.
class Load {
 public:
  explicit Load(std::uint16_t port) {
    for (int i = 0; i < 2; ++i) {
      threads_.emplace_back([this, port, i] {
        while (!stop_) {
          try {
            Client(port).get(i == 0 ? "/cpu?work=200" : "/");
          } catch (const std::exception&) {
            ++failures_;
          }
        }
      });
    }
  }
  ~Load() {
    stop_ = true;
    for (std::thread& thread : threads_) thread.join();
  }
  int failures() const { return failures_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::vector<std::thread> threads_;
};

TEST(Console, ShowsTheRuntimeMovesUnderLoadAndQuitsOnQRestoringTheTerminal) {
  RunningBrigade server{{"--admin-listen", "127.0.0.1:0"}};
  const std::uint16_t admin = admin_port_of(server.start_line());
  Tmux tmux;
  tmux.start(console_command("http://127.0.0.1:" + std::to_string(admin)));

  const std::string idle =
      tmux.wait_for_screen([](const std::string& s) { return polls_per_second(s) >= 0; });
  ASSERT_GE(polls_per_second(idle), 0) << idle;
  EXPECT_TRUE(contains(idle, "Brigade console  http://127.0.0.1:" + std::to_string(admin))) << idle;
  for (const std::string_view heading :
       {"Tasks: ", "Inject queue: ", "Blocking pool: ", "Stalls: ", "WORKER", "BUSY", "POLLS/S",
        "STEALS/S", "LOCAL QUEUE", "STALLS", "BUSIEST SPAWN SITES"}) {
    EXPECT_TRUE(contains(idle, heading)) << heading << " not in\n" << idle;
  }
  const auto rows = worker_rows(idle);
  ASSERT_EQ(rows.size(), 2u) << idle;  // --worker-threads 2
  EXPECT_EQ(rows[0][0], "0");
  EXPECT_EQ(rows[1][0], "1");
  EXPECT_TRUE(rows[0][1].ends_with("%")) << idle;
  // The accept loops (in the block_on root) and the signal task are always there.
  EXPECT_TRUE(contains(idle, "brigade::runtime::Runtime::block_on")) << idle;
  // Nothing offloaded yet but the console's own dumps (/debug/tasks runs on the blocking pool).
  EXPECT_LE(blocking_threads(idle), 1) << idle;

  {
    // /cpu keeps a pool thread busy: the console's next dump needs another.
    const Load load(server.port());
    const std::string busy = tmux.wait_for_screen([&](const std::string& s) {
      return blocking_threads(s) > blocking_threads(idle) &&
             polls_per_second(s) > polls_per_second(idle);
    });
    EXPECT_GT(blocking_threads(busy), blocking_threads(idle)) << busy;
    EXPECT_GT(polls_per_second(busy), polls_per_second(idle)) << "idle:\n"
                                                              << idle << "\nunder load:\n"
                                                              << busy;
    EXPECT_EQ(load.failures(), 0);
  }

  tmux.press("q");
  const std::string after =
      tmux.wait_for_screen([](const std::string& s) { return contains(s, "console exited"); });
  EXPECT_TRUE(contains(after, "console exited 0, terminal restored")) << after;
  // Back from the alternate screen: the shell's screen as it was, without the console's.
  EXPECT_TRUE(contains(after, "before-console")) << after;
  EXPECT_FALSE(contains(after, "WORKER")) << after;
}

TEST(Console, FindsTheServerFromItsSettingsSaysWhenItIsUnreachableAndRetriesUntilItAnswers) {
  const std::uint16_t port = free_port();
  Tmux tmux;
  // No URL: the server of these settings, as `brigade healthcheck` finds it.
  tmux.start(console_command("--admin-listen 127.0.0.1:" + std::to_string(port)));
  const std::string refused = tmux.wait_for_screen(
      [](const std::string& s) { return contains(s, "Connection refused (retrying)"); });
  EXPECT_TRUE(contains(refused, "Brigade console  http://127.0.0.1:" + std::to_string(port)))
      << refused;
  EXPECT_TRUE(contains(refused, "! GET /debug/runtime: connect to 127.0.0.1:" +
                                    std::to_string(port) + ": Connection refused (retrying)"))
      << refused;

  const RunningBrigade server{{"--admin-listen", "127.0.0.1:" + std::to_string(port)}};
  const std::string served =
      tmux.wait_for_screen([](const std::string& s) { return contains(s, "WORKER"); });
  EXPECT_TRUE(contains(served, "WORKER")) << served;
  EXPECT_FALSE(contains(served, "refused")) << served;

  tmux.press("C-c");
  const std::string after =
      tmux.wait_for_screen([](const std::string& s) { return contains(s, "console exited"); });
  EXPECT_TRUE(contains(after, "console exited 0, terminal restored")) << after;
}

}  // namespace
}  // namespace brigade::testing
