// Integration tests of the HTTP server: a Server runs in-process on a multi-thread runtime (two
// workers) bound to 127.0.0.1:0, and the test thread talks to it over loopback, with Boost.Beast's
// synchronous client (an independent HTTP implementation) for well-formed traffic and raw sockets
// for malformed, pipelined, slow and idle connections. Covered: keep-alive, HTTP/1.0, HEAD,
// chunked request and response bodies, 100-continue, pipelining, the error answers (400, 404,
// 405, 408, 413, 431, 500, 503), the header and keep-alive timeouts, graceful shutdown and the
// grace deadline, the observer, the Date header, and the memory an idle connection holds.
//
// Only lower bounds on time are asserted; upper bounds are generous deadlines that keep a broken
// server from hanging the suite.
#include "brigade/server/server.hpp"

#include <gtest/gtest.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "brigade/runtime/net/socket_addr.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/runtime/time.hpp"
#include "brigade/server/http.hpp"
#include "brigade/server/router.hpp"
#include "date_cache.hpp"
#include "raw_client.hpp"
#include "server_under_test.hpp"

namespace rt = brigade::runtime;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using brigade::server::Request;
using brigade::server::RequestObserver;
using brigade::server::Response;
using brigade::server::Router;
using brigade::server::Server;
using brigade::server::ServerOptions;
using brigade::server::ServerState;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// ---- handlers ---------------------------------------------------------------------------------

std::atomic<int> sleeping_handlers{0};  // /sleep and /forever handlers running now

