#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"

// The real `brigade` binary (BRIGADE_BIN, set by CMake for each test that starts it) running as a
// child process on a free loopback port: what the end-to-end tests talk to.
namespace brigade::testing {

// Generous: the ASan build starts and answers several times slower.
inline constexpr auto kBrigadeStartTimeout = std::chrono::seconds(20);
inline constexpr auto kBrigadeExitTimeout = std::chrono::seconds(20);

// The port in the start-up line's "address=127.0.0.1:PORT" (text) or "address":"..." (json).
inline std::uint16_t port_of(const std::string& line) {
  for (const std::string_view key : {"address=", "\"address\":\""}) {
    const std::size_t at = line.find(key);
    if (at == std::string::npos) continue;
    const std::size_t end = line.find_first_of(" \"", at + key.size());
    const std::string address = line.substr(at + key.size(), end - at - key.size());
    return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  }
  throw std::runtime_error("no address in the start-up line: " + line);
}

// Started with `flags` after --listen 127.0.0.1:0 --worker-threads 2, and `env`. Unless the test
// stopped it, it is stopped with SIGTERM at the end of the test and must exit 0: every test also
// checks a clean shutdown (and, in the ASan build, that the server exits without leaks).
class RunningBrigade {
 public:
  explicit RunningBrigade(std::vector<std::string> flags = {}, std::vector<std::string> env = {}) {
    flags.insert(flags.begin(), {"--listen", "127.0.0.1:0", "--worker-threads", "2"});
    child_ = std::make_unique<ChildProcess>(BRIGADE_BIN, std::move(flags), std::move(env));
    const auto line = child_->wait_for_stderr_line("brigade started", kBrigadeStartTimeout);
    if (!line) throw std::runtime_error("no start-up line; stderr:\n" + child_->stderr_text());
    start_line_ = *line;
    port_ = port_of(*line);
  }

  RunningBrigade(const RunningBrigade&) = delete;
  RunningBrigade& operator=(const RunningBrigade&) = delete;
  ~RunningBrigade() {
    if (child_->exited()) return;
    child_->signal(SIGTERM);
    EXPECT_EQ(child_->wait_exit_code(kBrigadeExitTimeout), 0)
        << "brigade did not shut down cleanly; stderr:\n"
        << child_->stderr_text();
  }

  std::uint16_t port() const noexcept { return port_; }
  const std::string& start_line() const noexcept { return start_line_; }
  ChildProcess& process() noexcept { return *child_; }
  Response get(std::string_view target) { return Client(port_).get(target); }
  Response post(std::string_view target, std::string body) {
    return Client(port_).request(http::verb::post, target, std::move(body));
  }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::string start_line_;
  std::uint16_t port_ = 0;
};

}  // namespace brigade::testing
