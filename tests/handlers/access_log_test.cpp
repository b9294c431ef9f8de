// The access log's parts without a server: the bounded queue between workers and the writer
// thread, the writer itself (order, flush at close, drops when the destination is stuck), and
// the JSON line with its escaping, checked by an independent parser (Boost.JSON).
#include "access_log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "access_log_writer.hpp"
#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/server/http.hpp"
#include "line_queue.hpp"

namespace brigade::app {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(LineQueue, DropsWhenFullAndKeepsTheOrder) {
  LineQueue queue(4, 1024);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(queue.push(std::to_string(i)), LineQueue::Pushed::queued);
  }
  EXPECT_EQ(queue.push("4"), LineQueue::Pushed::dropped);
  std::vector<std::string> taken;
  ASSERT_TRUE(queue.take(taken, 0ms));
  EXPECT_EQ(taken, (std::vector<std::string>{"0", "1", "2", "3"}));
  // The ring wraps around: room again, still in order.
  for (int i = 5; i < 8; ++i) EXPECT_EQ(queue.push(std::to_string(i)), LineQueue::Pushed::queued);
  taken.clear();
  ASSERT_TRUE(queue.take(taken, 0ms));
  EXPECT_EQ(taken, (std::vector<std::string>{"5", "6", "7"}));
}

TEST(LineQueue, DropsWhatWouldPassItsBytes) {
  LineQueue queue(100, 10);
  EXPECT_EQ(queue.push("123456"), LineQueue::Pushed::queued);
  EXPECT_EQ(queue.push("12345"), LineQueue::Pushed::dropped);
  EXPECT_EQ(queue.push("1234"), LineQueue::Pushed::queued);
  std::vector<std::string> taken;
  ASSERT_TRUE(queue.take(taken, 0ms));
  EXPECT_EQ(taken, (std::vector<std::string>{"123456", "1234"}));
  EXPECT_EQ(queue.push("1234567890"), LineQueue::Pushed::queued);  // room again once taken
}

TEST(LineQueue, CloseRefusesNewLinesAndHandsOverTheRest) {
  LineQueue queue(8, 1024);
  EXPECT_EQ(queue.push("a"), LineQueue::Pushed::queued);
  queue.close();
  EXPECT_EQ(queue.push("b"), LineQueue::Pushed::dropped);
  std::vector<std::string> taken;
  EXPECT_TRUE(queue.take(taken, 1h));  // closed: no waiting
  EXPECT_EQ(taken, std::vector<std::string>{"a"});
  taken.clear();
  EXPECT_FALSE(queue.take(taken, 1h));
}

class TempFile {
 public:
  TempFile() {
    std::string pattern = (fs::temp_directory_path() / "brigade-access-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd >= 0) ::close(fd);
    path_ = pattern;
  }
  ~TempFile() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> result;
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }

 private:
  fs::path path_;
};

TEST(AccessLogWriter, WritesEveryLineInOrderAndFlushesAtClose) {
  const TempFile file;
  auto writer = AccessLogWriter::open(file.path().string(), 4096);
  ASSERT_TRUE(writer) << writer.error();
  constexpr int kLines = 3000;
  for (int i = 0; i < kLines; ++i) (*writer)->submit("line " + std::to_string(i) + "\n");
  (*writer)->close();
  EXPECT_EQ((*writer)->written(), static_cast<std::uint64_t>(kLines));
  EXPECT_EQ((*writer)->dropped(), 0u);
  const std::vector<std::string> lines = file.lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  for (int i = 0; i < kLines; ++i) ASSERT_EQ(lines[i], "line " + std::to_string(i));
}