// Counts a running handler, also when its task is aborted.
struct InFlight {
  InFlight() { sleeping_handlers.fetch_add(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() { sleeping_handlers.fetch_sub(1); }
};

rt::Task<Response> hello(Request&) { co_return Response::text(200, "hello"); }

rt::Task<Response> echo(Request& request) {
  co_return Response::text(200, std::move(request.body));
}

rt::Task<Response> sleep_for(Request& request) {
  const InFlight in_flight;
  const auto ms = request.query_param("ms");
  co_await rt::sleep(std::chrono::milliseconds(ms ? std::stoi(*ms) : 100));
  co_return Response::text(200, "slept");
}

rt::Task<Response> forever(Request&) {
  const InFlight in_flight;
  co_await rt::sleep(1h);
  co_return Response::text(200, "never");
}

rt::Task<Response> throws(Request&) {
  if (sleeping_handlers.load() >= 0) throw std::runtime_error("handler failed");
  co_return Response::text(200, "unreachable");
}

rt::Task<Response> item(Request& request) {
  co_return Response::text(200, std::string(request.path_param("id").value_or("?")));
}

rt::Task<std::optional<std::string>> next_part(std::shared_ptr<std::size_t> index) {
  static constexpr std::array<std::string_view, 3> kParts = {"one", "two", "three"};
  if (*index == kParts.size()) co_return std::nullopt;
  co_await rt::yield_now();  // a producer that waits between chunks
  co_return std::string(kParts[(*index)++]);
}

rt::Task<Response> streamed(Request&) {
  Response response;
  response.headers.add("Content-Type", "text/plain");
  auto index = std::make_shared<std::size_t>(0);
  response.stream = [index] { return next_part(index); };
  co_return response;
}

Router test_router() {
  Router router;
  router.add("GET", "/", hello);
  router.add("POST", "/echo", echo);
  router.add("GET", "/sleep", sleep_for);
  router.add("GET", "/forever", forever);
  router.add("GET", "/throw", throws);
  // Throws before it even makes a task.
  router.add("GET", "/throw-sync",
             [](Request&) -> rt::Task<Response> { throw std::runtime_error("no task"); });
  router.add("GET", "/items/{id}", item);
  router.add("GET", "/stream", streamed);
  return router;
}

ServerOptions test_options() {
  ServerOptions options;
  options.max_header_bytes = 4096;
  options.max_body_bytes = 64 * 1024;
  options.header_timeout = 5s;
  options.keep_alive_timeout = 10s;
  options.grace_period = 10s;
  return options;
}

// ---- the server under test --------------------------------------------------------------------

// test_router() behind `options`, on its own runtime and a free loopback port.
class TestServer : public brigade::testing::ServerUnderTest {
 public:
  explicit TestServer(ServerOptions options = test_options())
      : ServerUnderTest(std::move(options), test_router()) {}
};

using brigade::testing::eventually;
using brigade::testing::RawClient;

// ---- Beast client -----------------------------------------------------------------------------

using StringResponse = http::response<http::string_body>;

class BeastClient {
 public:
  explicit BeastClient(std::uint16_t port) : stream_(context_) {
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
    stream_.expires_after(20s);  // no call may hang the suite
  }

  StringResponse send(http::request<http::string_body> request) {
    request.set(http::field::host, "localhost");
    request.prepare_payload();
    http::write(stream_, request);
    StringResponse response;
    http::read(stream_, buffer_, response);
    return response;
  }

  StringResponse get(std::string_view target, unsigned version = 11) {
    return send(http::request<http::string_body>(http::verb::get, target, version));
  }

  StringResponse post(std::string_view target, std::string body) {
    http::request<http::string_body> request(http::verb::post, target, 11);
    request.body() = std::move(body);
    return send(std::move(request));
  }

  // Whether the server closed the connection (a read sees the end of the stream).
  bool closed_by_server() {
    beast::error_code error;
    StringResponse response;
    http::read(stream_, buffer_, response, error);
    return error == http::error::end_of_stream || error == asio::error::eof ||
           error == asio::error::connection_reset;
  }

  beast::tcp_stream& stream() noexcept { return stream_; }
  beast::flat_buffer& buffer() noexcept { return buffer_; }

 private:
  asio::io_context context_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string_view body_of(std::string_view response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string_view::npos ? std::string_view{} : response.substr(at + 4);
}

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

// ---- requests and connections -----------------------------------------------------------------

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer server;
  BeastClient client(server.port());
  for (int i = 0; i < 5; ++i) {
    const auto response = client.get("/");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "hello");
    EXPECT_TRUE(response.keep_alive());
  }
  const auto echoed = client.post("/echo", "ping");
  EXPECT_EQ(echoed.body(), "ping");
  EXPECT_EQ(server.server().connections_total(), 1u);
  EXPECT_EQ(server.server().active_connections(), 1u);
}

TEST(Server, AnswersCarryDateAndServer) {
  TestServer server;
  BeastClient client(server.port());
  const auto response = client.get("/");
  const std::string date(response[http::field::date]);
  ASSERT_EQ(date.size(), 29u) << date;
  EXPECT_EQ(date.substr(25), " GMT");
  EXPECT_EQ(response[http::field::server], "brigade");
}

TEST(Server, FormatsImfFixdate) {
  char text[brigade::server::detail::kHttpDateSize];
  brigade::server::detail::format_http_date(784111777, text);  // RFC 9110's example
  EXPECT_EQ(std::string_view(text, sizeof text), "Sun, 06 Nov 1994 08:49:37 GMT");
  brigade::server::detail::format_http_date(951782400, text);  // a leap day
  EXPECT_EQ(std::string_view(text, sizeof text), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(Server, Http10ClosesUnlessKeepAlive) {
  TestServer server;
  {
    BeastClient client(server.port());
    const auto response = client.get("/", 10);
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_FALSE(response.keep_alive());
    EXPECT_TRUE(client.closed_by_server());
  }
  {
    BeastClient client(server.port());
    http::request<http::string_body> request(http::verb::get, "/", 10);
    request.set(http::field::connection, "keep-alive");
    const auto first = client.send(request);
    EXPECT_EQ(first.result_int(), 200);
    EXPECT_EQ(first[http::field::connection], "keep-alive");
    const auto second = client.send(request);
    EXPECT_EQ(second.body(), "hello");
  }
}

TEST(Server, ClientConnectionCloseIsHonoured) {
  TestServer server;
  BeastClient client(server.port());
  http::request<http::string_body> request(http::verb::get, "/", 11);
  request.set(http::field::connection, "close");
  const auto response = client.send(request);
  EXPECT_EQ(response[http::field::connection], "close");
  EXPECT_TRUE(client.closed_by_server());
}

TEST(Server, HeadHasTheLengthButNoBody) {
  TestServer server;
  BeastClient client(server.port());
  http::request<http::empty_body> request(http::verb::head, "/", 11);
  request.set(http::field::host, "localhost");
  http::write(client.stream(), request);
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a response to HEAD has no body whatever its Content-Length
  http::read(client.stream(), client.buffer(), parser);
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_EQ(parser.get()[http::field::content_length], "5");
  // The connection is still in step: the next answer parses.
  EXPECT_EQ(client.get("/").body(), "hello");
}

TEST(Server, ReadsAChunkedRequestBody) {
  TestServer server;
  BeastClient client(server.port());
  http::request<http::string_body> request(http::verb::post, "/echo", 11);
  request.body() = "chunked body";
  request.chunked(true);
  request.set(http::field::host, "localhost");
  http::write(client.stream(), request);
  StringResponse response;
  http::read(client.stream(), client.buffer(), response);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "chunked body");

  // Raw, with a chunk split over two writes.
  RawClient raw(server.port());
  raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
  std::this_thread::sleep_for(20ms);
  raw.send("lo\r\n1\r\n!\r\n0\r\n\r\n");
  const std::string answer = raw.read_until("hello!");
  EXPECT_EQ(body_of(answer), "hello!");
}

TEST(Server, StreamsAChunkedResponse) {
  TestServer server;
  BeastClient client(server.port());
  const auto response = client.get("/stream");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response.body(), "onetwothree");
  EXPECT_EQ(client.get("/").body(), "hello");  // the connection goes on after the last chunk

  // HTTP/1.0 has no chunking: the body runs until the close.
  RawClient raw(server.port());
  raw.send("GET /stream HTTP/1.0\r\n\r\n");
  const std::string answer = raw.read_until_closed();
  EXPECT_TRUE(raw.closed());
  EXPECT_EQ(body_of(answer), "onetwothree");
  EXPECT_EQ(answer.find("Transfer-Encoding"), std::string::npos);
}

TEST(Server, ExpectContinueGets100OnlyWhenTheBodyIsWanted) {
  TestServer server;
  {
    RawClient raw(server.port());
    raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    const std::string interim = raw.read_until("\r\n\r\n");
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    raw.send("hello");
    const std::string answer = raw.read_until("hello");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
    EXPECT_EQ(body_of(answer), "hello");
  }
  {
    // Unknown route: the final answer comes at once, and the body is never asked for.
    RawClient raw(server.port());
    raw.send(
        "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    const std::string answer = raw.read_until_closed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 404 Not Found\r\n")) << answer;
    EXPECT_EQ(answer.find("100 Continue"), std::string::npos);
  }
  {
    // Too large: 413 from the Content-Length alone.
    RawClient raw(server.port());
    raw.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
        "Expect: 100-continue\r\n\r\n");
    const std::string answer = raw.read_until_closed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 ")) << answer;
    EXPECT_EQ(answer.find("100 Continue"), std::string::npos);
  }
}

