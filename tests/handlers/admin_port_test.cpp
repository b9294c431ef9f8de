// The admin listener of the real `brigade` binary (admin_listen): the operational endpoints on
// their own plain-HTTP port, outside max_connections, and off the main port; and
// `brigade healthcheck`, which reads the server's settings (BRIGADE_CONFIG included) and probes it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::uint16_t admin_port_of(const std::string& start_line) {
  return port_of(start_line.substr(start_line.find("admin_address=") + 6));
}

// A directory for the test's files, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "brigade-admin-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { fs::remove_all(path_); }

  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  fs::path path_;
};

int run_to_exit(std::vector<std::string> args, std::vector<std::string> env = {}) {
  ChildProcess child(BRIGADE_BIN, std::move(args), std::move(env));
  return child.wait_exit_code(kBrigadeExitTimeout).value_or(-1);
}

TEST(AdminPort, ServesTheOperationalEndpointsAndTheMainPortKeepsOnlyTheProbes) {
  RunningBrigade server({"--admin-listen", "127.0.0.1:0"});
  const std::uint16_t admin = admin_port_of(server.start_line());
  ASSERT_NE(admin, server.port());
  for (const char* target : {"/metrics", "/debug/runtime", "/healthz", "/readyz"}) {
    EXPECT_EQ(Client(admin).get(target).result_int(), 200) << target;
  }
  EXPECT_EQ(Client(admin).get("/").result_int(), 404);
  EXPECT_EQ(server.get("/metrics").result_int(), 404);
  EXPECT_EQ(server.get("/debug/runtime").result_int(), 404);
  EXPECT_EQ(server.get("/healthz").result_int(), 200);
  EXPECT_EQ(server.get("/readyz").result_int(), 200);
}

// The admin port answers while the main port is full.
TEST(AdminPort, AnswersWhenTheMainPortIsAtMaxConnections) {
  RunningBrigade server({"--admin-listen", "127.0.0.1:0", "--max-connections", "1"});
  const std::uint16_t admin = admin_port_of(server.start_line());
  Client holder(server.port());
  EXPECT_EQ(holder.get("/").result_int(), 200);
  EXPECT_EQ(server.get("/").result_int(), 503);
  Client scraper(admin);
  EXPECT_EQ(scraper.get("/healthz").result_int(), 200);
  EXPECT_EQ(scraper.get("/metrics").result_int(), 200);
}

// The healthcheck finds the admin port in the file BRIGADE_CONFIG names, as in the image, even
// when the main port speaks TLS (the certificate is not read by the check).
TEST(AdminPort, HealthcheckReadsBrigadeConfigAndProbesTheAdminPort) {
  RunningBrigade server({"--admin-listen", "127.0.0.1:0"});
  const std::uint16_t admin = admin_port_of(server.start_line());
  const TempDir dir;
  const fs::path cert = dir.write("cert.pem", "not read by the healthcheck\n");
  const fs::path config = dir.write(
      "brigade.toml",
      "listen = \"127.0.0.1:1\"\nadmin_listen = \"0.0.0.0:" + std::to_string(admin) +
          "\"\ntls_cert = \"" + cert.string() + "\"\ntls_key = \"" + cert.string() + "\"\n");
  EXPECT_EQ(run_to_exit({"healthcheck"}, {"BRIGADE_CONFIG=" + config.string()}), 0);

  // TLS on and no admin port: the check cannot speak to the server, and says why.
  ChildProcess refused(
      BRIGADE_BIN,
      {"healthcheck", "--admin-listen=", "--listen", "127.0.0.1:" + std::to_string(server.port())},
      {"BRIGADE_CONFIG=" + config.string()});
  EXPECT_EQ(refused.wait_exit_code(kBrigadeExitTimeout), 1);
  EXPECT_NE(refused.stderr_text().find("admin_listen"), std::string::npos) << refused.stderr_text();
}

}  // namespace
}  // namespace brigade::testing
