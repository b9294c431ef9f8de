// The access log of the real `brigade` binary: requests of every kind (a GET with a user agent,
// a 404, a POST with a body, a malformed request answered 400 by the parser) each produce one
// JSON line in the access_log file, parsed back with Boost.JSON. And a destination nobody reads
// costs dropped lines, counted in /metrics, never unanswered requests.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "brigade-access-e2e-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The writer thread writes within its flush interval: wait for the lines to be there.
std::vector<std::string> wait_for_lines(const fs::path& file, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    std::vector<std::string> lines = lines_of(file);
    if (lines.size() >= count || std::chrono::steady_clock::now() > deadline) return lines;
    std::this_thread::sleep_for(20ms);
  }
}

// The counter's value in a Prometheus text exposition, -1 if absent.
double sample(const std::string& exposition, const std::string& name) {
  const std::size_t at = exposition.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(exposition.substr(at + name.size() + 2));
}

// A request line the parser refuses: the server answers 400 and closes.
std::string send_malformed(std::uint16_t port) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  const std::string bad = "GET /bad\x01path HTTP/1.1\r\nHost: x\r\n\r\n";
  asio::write(socket, asio::buffer(bad));
  std::string answer;
  boost::system::error_code error;
  asio::read(socket, asio::dynamic_buffer(answer), error);  // until the server closes
  return answer;
}

TEST(AccessLog, EveryRequestIsOneJsonLineWithItsFields) {
  const TempDir dir;
  const fs::path file = dir.path() / "access.log";
  RunningBrigade server({"--access-log", file.string()});

  Client client(server.port());
  http::request<http::string_body> get{http::verb::get, "/?q=1", 11};
  get.set(http::field::host, "127.0.0.1");
  get.set(http::field::user_agent, "access-log-test/1.0 \"quoted\"");
  client.send(get);
  EXPECT_EQ(client.receive().result_int(), 200);
  EXPECT_EQ(client.get("/no/such/route").result_int(), 404);
  const Response echoed = client.request(http::verb::post, "/echo", "hello body");
  EXPECT_EQ(echoed.body(), "hello body");
  EXPECT_EQ(send_malformed(server.port()).substr(0, 12), "HTTP/1.1 400");

  const std::vector<std::string> lines = wait_for_lines(file, 4);
  ASSERT_EQ(lines.size(), 4u);
  std::vector<json::object> objects;
  for (const std::string& line : lines) {
    boost::system::error_code error;
    json::value value = json::parse(line, error);
    ASSERT_FALSE(error) << error.message() << ": " << line;
    ASSERT_TRUE(value.is_object()) << line;
    objects.push_back(std::move(value.as_object()));
  }
  for (const json::object& object : objects) {
    for (const char* key : {"time", "peer", "method", "target", "protocol", "status", "bytes",
                            "request_bytes", "response_bytes", "duration", "route", "user_agent"}) {
      EXPECT_TRUE(object.contains(key)) << key << " missing in " << json::serialize(object);
    }
    const std::string time(object.at("time").as_string());
    EXPECT_EQ(time.size(), 24u) << time;  // 2025-01-31T12:00:00.123Z
    EXPECT_EQ(time.back(), 'Z') << time;
    EXPECT_EQ(std::string(object.at("peer").as_string()).rfind("127.0.0.1:", 0), 0u);
    EXPECT_GE(object.at("duration").as_double(), 0.0);
  }
  EXPECT_EQ(objects[0].at("method").as_string(), "GET");
  EXPECT_EQ(objects[0].at("target").as_string(), "/?q=1");
  EXPECT_EQ(objects[0].at("protocol").as_string(), "HTTP/1.1");
  EXPECT_EQ(objects[0].at("status").as_int64(), 200);
  EXPECT_EQ(objects[0].at("route").as_string(), "/");
  EXPECT_EQ(objects[0].at("user_agent").as_string(), "access-log-test/1.0 \"quoted\"");
  // All on one connection: the same peer.
  EXPECT_EQ(objects[0].at("peer"), objects[1].at("peer"));
  EXPECT_EQ(objects[1].at("status").as_int64(), 404);
  EXPECT_EQ(objects[1].at("target").as_string(), "/no/such/route");
  EXPECT_EQ(objects[1].at("route").as_string(), "");
  EXPECT_EQ(objects[2].at("method").as_string(), "POST");
  EXPECT_EQ(objects[2].at("status").as_int64(), 200);
  EXPECT_EQ(objects[2].at("bytes").as_int64(), 10);  // "hello body"
  EXPECT_GT(objects[2].at("request_bytes").as_int64(), 10);
  EXPECT_GT(objects[2].at("response_bytes").as_int64(), 10);
  EXPECT_EQ(objects[3].at("status").as_int64(), 400);
  EXPECT_NE(objects[3].at("peer"), objects[0].at("peer"));

  const std::string metrics = server.get("/metrics").body();
  EXPECT_GE(sample(metrics, "brigade_access_log_written_total"), 4) << metrics;
  EXPECT_EQ(sample(metrics, "brigade_access_log_dropped_total"), 0) << metrics;
}

// The log's destination is a pipe nobody reads (a FIFO held open by this test, never read): the
// writer is stuck, its queue fills, and lines are dropped and counted while every request is
// still answered; at SIGTERM the writer gives up on what is left and the server exits 0.
TEST(AccessLog, ADestinationThatCannotKeepUpCostsLinesNotRequests) {
  const TempDir dir;
  const fs::path fifo = dir.path() / "access.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The reader end first: the server's open for writing needs one. Never read.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  {
    RunningBrigade server({"--access-log", fifo.string(), "--access-log-queue", "16"});
    Client client(server.port());
    constexpr int kRequests = 2000;  // ~250 bytes a line: several times what a pipe holds
    for (int i = 0; i < kRequests; ++i) {
      const Response answer = client.get("/?n=" + std::to_string(i));
      ASSERT_EQ(answer.result_int(), 200) << "request " << i;
    }
    const std::string metrics = client.get("/metrics").body();
    EXPECT_GT(sample(metrics, "brigade_access_log_dropped_total"), 0) << metrics;
    EXPECT_LT(sample(metrics, "brigade_access_log_written_total"), kRequests) << metrics;
  }  // SIGTERM, and exit code 0 within the test's exit timeout
  ::close(reader);
}

// A file the server cannot open is a start-up error naming the key.
TEST(AccessLog, AFileThatCannotBeOpenedStopsTheStartUp) {
  const TempDir dir;
  const fs::path fifo = dir.path() / "no-reader.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);  // a FIFO without a reader cannot be opened
  ChildProcess child(BRIGADE_BIN, {"--listen", "127.0.0.1:0", "--access-log", fifo.string()}, {});
  const auto code = child.wait_exit_code(kBrigadeExitTimeout);
  EXPECT_NE(code, std::optional<int>(0));
  EXPECT_NE(child.stderr_text().find("access_log"), std::string::npos) << child.stderr_text();
}

}  // namespace
}  // namespace brigade::testing