TEST(Server, PipelinedRequestsAreAnsweredInOrderInOneWrite) {
  TestServer server;
  RawClient raw(server.port());
  raw.send(
      "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n");
  // All three answers arrive together: the first recv holds them all.
  const std::string first = raw.read_once();
  EXPECT_EQ(count(first, "HTTP/1.1 200 OK"), 3u) << first;
  const auto one = first.find("\r\n\r\n1");
  const auto abc = first.find("\r\n\r\nabc");
  const auto three = first.find("\r\n\r\n3");
  ASSERT_NE(one, std::string::npos);
  ASSERT_NE(abc, std::string::npos);
  ASSERT_NE(three, std::string::npos);
  EXPECT_LT(one, abc);
  EXPECT_LT(abc, three);
}

TEST(Server, ManyPipelinedRequestsAllGetAnswers) {
  TestServer server;
  RawClient raw(server.port());
  std::string batch;
  for (int i = 0; i < 200; ++i) batch += kGet;
  batch += "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  raw.send(batch);
  const std::string all = raw.read_until_closed();
  EXPECT_TRUE(raw.closed());
  EXPECT_EQ(count(all, "HTTP/1.1 200 OK"), 201u);
}

// ---- error answers ----------------------------------------------------------------------------

void expect_json_error(std::string_view answer, std::string_view status_line) {
  EXPECT_TRUE(answer.starts_with(status_line)) << answer;
  EXPECT_NE(answer.find("Content-Type: application/json"), std::string_view::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string_view::npos) << answer;
  EXPECT_TRUE(body_of(answer).starts_with(R"({"error":")")) << answer;
}

TEST(Server, MalformedRequestGets400AndTheServerGoesOn) {
  TestServer server;
  {
    RawClient raw(server.port());
    raw.send("GARBAGE\r\n\r\n");
    expect_json_error(raw.read_until_closed(), "HTTP/1.1 400 Bad Request\r\n");
    EXPECT_TRUE(raw.closed());
  }
  {
    RawClient raw(server.port());
    raw.send(
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect_json_error(raw.read_until_closed(), "HTTP/1.1 400 Bad Request\r\n");
  }
  {
    RawClient raw(server.port());
    raw.send("GET / HTTP/1.1\nHost: x\n\n");  // bare LF
    expect_json_error(raw.read_until_closed(), "HTTP/1.1 400 Bad Request\r\n");
  }
  BeastClient client(server.port());
  EXPECT_EQ(client.get("/").result_int(), 200);
}

TEST(Server, BodyOverTheLimitGets413BeforeItIsSent) {
  TestServer server;
  RawClient raw(server.port());
  // Only the head: the answer must not wait for the body.
  raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
  const std::string answer = raw.read_until_closed();
  expect_json_error(answer, "HTTP/1.1 413 Content Too Large\r\n");
  EXPECT_TRUE(raw.closed());
}

TEST(Server, ChunkedBodyOverTheLimitGets413) {
  TestServer server;
  RawClient raw(server.port());
  raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20000\r\n");
  expect_json_error(raw.read_until_closed(), "HTTP/1.1 413 Content Too Large\r\n");
}

TEST(Server, HeadersOverTheLimitGet431) {
  TestServer server;
  RawClient raw(server.port());
  raw.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  expect_json_error(raw.read_until_closed(), "HTTP/1.1 431 Request Header Fields Too Large\r\n");
}

TEST(Server, UnknownRouteGets404AndWrongMethod405WithAllow) {
  TestServer server;
  BeastClient client(server.port());
  const auto missing = client.get("/missing");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_EQ(missing[http::field::content_type], "application/json");
  EXPECT_TRUE(missing.keep_alive());  // a 404 is an answer like any other

  const auto wrong = client.post("/", "x");
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(wrong[http::field::allow], "GET, HEAD");
  EXPECT_EQ(client.get("/").result_int(), 200);
}

TEST(Server, ThrowingHandlerGets500AndTheConnectionSurvives) {
  TestServer server;
  BeastClient client(server.port());
  for (const char* target : {"/throw", "/throw-sync"}) {
    const auto failed = client.get(target);
    EXPECT_EQ(failed.result_int(), 500);
    EXPECT_EQ(failed.body(), R"({"error":"internal server error"})");
    EXPECT_TRUE(failed.keep_alive());
    EXPECT_EQ(client.get("/").body(), "hello");
  }
  EXPECT_EQ(server.server().connections_total(), 1u);
}

TEST(Server, ConnectionsOverTheLimitGet503) {
  ServerOptions options = test_options();
  options.max_connections = 2;
  TestServer server(options);
  BeastClient first(server.port());
  BeastClient second(server.port());
  EXPECT_EQ(first.get("/").result_int(), 200);
  EXPECT_EQ(second.get("/").result_int(), 200);
  ASSERT_EQ(server.server().active_connections(), 2u);

  BeastClient third(server.port());
  const auto refused = third.get("/");
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_FALSE(refused.keep_alive());
  EXPECT_EQ(refused.body(), R"({"error":"too many connections"})");
  EXPECT_TRUE(third.closed_by_server());
  EXPECT_EQ(server.server().active_connections(), 2u);
  EXPECT_EQ(server.server().connections_total(), 2u);

  // Room again once one closes.
  first.stream().close();
  ASSERT_TRUE(eventually([&] { return server.server().active_connections() == 1; }));
  BeastClient fourth(server.port());
  EXPECT_EQ(fourth.get("/").result_int(), 200);
}

// ---- timeouts ---------------------------------------------------------------------------------

TEST(Server, HeaderTimeoutCutsOffASlowClient) {
  ServerOptions options = test_options();
  options.header_timeout = 200ms;
  TestServer server(options);
  {
    RawClient raw(server.port());
    const auto start = std::chrono::steady_clock::now();
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
    const std::string answer = raw.read_until_closed();
    EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
    EXPECT_TRUE(raw.closed());
    expect_json_error(answer, "HTTP/1.1 408 Request Timeout\r\n");
  }
  {
    // Slowloris: a byte every 30 ms keeps the connection busy but does not extend the deadline.
    RawClient raw(server.port());
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
    const auto start = std::chrono::steady_clock::now();
    std::size_t sent = 0;
    try {
      for (; sent < request.size() && std::chrono::steady_clock::now() - start < 5s; ++sent) {
        raw.send(request.substr(sent, 1));
        std::this_thread::sleep_for(30ms);
      }
    } catch (const std::system_error&) {
      // The server closed while we were still sending.
    }
    raw.read_until_closed();
    EXPECT_TRUE(raw.closed());
    EXPECT_LT(sent, request.size());
  }
  {
    // A connection that never sends a byte gets the header timeout too.
    RawClient raw(server.port());
    const std::string answer = raw.read_until_closed();
    EXPECT_TRUE(raw.closed());
    EXPECT_TRUE(answer.empty());
  }
  BeastClient client(server.port());
  EXPECT_EQ(client.get("/").result_int(), 200);
}

TEST(Server, BodyTimeoutCutsOffASlowUpload) {
  ServerOptions options = test_options();
  options.body_timeout = 200ms;
  TestServer server(options);
  RawClient raw(server.port());
  raw.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  const std::string answer = raw.read_until_closed();
  EXPECT_TRUE(raw.closed());
  expect_json_error(answer, "HTTP/1.1 408 Request Timeout\r\n");
}

TEST(Server, IdleKeepAliveConnectionIsClosedAfterTheTimeout) {
  ServerOptions options = test_options();
  options.keep_alive_timeout = 300ms;
  TestServer server(options);
  RawClient raw(server.port());
  const auto start = std::chrono::steady_clock::now();
  raw.send(kGet);
  const std::string answer = raw.read_until("hello");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer;
  const std::string rest = raw.read_until_closed();
  EXPECT_TRUE(raw.closed());
  EXPECT_TRUE(rest.empty()) << rest;  // closed silently
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  EXPECT_TRUE(eventually([&] { return server.server().active_connections() == 0; }));
}

// ---- graceful shutdown ------------------------------------------------------------------------

TEST(Server, ShutdownAnswersInFlightRequestsAndClosesIdleOnes) {
  TestServer server;
  EXPECT_EQ(server.server().state(), ServerState::serving);
  sleeping_handlers.store(0);

  // An idle keep-alive connection.
  RawClient idle(server.port());
  idle.send(kGet);
  ASSERT_NE(idle.read_until("hello").find("200 OK"), std::string::npos);

  // Three requests in flight in slow handlers.
  constexpr int kInFlight = 3;
  std::vector<std::future<StringResponse>> answers;
  for (int i = 0; i < kInFlight; ++i) {
    answers.push_back(std::async(std::launch::async, [port = server.port()] {
      BeastClient client(port);
      return client.get("/sleep?ms=400");
    }));
  }
  ASSERT_TRUE(eventually([] { return sleeping_handlers.load() == kInFlight; }));

  server.server().shutdown();
  EXPECT_EQ(server.server().state(), ServerState::draining);

  // The idle connection closes at once, without an answer.
  const std::string idle_rest = idle.read_until_closed(5s);
  EXPECT_TRUE(idle.closed());
  EXPECT_TRUE(idle_rest.empty()) << idle_rest;

  // Every request in flight is answered, with Connection: close.
  for (auto& answer : answers) {
    const StringResponse response = answer.get();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "slept");
    EXPECT_EQ(response[http::field::connection], "close");
  }

  // run() returns; the listener is gone.
  server.join();
  EXPECT_TRUE(server.returned());
  EXPECT_EQ(server.server().state(), ServerState::stopped);
  EXPECT_EQ(server.server().active_connections(), 0u);
  RawClient late(server.port());
  EXPECT_FALSE(late.connected());
  EXPECT_EQ(late.connect_error(), ECONNREFUSED);
}

TEST(Server, ShutdownStopsAcceptingOnceTheListenerCloses) {
  TestServer server;
  sleeping_handlers.store(0);
  auto answer = std::async(std::launch::async, [port = server.port()] {
    BeastClient client(port);
    return client.get("/sleep?ms=2500");
  });
  ASSERT_TRUE(eventually([] { return sleeping_handlers.load() == 1; }));
  server.server().shutdown();
  // While the request is still in flight, new connections are already refused. (A connect that
  // meets the filter before the listener closes has its SYN dropped and is refused on its retry,
  // a second later: the handler sleeps long enough for that.)
  EXPECT_TRUE(eventually([&] { return !RawClient(server.port()).connected(); }));
  EXPECT_FALSE(server.returned());
  EXPECT_EQ(answer.get().result_int(), 200);
  server.join();
  EXPECT_TRUE(server.returned());
}

// A client whose handshake is under way as the listener closes believes it is connected and may
// be sending its request: it is served, not reset. Here TCP_DEFER_ACCEPT holds the handshake open
// until the request comes, which the client sends only once the server refuses new handshakes.
TEST(Server, AHandshakeUnderWayWhenTheListenerClosesIsServedNotReset) {
  std::atomic<int> listener_fd{-1};
  brigade::testing::ServerUnderTest server(test_options(), test_router(), [&](int fd) {
    const int seconds = 30;
    ASSERT_EQ(::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds), 0);
    listener_fd.store(fd);
  });
  RawClient client(server.port());
  ASSERT_TRUE(client.connected());
  server.server().shutdown();
  // The filter that refuses new handshakes is on the listener (as many instructions as it has).
  ASSERT_TRUE(eventually([&] {
    socklen_t instructions = 0;
    return ::getsockopt(listener_fd.load(), SOL_SOCKET, SO_GET_FILTER, nullptr, &instructions) ==
               0 &&
           instructions > 0;
  }));
  client.send(kGet);
  const std::string answer = client.read_until_closed();
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("hello"), std::string::npos) << answer;
  EXPECT_TRUE(client.closed());
  server.join();
}

