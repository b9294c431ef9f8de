// Tests for response serialization (write_response and the chunk helpers), and the Response
// factories, reason phrases and JSON escaping of http.hpp they rely on.
#include "response_writer.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace brigade::server::detail {
namespace {

constexpr std::string_view kDate = "Sun, 06 Nov 1994 08:49:37 GMT";

// (All four fields, always: GCC's -Wmissing-field-initializers flags partial designated lists.)
ResponseContext context(bool keep_alive = true, int version_minor = 1, bool head = false,
                        std::string_view date = kDate) {
  return {.date = date, .version_minor = version_minor, .head = head, .keep_alive = keep_alive};
}
ResponseContext without_date() { return context(true, 1, false, {}); }

Response with_status(int status) {
  Response response;
  response.status = status;
  return response;
}

std::string written(const Response& response, ResponseContext ctx = context()) {
  std::string out;
  write_response(out, response, ctx);
  return out;
}

BodyStream some_stream() {
  return []() -> runtime::Task<std::optional<std::string>> { co_return std::nullopt; };
}

TEST(ResponseWriter, TextResponse) {
  EXPECT_EQ(written(Response::text(200, "Hello, World!")),
            "HTTP/1.1 200 OK\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Server: brigade\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 13\r\n"
            "\r\n"
            "Hello, World!");
}

TEST(ResponseWriter, ConnectionFieldFollowsTheCallerAndTheVersion) {
  const Response r = Response::text(200, "x");
  EXPECT_EQ(written(r, context(true)).find("Connection"), std::string::npos);
  EXPECT_NE(written(r, context(false)).find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_NE(written(r, context(true, 0)).find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(written(r, context(false, 0)).find("\r\nConnection: close\r\n"), std::string::npos);
  // The status line is HTTP/1.1 whatever the request's version (RFC 9110 §2.5).
  EXPECT_EQ(written(r, context(true, 0)).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

// A large body is sent from the response itself: the head only goes into the buffer.
TEST(ResponseWriter, BodyApartLeavesTheBodyOutOfTheBuffer) {
  ResponseContext apart = context();
  apart.body_apart = true;
  std::string out;
  EXPECT_EQ(write_response(out, Response::text(200, "Hello, World!"), apart), BodyFraming::apart);
  EXPECT_NE(out.find("\r\nContent-Length: 13\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
  // Nothing to send apart: without a body, for HEAD, or for a bodiless status.
  out.clear();
  EXPECT_EQ(write_response(out, Response::text(200, ""), apart), BodyFraming::complete);
  apart.head = true;
  EXPECT_EQ(write_response(out, Response::text(200, "x"), apart), BodyFraming::complete);
  apart.head = false;
  Response no_content = with_status(204);
  no_content.body = "ignored";
  EXPECT_EQ(write_response(out, no_content, apart), BodyFraming::complete);
}

TEST(ResponseWriter, HeadGetsTheLengthButNoBody) {
  const std::string out = written(Response::text(200, "Hello, World!"), context(true, 1, true));
  EXPECT_NE(out.find("\r\nContent-Length: 13\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
}

TEST(ResponseWriter, NoBodyNorLengthFor1xx204And304) {
  for (int status : {100, 103, 204, 304}) {
    Response r;
    r.status = status;
    r.body = "ignored";
    const std::string out = written(r);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << status;
    EXPECT_EQ(out.find("ignored"), std::string::npos) << status;
    EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
  }
  EXPECT_EQ(written(with_status(204), without_date()),
            "HTTP/1.1 204 No Content\r\nServer: brigade\r\n\r\n");
}

TEST(ResponseWriter, EmptyBodyHasZeroLength) {
  EXPECT_EQ(written(Response{}, without_date()),
            "HTTP/1.1 200 OK\r\nServer: brigade\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseWriter, StreamedBodyIsChunkedOnHttp11) {
  Response r;
  r.stream = some_stream();
  r.body = "ignored";
  std::string out;
  EXPECT_EQ(write_response(out, r, context()), BodyFraming::chunked);
  EXPECT_NE(out.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  EXPECT_EQ(out.find("Connection"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
  write_chunk(out, "hello");
  write_chunk(out, "");  // would end the body: writes nothing
  write_chunk(out, std::string(26, 'x'));
  write_last_chunk(out);
  EXPECT_TRUE(
      out.ends_with("\r\n\r\n5\r\nhello\r\n1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n"))
      << out;
}

TEST(ResponseWriter, StreamedBodyIsCloseDelimitedOnHttp10) {
  Response r;
  r.stream = some_stream();
  std::string out;
  EXPECT_EQ(write_response(out, r, context(true, 0, false, {})), BodyFraming::until_close);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: brigade\r\nConnection: close\r\n\r\n");
}

TEST(ResponseWriter, StreamedBodyForHeadIsComplete) {
  Response r;
  r.stream = some_stream();
  std::string out;
  EXPECT_EQ(write_response(out, r, context(true, 1, true, {})), BodyFraming::complete);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: brigade\r\n\r\n");
}

TEST(ResponseWriter, FramingFieldsOfTheHandlerAreReplaced) {
  Response r = Response::text(200, "abc");
  r.headers.add("content-length", "999");
  r.headers.add("Transfer-Encoding", "chunked");
  r.headers.add("Connection", "upgrade");
  r.headers.add("Date", "yesterday");
  r.headers.add("Server", "other");
  r.headers.add("X-Kept", "yes");
  EXPECT_EQ(written(r, without_date()),
            "HTTP/1.1 200 OK\r\nServer: brigade\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "X-Kept: yes\r\nContent-Length: 3\r\n\r\nabc");
}

TEST(ResponseWriter, FieldsThatWouldSplitTheResponseAreDropped) {
  Response r;
  r.headers.add("X-Injected", "a\r\nSet-Cookie: evil=1");
  r.headers.add("X-Nul", std::string("a\0b", 3));
  r.headers.add("Bad Name", "x");
  r.headers.add("", "x");
  r.headers.add("X-Fine", "tab\tand obs-text \xc3\xa9");
  EXPECT_EQ(written(r, without_date()),
            "HTTP/1.1 200 OK\r\nServer: brigade\r\nX-Fine: tab\tand obs-text \xc3\xa9\r\n"
            "Content-Length: 0\r\n\r\n");
}

// The factories' Content-Type goes out unchecked (in a copy of the response too); a handler's
// replacement of it is checked like any field.
TEST(ResponseWriter, AFactorysFieldReplacedByTheHandlerIsCheckedAgain) {
  Response r = Response::text(200, "abc");
  r.headers.set("Content-Type", "text/html\r\nSet-Cookie: evil=1");
  EXPECT_EQ(written(r, without_date()),
            "HTTP/1.1 200 OK\r\nServer: brigade\r\nContent-Length: 3\r\n\r\nabc");

  const Response json = Response::json(200, "{}");
  const Response copy = json;
  EXPECT_EQ(written(copy, without_date()),
            "HTTP/1.1 200 OK\r\nServer: brigade\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}");
}

// Every byte at every place of a value long enough to take the word-at-a-time path: a control
// other than HTAB, or DEL, drops the field; anything else (obs-text included) goes out.
TEST(ResponseWriter, EveryForbiddenByteDropsAFieldWhereverItIs) {
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    const bool allowed = byte == '\t' || (byte >= 0x20 && byte != 0x7f);
    for (std::size_t at = 0; at < 19; ++at) {
      std::string value(19, 'v');
      value[at] = c;
      Response r;
      r.headers.add("X-Probe", value);
      const std::string out = written(r, without_date());
      EXPECT_EQ(out.find("X-Probe: ") != std::string::npos, allowed)
          << "byte " << byte << " at " << at;
    }
  }
}

TEST(ResponseWriter, UnknownAndInvalidStatuses) {
  EXPECT_EQ(written(with_status(299), without_date()).rfind("HTTP/1.1 299 \r\n", 0), 0u);
  EXPECT_EQ(
      written(with_status(42), without_date()).rfind("HTTP/1.1 500 Internal Server Error\r\n", 0),
      0u);
}

TEST(ResponseWriter, PipelinedResponsesAppend) {
  std::string out;
  write_response(out, Response::text(200, "one"), without_date());
  const std::size_t first = out.size();
  write_response(out, Response::error(404, "not found"), context(false, 1, false, {}));
  EXPECT_EQ(out.substr(0, first), written(Response::text(200, "one"), without_date()));
  EXPECT_EQ(out.substr(first),
            "HTTP/1.1 404 Not Found\r\nServer: brigade\r\nContent-Type: application/json\r\n"
            "Content-Length: 21\r\nConnection: close\r\n\r\n{\"error\":\"not found\"}");
}

TEST(ResponseWriter, ContinueLine) {
  std::string out;
  write_continue(out);
  EXPECT_EQ(out, "HTTP/1.1 100 Continue\r\n\r\n");
}

// --- http.hpp pieces the writer relies on --------------------------------------------------

TEST(Response, Factories) {
  const Response text = Response::text(201, "made");
  EXPECT_EQ(text.status, 201);
  EXPECT_EQ(text.headers.get("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(text.body, "made");

  const Response json = Response::json(200, R"({"a":1})");
  EXPECT_EQ(json.headers.get("Content-Type"), "application/json");

  const Response error = Response::error(400, "bad \"quote\"\n");
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(error.body, R"({"error":"bad \"quote\"\n"})");
}

TEST(Response, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(100), "Continue");
  EXPECT_EQ(reason_phrase(204), "No Content");
  EXPECT_EQ(reason_phrase(304), "Not Modified");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(414), "URI Too Long");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(500), "Internal Server Error");
  EXPECT_EQ(reason_phrase(501), "Not Implemented");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(299), "");
}

TEST(Response, JsonEscape) {
  EXPECT_EQ(json_escape("plain"), "plain");
  EXPECT_EQ(json_escape(R"(a"b\c)"), R"(a\"b\\c)");
  EXPECT_EQ(json_escape("\b\f\n\r\t"), R"(\b\f\n\r\t)");
  EXPECT_EQ(json_escape(std::string("\0\x01\x1f", 3)), R"(\u0000\u0001\u001f)");
  EXPECT_EQ(json_escape("caf\xc3\xa9 \x7f"), "caf\xc3\xa9 \x7f");  // UTF-8 and DEL pass through
}

TEST(Headers, CaseInsensitiveAndOrdered) {
  Headers h;
  h.add("Accept", "a");
  h.add("X-Multi", "1");
  h.add("x-multi", "2");
  EXPECT_EQ(h.get("accept"), "a");
  EXPECT_EQ(h.get("X-MULTI"), "1");  // the first
  EXPECT_FALSE(h.get("missing"));
  EXPECT_TRUE(h.contains("ACCEPT"));

  h.set("X-Multi", "3");  // replaces both, where the first was
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("x-multi"), "3");
  EXPECT_EQ(std::next(h.begin())->value, "3");
  h.set("New", "n");
  EXPECT_EQ(h.size(), 3u);
  h.remove("accept");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_FALSE(h.contains("Accept"));
  EXPECT_TRUE(equals_ignore_case("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equals_ignore_case("Content-Length", "Content-Lengt"));
}

// Fields start inside the object and move to the heap as they grow: every field stays whole and in
// order through the move, and through copies and moves of either kind of storage.
TEST(Headers, ManyFieldsSurviveGrowthCopiesAndMoves) {
  Headers h;
  for (int i = 0; i < 100; ++i) h.add("X-Field-" + std::to_string(i), std::string(i, 'v'));
  EXPECT_EQ(h.size(), 100u);
  const Headers copy = h;
  Headers moved = std::move(h);
  int i = 0;
  for (const auto& field : moved) {
    EXPECT_EQ(field.name, "X-Field-" + std::to_string(i));
    EXPECT_EQ(field.value, std::string(i, 'v'));
    ++i;
  }
  EXPECT_EQ(i, 100);
  EXPECT_EQ(copy.get("x-field-99"), std::string(99, 'v'));

  Headers small;
  small.add("Host", "example.com");
  Headers small_moved = std::move(small);
  EXPECT_EQ(small_moved.get("host"), "example.com");
  small = small_moved;
  EXPECT_EQ(small.get("HOST"), "example.com");
  small = std::move(moved);
  EXPECT_EQ(small.size(), 100u);
  EXPECT_EQ(small.get("X-Field-42"), std::string(42, 'v'));
}

// A field added or removed by a view of another field of the same object: growing the buffer or
// compacting it must not pull the bytes from under the view.
TEST(Headers, ViewsOfTheirOwnFieldsAreSafeArguments) {
  Headers h;
  h.add("A", std::string(70, 'a'));
  const std::string_view long_value = *h.get("A");
  h.add("B", long_value);  // past the inline room: the buffer moves while the view is read
  EXPECT_EQ(h.get("B"), std::string(70, 'a'));

  h.add("C", "c");
  h.add("A", "again");
  h.remove(h.begin()->name);  // the name views the first field, which is compacted over
  EXPECT_EQ(h.size(), 2u);
  EXPECT_FALSE(h.contains("A"));
  EXPECT_EQ(h.get("C"), "c");
}

TEST(Request, QueryParams) {
  Request r;
  r.query = "ms=250&name=a%20b+c&flag&empty=&ms=999&sp%61ced+key=v&bad=%zz";
  EXPECT_EQ(r.query_param("ms"), "250");  // the first
  EXPECT_EQ(r.query_param("name"), "a b c");
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_EQ(r.query_param("empty"), "");
  EXPECT_EQ(r.query_param("spaced key"), "v");
  EXPECT_EQ(r.query_param("bad"), "%zz");  // kept as sent
  EXPECT_FALSE(r.query_param("missing"));
  EXPECT_FALSE(r.query_param("m"));
  r.query = "";
  EXPECT_FALSE(r.query_param("ms"));
}

TEST(Request, PathParams) {
  Request r;
  r.path_params = {{"name", "a/b"}, {"id", "7"}};
  EXPECT_EQ(r.path_param("name"), "a/b");
  EXPECT_EQ(r.path_param("id"), "7");
  EXPECT_FALSE(r.path_param("other"));
}

}  // namespace
}  // namespace brigade::server::detail