// A destination nobody reads (a pipe whose reader never reads): submitting never waits, what
// does not fit is dropped and counted, and close() gives up after its limit instead of hanging.
TEST(AccessLogWriter, StuckDestinationDropsAndCountsInsteadOfBlocking) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  // Full already, and blocking again afterwards, as an inherited stdout would be.
  ASSERT_EQ(::fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK), 0);
  const std::string filler(4096, 'f');
  while (::write(pipe_fds[1], filler.data(), filler.size()) > 0) {
  }
  ASSERT_EQ(::fcntl(pipe_fds[1], F_SETFL, 0), 0);
  {
    AccessLogWriter writer(pipe_fds[1], true, 16);
    constexpr std::uint64_t kLines = 5000;
    const std::string line(200, 'x');
    for (std::uint64_t i = 0; i < kLines; ++i) writer.submit(line + "\n");
    EXPECT_GT(writer.dropped(), 0u);
    writer.close();
    EXPECT_EQ(writer.written(), 0u);
    EXPECT_EQ(writer.dropped(), kLines);
  }
  ::close(pipe_fds[0]);
}

TEST(AccessLogWriter, OpeningAMissingDirectoryFailsWithTheReason) {
  const auto writer = AccessLogWriter::open("/nonexistent-brigade-dir/access.log", 16);
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.error().find("No such file"), std::string::npos) << writer.error();
}

TEST(JsonEscape, EscapesWhatJsonRequiresAndReplacesBytesThatAreNotUtf8) {
  using server::json_escape;
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(json_escape(std::string_view("\x01\x1f\x00", 3)), "\\u0001\\u001f\\u0000");
  EXPECT_EQ(json_escape("\x7f"), "\x7f");  // DEL is allowed in JSON strings
  // Well-formed UTF-8 passes unchanged: é, €, U+1F600.
  EXPECT_EQ(json_escape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // A stray byte, a truncated sequence, an overlong '/', a surrogate, beyond U+10FFFF.
  EXPECT_EQ(json_escape("a\xff"
                        "b"),
            "a\\ufffdb");
  EXPECT_EQ(json_escape("\xc3"), "\\ufffd");
  EXPECT_EQ(json_escape("\xc0\xaf"), "\\ufffd\\ufffd");
  EXPECT_EQ(json_escape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(json_escape("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
}

TEST(AccessLogLine, IsOneJsonObjectWithTheOperatorsFields) {
  server::Request request;
  request.method = "GET";
  request.target = "/files/a\xff\"b";
  request.version_minor = 0;
  request.route = "/files/{name}";
  request.headers.add("User-Agent", "tester \"1.0\"\x01");
  const auto peer = runtime::net::SocketAddr::parse("10.1.2.3:4567");
  ASSERT_TRUE(peer);
  const server::Exchange exchange{.status = 404,
                                  .request_bytes = 90,
                                  .response_bytes = 150,
                                  .response_body_bytes = 21,
                                  .duration = 1500us,
                                  .peer = &*peer};
  const auto at = std::chrono::system_clock::time_point(1'700'000'000'123ms);
  const std::string line = access_log_line(request, exchange, at);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);

  boost::system::error_code error;
  const boost::json::value parsed = boost::json::parse(line, error);
  ASSERT_FALSE(error) << error.message() << ": " << line;
  const boost::json::object& object = parsed.as_object();
  EXPECT_EQ(object.at("time").as_string(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(object.at("peer").as_string(), "10.1.2.3:4567");
  EXPECT_EQ(object.at("method").as_string(), "GET");
  EXPECT_EQ(object.at("target").as_string(), "/files/a\xef\xbf\xbd\"b");
  EXPECT_EQ(object.at("protocol").as_string(), "HTTP/1.0");
  EXPECT_EQ(object.at("status").as_int64(), 404);
  EXPECT_EQ(object.at("bytes").as_int64(), 21);
  EXPECT_EQ(object.at("request_bytes").as_int64(), 90);
  EXPECT_EQ(object.at("response_bytes").as_int64(), 150);
  EXPECT_DOUBLE_EQ(object.at("duration").as_double(), 0.0015);
  EXPECT_EQ(object.at("route").as_string(), "/files/{name}");
  EXPECT_EQ(object.at("user_agent").as_string(), "tester \"1.0\"\x01");
  EXPECT_TRUE(object.at("referer").is_null());
  EXPECT_TRUE(object.at("forwarded_for").is_null());
}

}  // namespace
}  // namespace brigade::app