TEST(Server, DrainDelayKeepsServingBeforeTheListenerCloses) {
  ServerOptions options = test_options();
  options.drain_delay = 300ms;
  TestServer server(options);
  BeastClient before(server.port());
  EXPECT_EQ(before.get("/").result_int(), 200);
  const auto start = std::chrono::steady_clock::now();
  server.server().shutdown();
  EXPECT_EQ(server.server().state(), ServerState::draining);
  // Still accepting and serving during the delay.
  BeastClient during(server.port());
  EXPECT_EQ(during.get("/").result_int(), 200);
  server.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  EXPECT_EQ(server.server().state(), ServerState::stopped);
}

TEST(Server, GraceDeadlineAbortsAHandlerThatNeverFinishes) {
  ServerOptions options = test_options();
  options.grace_period = 300ms;
  TestServer server(options);
  sleeping_handlers.store(0);
  RawClient raw(server.port());
  raw.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(eventually([] { return sleeping_handlers.load() == 1; }));

  const auto start = std::chrono::steady_clock::now();
  server.server().shutdown();
  server.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  EXPECT_EQ(server.server().state(), ServerState::stopped);
  EXPECT_EQ(sleeping_handlers.load(), 0);  // the handler's frame was destroyed
  EXPECT_TRUE(raw.read_until_closed().empty());
  EXPECT_TRUE(raw.closed());
}

