// Regression tests of the server's hardening, each over loopback against an in-process Server
// (two workers): deadlines of pipelined requests, bounds on chunk extensions and header fields,
// the budget of buffered request bodies, and handlers cancelled when their client goes away
// (while a half-closed client is still answered).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "brigade/runtime/time.hpp"
#include "brigade/server/http.hpp"
#include "brigade/server/router.hpp"
#include "brigade/server/server.hpp"
#include "raw_client.hpp"
#include "server_under_test.hpp"

namespace rt = brigade::runtime;
using brigade::server::Request;
using brigade::server::RequestObserver;
using brigade::server::Response;
using brigade::server::Router;
using brigade::server::ServerOptions;
using brigade::testing::eventually;
using brigade::testing::RawClient;
using brigade::testing::ServerUnderTest;
using namespace std::chrono_literals;

namespace {

std::atomic<int> running_handlers{0};  // /sleep handlers running now

// Counts a running handler until its frame is destroyed, by completion or cancellation.
struct Running {
  Running() { running_handlers.fetch_add(1); }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  ~Running() { running_handlers.fetch_sub(1); }
};

rt::Task<Response> hello(Request&) { co_return Response::text(200, "hello"); }

rt::Task<Response> echo(Request& request) {
  co_return Response::text(200, std::move(request.body));
}

rt::Task<Response> sleep_for(Request& request) {
  const Running running;
  const auto ms = request.query_param("ms");
  co_await rt::sleep(std::chrono::milliseconds(ms ? std::stoi(*ms) : 100));
  co_return Response::text(200, "slept");
}

Router hardening_router() {
  Router router;
  router.add("GET", "/", hello);
  router.add("POST", "/echo", echo);
  router.add("GET", "/sleep", sleep_for);
  return router;
}

struct CancelCounter final : RequestObserver {
  void on_request(const Request&, const brigade::server::Exchange&) override {}
  void on_request_cancelled(const Request& request) override {
    if (request.route == "/sleep") cancelled.fetch_add(1);
  }
  std::atomic<int> cancelled{0};
};

ServerOptions hardening_options() {
  ServerOptions options;
  options.max_header_bytes = 4096;
  options.max_body_bytes = 64 * 1024;
  options.header_timeout = 5s;
  options.body_timeout = 5s;
  options.grace_period = 5s;
  return options;
}

class TestServer : public ServerUnderTest {
 public:
  explicit TestServer(ServerOptions options = hardening_options())
      : ServerUnderTest(std::move(options), hardening_router()) {}
};

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// ---- 1. deadlines of pipelined requests --------------------------------------------------------

// The second request arrives with the first, its head incomplete; the first handler takes longer
// than header_timeout. The second's header deadline starts when the server turns to it, so the
// rest of its head, sent after the first answer, is in time.
TEST(PipelinedDeadlines, HeaderTimeoutStartsWhenTheRequestIsReached) {
  ServerOptions options = hardening_options();
  options.header_timeout = 200ms;
  TestServer server(options);
  RawClient raw(server.port());
  raw.send("GET /sleep?ms=400 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n");
  const std::string first = raw.read_until("slept");
  EXPECT_TRUE(first.starts_with("HTTP/1.1 200 OK")) << first;
  raw.send("\r\n");
  const std::string second = raw.read_until("hello");
  EXPECT_EQ(second.find("408"), std::string::npos) << second;
  EXPECT_NE(second.find("hello"), std::string::npos) << second;
}

TEST(PipelinedDeadlines, BodyTimeoutStartsWhenTheBodyIsReached) {
  ServerOptions options = hardening_options();
  options.body_timeout = 200ms;
  TestServer server(options);
  RawClient raw(server.port());
  raw.send(
      "GET /sleep?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc");
  const std::string first = raw.read_until("slept");
  EXPECT_TRUE(first.starts_with("HTTP/1.1 200 OK")) << first;
  raw.send("def");
  const std::string second = raw.read_until("abcdef");
  EXPECT_EQ(second.find("408"), std::string::npos) << second;
  EXPECT_NE(second.find("abcdef"), std::string::npos) << second;
}

// ---- 2. every byte of the head is bounded -----------------------------------------------------

// Empty extensions carry no name or value bytes, but every byte after ';' counts: refused long
// before the body timeout.
TEST(HeadBounds, EmptyChunkExtensionsAreCountedAndRefused) {
  ServerOptions options = hardening_options();
  options.body_timeout = 30s;
  TestServer server(options);
  RawClient raw(server.port());
  raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1");
  const auto start = std::chrono::steady_clock::now();
  try {
    for (int i = 0; i < 8; ++i) raw.send(std::string(4096, ';'));
  } catch (const std::system_error&) {
    // The server refused and closed while we were still sending.
  }
  const std::string answer = raw.read_until_closed(10s);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
  EXPECT_NE(answer.find("chunk extensions too long"), std::string::npos) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(HeadBounds, ChunkExtensionsWithinTheLimitAreAccepted) {
  TestServer server;
  RawClient raw(server.port());
  raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;" +
           std::string(1000, 'e') + "\r\nabc\r\n0\r\n\r\n");
  const std::string answer = raw.read_until("abc");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer;
}

std::string request_with_fields(std::size_t extra) {
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (std::size_t i = 0; i < extra; ++i) {
    request += 'a';  // appended in parts: GCC 12 warns (-Wrestrict) about "a" + to_string(i)
    request += std::to_string(i);
    request += ": b\r\n";
  }
  return request + "\r\n";
}

TEST(HeadBounds, MoreThanMaxHeadersFieldsGet431) {
  ServerOptions options = hardening_options();
  options.max_headers = 10;
  TestServer server(options);
  {
    RawClient raw(server.port());
    raw.send(request_with_fields(9));  // Host and 9 more: 10
    EXPECT_TRUE(raw.read_until("hello").starts_with("HTTP/1.1 200 OK"));
  }
  RawClient raw(server.port());
  raw.send(request_with_fields(10));
  const std::string answer = raw.read_until_closed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << answer;
  EXPECT_NE(answer.find("too many header fields"), std::string::npos) << answer;
}

TEST(HeadBounds, DefaultMaxHeadersIs100) {
  TestServer server;
  RawClient raw(server.port());
  raw.send(request_with_fields(100));
  EXPECT_TRUE(raw.read_until_closed().starts_with("HTTP/1.1 431 ")) << "101 fields were accepted";
}

// ---- 3. the budget of buffered bodies ---------------------------------------------------------

// The first upload holds most of the budget while its body trickles in; a second that does not
// fit is refused at once with 503 and Retry-After, before its body is read. Once the first is
// answered its share is free again.
TEST(BodyBudget, UploadsBeyondTheBudgetGet503UntilRoomIsFree) {
  ServerOptions options = hardening_options();
  options.max_body_bytes = 100'000;
  options.max_buffered_body_bytes = 150'000;
  TestServer server(options);
  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n";

  // 100 Continue comes once the server has taken the body's share.
  RawClient first(server.port());
  first.send(head + "Expect: 100-continue\r\n\r\n");
  ASSERT_TRUE(first.read_until("\r\n\r\n").starts_with("HTTP/1.1 100 Continue"));
  first.send(std::string(1000, 'a'));

  RawClient second(server.port());
  second.send(head + "\r\n");
  const std::string refused = second.read_until_closed();
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << refused;
  EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Connection: close\r\n"), std::string::npos) << refused;

  first.send(std::string(99'000, 'a'));
  EXPECT_TRUE(first.read_until(std::string(1000, 'a')).starts_with("HTTP/1.1 200 OK"));
  RawClient third(server.port());
  third.send(head + "\r\n" + std::string(100'000, 'b'));
  EXPECT_TRUE(third.read_until(std::string(1000, 'b')).starts_with("HTTP/1.1 200 OK"));
}

// A chunked body takes its share as it grows: one past the budget is refused at the chunk that
// would pass it, and the server goes on.
TEST(BodyBudget, ChunkedUploadIsRefusedWhenItOutgrowsTheBudget) {
  ServerOptions options = hardening_options();
  options.max_body_bytes = 100'000;
  options.max_buffered_body_bytes = 100'000;
  TestServer server(options);
  RawClient holder(server.port());
  holder.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 90000\r\n"
      "Expect: 100-continue\r\n\r\n");
  ASSERT_TRUE(holder.read_until("\r\n\r\n").starts_with("HTTP/1.1 100 Continue"));

  RawClient chunked(server.port());
  chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "4000\r\n" + std::string(0x4000, 'c') + "\r\n";
  try {
    for (int i = 0; i < 4; ++i) chunked.send(chunk);
  } catch (const std::system_error&) {
    // Refused while still sending.
  }
  const std::string refused = chunked.read_until_closed();
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << refused;

  RawClient small(server.port());
  small.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_TRUE(small.read_until("hello").starts_with("HTTP/1.1 200 OK"));
}

// ---- 4. a handler whose client has gone is cancelled -------------------------------------------

TEST(ClientGone, ClosingCancelsTheHandler) {
  for (const bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "reset" : "close");
    auto observer = std::make_shared<CancelCounter>();
    ServerOptions options = hardening_options();
    options.observer = observer;
    TestServer server(options);
    running_handlers.store(0);
    RawClient raw(server.port());
    raw.send("GET /sleep?ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(eventually([] { return running_handlers.load() == 1; }));
    raw.close(reset);
    // Far sooner than the handler's 30 s: its frame was destroyed.
    EXPECT_TRUE(eventually([] { return running_handlers.load() == 0; }, 5s));
    EXPECT_TRUE(eventually([&] { return server.server().active_connections() == 0; }, 5s));
    EXPECT_EQ(observer->cancelled.load(), 1);
  }
}

// A client that sent its requests and then shutdown(SHUT_WR) is still answered, every one.
TEST(ClientGone, HalfCloseIsNotADisconnect) {
  TestServer server;
  RawClient raw(server.port());
  raw.send(
      "GET /sleep?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /sleep?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n");
  raw.shutdown_write();
  const std::string answers = raw.read_until_closed();
  EXPECT_EQ(count(answers, "HTTP/1.1 200 OK"), 3u) << answers;
  EXPECT_EQ(count(answers, "slept"), 2u) << answers;
  EXPECT_EQ(count(answers, "hello"), 1u) << answers;
}

// The same when the next request comes while the first one's handler runs.
TEST(ClientGone, HalfCloseAfterARequestSentDuringTheHandlerIsNotADisconnect) {
  TestServer server;
  running_handlers.store(0);
  RawClient raw(server.port());
  raw.send("GET /sleep?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(eventually([] { return running_handlers.load() == 1; }));
  raw.send("GET /sleep?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n");
  raw.shutdown_write();
  const std::string answers = raw.read_until_closed();
  EXPECT_EQ(count(answers, "slept"), 2u) << answers;
}

}  // namespace