TEST(Server, ShutdownBeforeRunStopsAtOnce) {
  rt::Runtime runtime = rt::Builder::multi_thread().worker_threads(2).build();
  Server server(test_options(), test_router());
  server.shutdown();
  std::promise<std::uint16_t> bound;
  runtime.block_on(brigade::testing::serve_on_free_port(&server, &bound));
  EXPECT_EQ(server.state(), ServerState::stopped);
}

TEST(Server, RefusesUnworkableOptions) {
  ServerOptions options = test_options();
  options.max_connections = 0;
  EXPECT_THROW(Server(options, Router{}), std::invalid_argument);
  options = test_options();
  options.header_timeout = 0ms;
  EXPECT_THROW(Server(options, Router{}), std::invalid_argument);
}

// ---- observer ---------------------------------------------------------------------------------

class CountingObserver final : public RequestObserver {
 public:
  void on_request(const Request& request, const brigade::server::Exchange& exchange) override {
    requests.fetch_add(1);
    if (exchange.status == 404) not_found.fetch_add(1);
    if (request.route == "/items/{id}") routed.fetch_add(1);
    if (exchange.request_bytes == 0 || exchange.response_bytes <= exchange.response_body_bytes ||
        exchange.duration < 0ns || exchange.peer == nullptr ||
        exchange.peer->to_string().rfind("127.0.0.1:", 0) != 0) {
      bad_figures.fetch_add(1);
    }
  }
  void on_connection_opened() override { opened.fetch_add(1); }
  void on_connection_closed() override { closed.fetch_add(1); }
  void on_connection_rejected(brigade::server::RejectReason reason) override {
    if (reason == brigade::server::RejectReason::max_connections) rejected.fetch_add(1);
  }

  std::atomic<int> requests{0}, not_found{0}, routed{0}, bad_figures{0};
  std::atomic<int> opened{0}, closed{0}, rejected{0};
};

TEST(Server, ObserverSeesRequestsAndConnections) {
  auto observer = std::make_shared<CountingObserver>();
  ServerOptions options = test_options();
  options.observer = observer;
  options.max_connections = 1;
  TestServer server(options);
  {
    BeastClient client(server.port());
    EXPECT_EQ(client.get("/items/7").body(), "7");
    EXPECT_EQ(client.get("/nope").result_int(), 404);
    BeastClient extra(server.port());
    EXPECT_EQ(extra.get("/").result_int(), 503);
  }
  ASSERT_TRUE(eventually([&] { return observer->closed.load() == 1; }));
  EXPECT_EQ(observer->requests.load(), 2);
  EXPECT_EQ(observer->not_found.load(), 1);
  EXPECT_EQ(observer->routed.load(), 1);
  EXPECT_EQ(observer->bad_figures.load(), 0);
  EXPECT_EQ(observer->opened.load(), 1);
  EXPECT_EQ(observer->rejected.load(), 1);
}

// A handler that throws is reported with its route, its method and the exception's message.
class FailureRecorder final : public RequestObserver {
 public:
  void on_request(const Request&, const brigade::server::Exchange&) override {}
  void on_handler_failed(const Request& request, std::string_view what) override {
    const std::lock_guard lock(mutex);
    failures.push_back(request.method + " " + std::string(request.route) + ": " +
                       std::string(what));
  }

  std::mutex mutex;
  std::vector<std::string> failures;  // guarded by mutex
};

TEST(Server, ObserverHearsWhyAHandlerFailed) {
  auto observer = std::make_shared<FailureRecorder>();
  ServerOptions options = test_options();
  options.observer = observer;
  TestServer server(options);
  BeastClient client(server.port());
  EXPECT_EQ(client.get("/throw").result_int(), 500);
  EXPECT_EQ(client.get("/throw-sync").result_int(), 500);
  EXPECT_EQ(client.get("/").result_int(), 200);
  const std::lock_guard lock(observer->mutex);
  EXPECT_EQ(observer->failures,
            (std::vector<std::string>{"GET /throw: handler failed", "GET /throw-sync: no task"}));
}

// ---- memory -----------------------------------------------------------------------------------

std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

// What an idle keep-alive connection costs the server: it has served a request and waits for the
// next. Measured as heap bytes in use (and resident memory, for reference) over many connections.
TEST(Server, IdleConnectionHoldsNoBuffer) {
  constexpr std::size_t kConnections = 2000;
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 2 * kConnections + 100) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 2 * kConnections + 100);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < 2 * kConnections + 100) GTEST_SKIP() << "not enough descriptors";

  TestServer server;
  {
    RawClient warm(server.port());  // the working-set pool and the caches fill once
    warm.send(kGet);
    warm.read_until("hello");
  }
  ASSERT_TRUE(eventually([&] { return server.server().active_connections() == 0; }));
  // Client objects are made in place in storage taken before the baseline: only the server's
  // allocations count.
  std::vector<std::optional<RawClient>> clients(kConnections);
  ::malloc_trim(0);
  const std::size_t heap_before = ::mallinfo2().uordblks;
  const std::size_t rss_before = resident_bytes();

  for (auto& client : clients) {
    client.emplace(server.port());
    client->send(kGet);
    ASSERT_NE(client->read_until("hello").find("200 OK"), std::string::npos);
  }
  ASSERT_TRUE(eventually([&] { return server.server().active_connections() == kConnections; }));
  std::this_thread::sleep_for(50ms);  // every connection back in its idle wait
  const std::size_t heap_after = ::mallinfo2().uordblks;
  const std::size_t rss_after = resident_bytes();
  const double heap_per = static_cast<double>(heap_after - heap_before) / kConnections;
  const double rss_per =
      static_cast<double>(rss_after > rss_before ? rss_after - rss_before : 0) / kConnections;
  RecordProperty("resident_bytes_per_idle_connection", static_cast<int>(rss_per));
  if (kSanitized) {  // ASan's allocator: mallinfo says nothing, and every block is padded
    std::printf("idle connection: %.0f resident bytes (sanitized build)\n", rss_per);
    return;
  }
  std::printf("idle connection: %.0f heap bytes, %.0f resident bytes (over %zu connections)\n",
              heap_per, rss_per, kConnections);
  RecordProperty("heap_bytes_per_idle_connection", static_cast<int>(heap_per));
  // A read buffer alone is 16 KiB: anything near it means an idle connection holds one.
  EXPECT_LT(heap_per, 1024.0);
}

}  // namespace
