// Tests for the strict request parser (RequestParser over llhttp): well-formed requests however
// they are split, pipelining, chunked bodies, 100-continue, keep-alive rules, the limits, and one
// case per message RFC 9112 says a server must refuse.
#include "request_parser.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::server::detail {
namespace {

using State = RequestParser::State;

// What the parser reported for one message.
struct Message {
  Request request;
  bool keep_alive = false;
  bool expects_continue = false;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool is_head = false;
};

struct Outcome {
  std::vector<Message> messages;
  std::optional<ParseError> error;
  std::size_t headers_done = 0;  // how many times
  std::string unparsed;          // bytes never consumed (after a closing message or an error)
};

// Feeds `input` the way a connection does: in pieces of `step` bytes (0: all at once), keeping
// what the parser did not consume in front of the next piece, feeding again after each stop.
// Stops after a message that does not keep the connection alive.
Outcome parse(std::string_view input, std::size_t step = 0, ParseLimits limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  std::string pending;
  std::size_t offset = 0;
  bool closed = false;
  while (!closed && !out.error) {
    if (offset == input.size() && pending.empty()) break;
    const std::size_t take =
        step == 0 ? input.size() - offset : std::min(step, input.size() - offset);
    pending.append(input.substr(offset, take));
    offset += take;
    for (;;) {
      const RequestParser::Result result = parser.feed(pending);
      EXPECT_LE(result.consumed, pending.size());
      pending.erase(0, result.consumed);
      if (result.state == State::need_more) {
        EXPECT_TRUE(pending.empty()) << "need_more must consume everything";
        break;
      }
      if (result.state == State::error) {
        out.error = parser.error();
        break;
      }
      if (result.state == State::headers_done) {
        ++out.headers_done;
        EXPECT_FALSE(parser.idle());
        continue;
      }
      Message m;
      m.keep_alive = parser.keep_alive();
      m.expects_continue = parser.expects_continue();
      m.content_length = parser.content_length();
      m.chunked = parser.chunked();
      m.is_head = parser.is_head();
      m.request = parser.take_request();
      EXPECT_TRUE(parser.idle());
      out.messages.push_back(std::move(m));
      if (!out.messages.back().keep_alive) {
        closed = true;
        break;
      }
    }
    if (offset == input.size() && !closed && !out.error) break;
  }
  out.unparsed = pending + std::string(input.substr(offset));
  return out;
}

// Everything observable about a message, for comparisons that print well.
std::string describe(const Message& m) {
  std::string s = m.request.method + " " + m.request.target + " HTTP/1." +
                  std::to_string(m.request.version_minor) + "\npath=" + m.request.path +
                  "\nquery=" + m.request.query + "\n";
  for (const auto& field : m.request.headers) {
    s.append(field.name).append(": ").append(field.value).append("\n");
  }
  s += "body=" + m.request.body + "\nkeep_alive=" + std::to_string(m.keep_alive) +
       " continue=" + std::to_string(m.expects_continue) +
       " length=" + (m.content_length ? std::to_string(*m.content_length) : "-") +
       " chunked=" + std::to_string(m.chunked) + " head=" + std::to_string(m.is_head) + "\n";
  return s;
}

std::string describe(const Outcome& o) {
  std::string s;
  for (const Message& m : o.messages) s += describe(m) + "--\n";
  if (o.error)
    s += "error " + std::to_string(o.error->status) + " " + std::string(o.error->message);
  return s;
}

int error_status(std::string_view input, std::size_t step = 0, ParseLimits limits = {}) {
  const Outcome o = parse(input, step, limits);
  return o.error ? o.error->status : 0;
}

// --- Well-formed requests -------------------------------------------------------------------

TEST(RequestParser, SimpleGet) {
  const Outcome o =
      parse("GET /hello?x=1&y=a%20b HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  ASSERT_EQ(o.messages.size(), 1u);
  const Request& r = o.messages[0].request;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/hello?x=1&y=a%20b");
  EXPECT_EQ(r.path, "/hello");
  EXPECT_EQ(r.query, "x=1&y=a%20b");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers.get("host"), "example.com");
  EXPECT_EQ(r.headers.get("ACCEPT"), "*/*");
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(o.messages[0].keep_alive);
  EXPECT_FALSE(o.messages[0].content_length);
  EXPECT_FALSE(o.messages[0].chunked);
  EXPECT_EQ(o.headers_done, 0u);  // without a body, nothing to decide before it
}

TEST(RequestParser, PathIsPercentDecodedAndTheRawTargetKept) {
  const Outcome o =
      parse("GET /files/..%2F..%2Fetc%2Fpasswd/a%00b/%41+ HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_FALSE(o.error);
  const Request& r = o.messages.at(0).request;
  EXPECT_EQ(r.target, "/files/..%2F..%2Fetc%2Fpasswd/a%00b/%41+");
  EXPECT_EQ(r.path, std::string("/files/../../etc/passwd/a\0b/A+", 30));  // '+' is not a space here
}

TEST(RequestParser, FieldValuesLoseSurroundingWhitespace) {
  const Outcome o = parse(
      "GET / HTTP/1.1\r\nHost: h\r\nX-A:   padded \t \r\nX-B:\r\nX-C: a \t b\r\nX-D: "
      "caf\xc3\xa9\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  const Headers& h = o.messages.at(0).request.headers;
  EXPECT_EQ(h.get("x-a"), "padded");
  EXPECT_EQ(h.get("x-b"), "");
  EXPECT_EQ(h.get("x-c"), "a \t b");
  EXPECT_EQ(h.get("x-d"), "caf\xc3\xa9");  // obs-text is allowed in values
}

TEST(RequestParser, ContentLengthBody) {
  const Outcome o =
      parse("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world");
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].request.body, "hello world");
  EXPECT_EQ(o.messages[0].content_length, 11u);
}

TEST(RequestParser, HeadAndOptionsAndAbsoluteForm) {
  Outcome o = parse("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_FALSE(o.error);
  EXPECT_TRUE(o.messages.at(0).is_head);

  o = parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.messages.at(0).request.path, "*");

  o = parse("GET http://example.com:8080/a%20b?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.messages.at(0).request.path, "/a b");
  EXPECT_EQ(o.messages.at(0).request.query, "q=1");

  o = parse("GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.messages.at(0).request.path, "/");
}

TEST(RequestParser, EmptyLinesBeforeTheRequestLineAreSkipped) {
  const Outcome o = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.messages.size(), 1u);
}

TEST(RequestParser, UpgradeIsIgnoredAndParsingGoesOn) {
  const Outcome o = parse(
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  ASSERT_EQ(o.messages.size(), 2u);
  EXPECT_EQ(o.messages[1].request.path, "/next");
}

TEST(RequestParser, IdleUntilTheFirstByteOfAMessage) {
  RequestParser parser;
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.feed("").state, State::need_more);
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.feed("G").state, State::need_more);
  EXPECT_FALSE(parser.idle());
  const std::string head = "ET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n";
  auto r = parser.feed(head);
  EXPECT_EQ(r.state, State::headers_done);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_FALSE(parser.idle());
  r = parser.feed("x");
  EXPECT_EQ(r.state, State::message_done);
  EXPECT_EQ(r.consumed, 1u);
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.request().path, "/");
  // A bodyless message completes in the feed that ends its head: no headers_done stop.
  r = parser.feed("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.state, State::message_done);
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.request().path, "/b");
  // The next message starts with the next feed.
  EXPECT_EQ(parser.feed("\r\n").state, State::need_more);
  EXPECT_FALSE(parser.idle());
}

TEST(RequestParser, ErrorIsSticky) {
  RequestParser parser;
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nHost : h\r\n\r\n").state, State::error);
  EXPECT_EQ(parser.error().status, 400);
  const auto r = parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.state, State::error);
  EXPECT_EQ(r.consumed, 0u);
}

// --- Any split gives the same result --------------------------------------------------------

const char* const kGoodStreams[] = {
    "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
    "GET /a%2Fb/c?d=e+f HTTP/1.1\r\nHost: h\r\nUser-Agent: a-rather-long-user-agent-value/1.0\r\n"
    "Accept: text/html, application/json;q=0.9\r\n\r\n",
    "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: "
    "h\r\n\r\n",
    "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n6;name=value\r\n world\r\n1;a;b\r\n!\r\nA;q=\"quoted value\"\r\n0123456789\r\n"
    "0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
    "GET /after HTTP/1.1\r\nHost: h\r\n\r\n",
    "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "\r\nGET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
    "DELETE /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
};

TEST(RequestParser, OneByteAtATimeGivesTheSameResult) {
  for (const char* stream : kGoodStreams) {
    const Outcome whole = parse(stream);
    ASSERT_FALSE(whole.error) << stream << "\n" << whole.error->message;
    ASSERT_FALSE(whole.messages.empty()) << stream;
    const Outcome bytewise = parse(stream, 1);
    EXPECT_EQ(describe(bytewise), describe(whole)) << stream;
    EXPECT_EQ(bytewise.headers_done, whole.headers_done);
  }
}

TEST(RequestParser, EveryTwoPieceSplitGivesTheSameResult) {
  for (const char* stream : kGoodStreams) {
    const std::string input = stream;
    const std::string expected = describe(parse(input));
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
      // Two pieces: [0, cut) then the rest.
      RequestParser parser;
      Outcome o;
      std::string pending = input.substr(0, cut);
      bool second = false;
      for (;;) {
        const auto r = parser.feed(pending);
        pending.erase(0, r.consumed);
        if (r.state == State::error) {
          o.error = parser.error();
          break;
        }
        if (r.state == State::message_done) {
          Message m;
          m.keep_alive = parser.keep_alive();
          m.expects_continue = parser.expects_continue();
          m.content_length = parser.content_length();
          m.chunked = parser.chunked();
          m.is_head = parser.is_head();
          m.request = parser.take_request();
          o.messages.push_back(std::move(m));
          if (!o.messages.back().keep_alive) break;
        }
        if (r.state == State::need_more) {
          if (second) break;
          pending += input.substr(cut);
          second = true;
        }
      }
      EXPECT_EQ(describe(o), expected) << "cut at " << cut << " of " << input;
    }
  }
}

// --- Pipelining -----------------------------------------------------------------------------

TEST(RequestParser, PipelinedRequestsStopAtEachMessage) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi";
  const std::string third = "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string all = first + second + third;

  RequestParser parser;
  std::string_view rest = all;
  auto r = parser.feed(rest);
  EXPECT_EQ(r.state, State::message_done);  // no body: no headers_done stop
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(parser.take_request().path, "/1");
  rest.remove_prefix(r.consumed);

  r = parser.feed(rest);
  EXPECT_EQ(r.state, State::headers_done);
  EXPECT_EQ(r.consumed, second.size() - 2);  // the body is not read at headers_done
  EXPECT_EQ(parser.content_length(), 2u);
  rest.remove_prefix(r.consumed);
  r = parser.feed(rest);
  EXPECT_EQ(r.state, State::message_done);
  EXPECT_EQ(r.consumed, 2u);
  EXPECT_EQ(parser.request().body, "hi");
  rest.remove_prefix(r.consumed);

  r = parser.feed(rest);  // without take_request(): the next message replaces it
  EXPECT_EQ(r.state, State::message_done);
  rest.remove_prefix(r.consumed);
  EXPECT_EQ(parser.request().path, "/3");
  EXPECT_TRUE(rest.empty());

  const Outcome o = parse(all);
  ASSERT_EQ(o.messages.size(), 3u);
  EXPECT_EQ(o.messages[1].request.body, "hi");
}

TEST(RequestParser, DataAfterAClosingMessageIsRefused) {
  RequestParser parser;
  const std::string input =
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n";
  std::string_view rest = input;
  const auto r = parser.feed(rest);
  ASSERT_EQ(r.state, State::message_done);
  EXPECT_FALSE(parser.keep_alive());
  rest.remove_prefix(r.consumed);
  EXPECT_EQ(parser.feed(rest).state, State::error);
  EXPECT_EQ(parser.error().status, 400);
}

// --- Chunked bodies -------------------------------------------------------------------------

TEST(RequestParser, ChunkedBodyIsDecoded) {
  const Outcome o = parse(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].request.body, "Wikipedia in\r\n\r\nchunks.");
  EXPECT_TRUE(o.messages[0].chunked);
  EXPECT_FALSE(o.messages[0].content_length);
}

TEST(RequestParser, ChunkSizesInEitherCaseWithLeadingZeros) {
  const Outcome o = parse(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "0000a\r\n0123456789\r\nA\r\n0123456789\r\n000\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.messages.at(0).request.body.size(), 20u);
}

TEST(RequestParser, ChunkExtensionsAreIgnored) {
  const Outcome o = parse(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;name=value\r\nabc\r\n2;flag;other\r\nde\r\n1;q=\"a quoted; "
      "value\"\r\nf\r\n0;end=1\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.messages.at(0).request.body, "abcdef");
}

// llhttp 8.1 does not parse a second extension after one with an unquoted value ("3;a=b;c=d")
// although RFC 9112 §7.1.1 allows it, nor whitespace before ';'. Such a request gets 400 with a
// message that names the limit, not the size. Pinned here so that an llhttp upgrade that fixes
// it shows up.
TEST(RequestParser, Llhttp81RefusesAnExtensionAfterOneWithAValue) {
  for (const char* chunk_line : {"3;a=b;c=d", "3;a=b;c", "3 ;a", "3\t;a"}) {
    const Outcome o =
        parse(std::string("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") +
              chunk_line + "\r\nabc\r\n0\r\n\r\n");
    ASSERT_TRUE(o.error) << chunk_line;
    EXPECT_EQ(o.error->status, 400) << chunk_line;
    EXPECT_EQ(o.error->message, "chunk extension form not supported") << chunk_line;
  }
  const Outcome bad_size = parse(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(bad_size.error);
  EXPECT_EQ(bad_size.error->message, "invalid chunk size");
}

TEST(RequestParser, TrailersAreCheckedButNotMergedIntoTheHeaders) {
  const Outcome o = parse(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\nX-Checksum: 123\r\nHost: evil\r\n\r\n");
  ASSERT_FALSE(o.error) << o.error->message;
  const Request& r = o.messages.at(0).request;
  EXPECT_EQ(r.body, "abc");
  EXPECT_FALSE(r.headers.contains("X-Checksum"));
  EXPECT_EQ(r.headers.get("host"), "h");
  EXPECT_EQ(error_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "0\r\nBad Name: 1\r\n\r\n"),
            400);
}

// --- 100-continue ---------------------------------------------------------------------------

TEST(RequestParser, ExpectContinueStopsBeforeTheBody) {
  RequestParser parser;
  const std::string head =
      "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
  auto r = parser.feed(head + "ab");
  EXPECT_EQ(r.state, State::headers_done);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_TRUE(parser.expects_continue());
  EXPECT_EQ(parser.request().method, "PUT");
  EXPECT_TRUE(parser.request().body.empty());
  r = parser.feed("ab");
  EXPECT_EQ(r.state, State::need_more);
  r = parser.feed("c");
  EXPECT_EQ(r.state, State::message_done);
  EXPECT_EQ(parser.request().body, "abc");
}

TEST(RequestParser, ExpectContinueOnlyForHttp11RequestsWithABody) {
  auto expects = [](std::string_view input) {
    RequestParser parser;
    const auto r = parser.feed(input);
    // Without a body the message is done at once (and expects nothing).
    EXPECT_NE(r.state, State::error) << input;
    return parser.expects_continue();
  };
  EXPECT_TRUE(
      expects("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
              "Transfer-Encoding: chunked\r\n\r\n"));
  // RFC 9110 §10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request.
  EXPECT_FALSE(expects("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  EXPECT_FALSE(expects("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_FALSE(expects("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"));
}

// --- Keep-alive -----------------------------------------------------------------------------

bool keeps_alive(std::string_view head) {
  const Outcome o = parse(head);
  EXPECT_FALSE(o.error) << head;
  EXPECT_EQ(o.messages.size(), 1u) << head;
  return !o.messages.empty() && o.messages[0].keep_alive;
}

TEST(RequestParser, Http11KeepsAliveUnlessClose) {
  EXPECT_TRUE(keeps_alive("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_TRUE(keeps_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_FALSE(keeps_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(keeps_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n\r\n"));
  EXPECT_FALSE(keeps_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n"));
  EXPECT_FALSE(
      keeps_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nConnection: close\r\n\r\n"));
}

TEST(RequestParser, Http10ClosesUnlessKeepAlive) {
  EXPECT_FALSE(keeps_alive("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keeps_alive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(keeps_alive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(keeps_alive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
  const Outcome o = parse("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(o.messages.at(0).request.version_minor, 0);
}

TEST(RequestParser, Http10WithoutKeepAliveEndsTheStream) {
  const Outcome o = parse("GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n");
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.unparsed, "GET /2 HTTP/1.0\r\n\r\n");
}

// --- Limits ---------------------------------------------------------------------------------

// A request whose head is exactly `size` bytes.
std::string head_of_size(std::size_t size) {
  const std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'p') + end;
}

TEST(RequestParserLimits, HeaderSectionExactlyAtTheLimit) {
  const ParseLimits limits{.max_header_bytes = 256, .max_body_bytes = 1024};
  const std::string at = head_of_size(256);
  ASSERT_EQ(at.size(), 256u);
  for (std::size_t step : {0u, 1u, 7u}) {
    const Outcome o = parse(at, step, limits);
    EXPECT_FALSE(o.error) << step;
    EXPECT_EQ(o.messages.size(), 1u);
  }
}

TEST(RequestParserLimits, HeaderSectionOneOverTheLimitIs431) {
  const ParseLimits limits{.max_header_bytes = 256, .max_body_bytes = 1024};
  const std::string over = head_of_size(257);
  for (std::size_t step : {0u, 1u, 7u}) EXPECT_EQ(error_status(over, step, limits), 431) << step;
  // Refused as soon as the limit is reached, without waiting for the end of the section.
  RequestParser parser(limits);
  const auto r = parser.feed(over.substr(0, 256));
  EXPECT_EQ(r.state, State::error);
  EXPECT_EQ(parser.error().status, 431);
}

TEST(RequestParserLimits, LeadingEmptyLinesCount) {
  const ParseLimits limits{.max_header_bytes = 256, .max_body_bytes = 1024};
  EXPECT_EQ(error_status("\r\n" + head_of_size(254), 0, limits), 0);
  EXPECT_EQ(error_status("\r\n" + head_of_size(255), 0, limits), 431);
}

TEST(RequestParserLimits, TargetOverTheLimitIs414) {
  const ParseLimits limits{.max_header_bytes = 64, .max_body_bytes = 1024};
  EXPECT_EQ(
      error_status("GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 0, limits),
      414);
}

TEST(RequestParserLimits, TargetOverTheLimitIs414ByteByByteToo) {
  const ParseLimits limits{.max_header_bytes = 64, .max_body_bytes = 1024};
  EXPECT_EQ(error_status("GET /" + std::string(100, 'a'), 1, limits), 414);
}

TEST(RequestParserLimits, EmptyLinesOverTheLimitAre431) {
  const ParseLimits limits{.max_header_bytes = 64, .max_body_bytes = 1024};
  std::string flood;
  for (int i = 0; i < 40; ++i) flood += "\r\n";
  EXPECT_EQ(error_status(flood, 0, limits), 431);
}

TEST(RequestParserLimits, ZeroHeaderBudgetRefusesTheFirstByte) {
  RequestParser parser({.max_header_bytes = 0, .max_body_bytes = 0});
  EXPECT_EQ(parser.feed("").state, State::need_more);
  const auto r = parser.feed("G");
  EXPECT_EQ(r.state, State::error);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(parser.error().status, 431);
}

TEST(RequestParserLimits, ContentLengthAtTheLimit) {
  const ParseLimits limits{.max_header_bytes = 1024, .max_body_bytes = 10};
  const Outcome o =
      parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", 0, limits);
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.messages.at(0).request.body, "0123456789");
}

TEST(RequestParserLimits, ContentLengthOverTheLimitIs413BeforeTheBody) {
  const ParseLimits limits{.max_header_bytes = 1024, .max_body_bytes = 10};
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
  RequestParser parser(limits);
  const auto r = parser.feed(head + "01234567890");
  EXPECT_EQ(r.state, State::error);
  EXPECT_EQ(parser.error().status, 413);
  EXPECT_EQ(r.consumed, head.size());  // no body byte read
  EXPECT_EQ(error_status(head, 1, limits), 413);
}

TEST(RequestParserLimits, ChunkedBodyAtTheLimit) {
  const ParseLimits limits{.max_header_bytes = 1024, .max_body_bytes = 10};
  const std::string input =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
      "chunked\r\n\r\n4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n";
  for (std::size_t step : {0u, 1u}) {
    const Outcome o = parse(input, step, limits);
    ASSERT_FALSE(o.error) << step;
    EXPECT_EQ(o.messages.at(0).request.body, "0123456789");
  }
}

TEST(RequestParserLimits, ChunkedBodyOneOverTheLimitIs413) {
  const ParseLimits limits{.max_header_bytes = 1024, .max_body_bytes = 10};
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t step : {0u, 1u}) {
    EXPECT_EQ(error_status(head + "4\r\n0123\r\n7\r\n4567890\r\n0\r\n\r\n", step, limits), 413);
  }
  // Refused at the chunk size line, before the chunk's data arrives.
  RequestParser parser(limits);
  ASSERT_EQ(parser.feed(head).state, State::headers_done);
  const auto r = parser.feed("b\r\n");
  EXPECT_EQ(r.state, State::error);
  EXPECT_EQ(parser.error().status, 413);
}

TEST(RequestParserLimits, TrailerSectionIsBoundedLikeTheHeaders) {
  const ParseLimits limits{.max_header_bytes = 128, .max_body_bytes = 1024};
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  auto trailer_of_size = [](std::size_t size) {
    return "X-T: " + std::string(size - 9, 't') + "\r\n\r\n";
  };
  ASSERT_EQ(trailer_of_size(128).size(), 128u);
  EXPECT_EQ(error_status(head + trailer_of_size(128), 0, limits), 0);
  EXPECT_EQ(error_status(head + trailer_of_size(129), 0, limits), 431);
  EXPECT_EQ(error_status(head + trailer_of_size(129), 1, limits), 431);
}

// Every byte from a ';' to the end of the line counts, empty extensions included, over all the
// chunks of a message: 16 KiB in total (hyper's limit), whatever max_header_bytes is.
TEST(RequestParserLimits, ChunkExtensionsAreBounded) {
  const ParseLimits limits{.max_header_bytes = 64, .max_body_bytes = 1 << 20};
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::size_t most = kMaxChunkExtensionBytes;
  EXPECT_EQ(
      error_status(head + "1;" + std::string(most - 1, 'e') + "\r\na\r\n0\r\n\r\n", 0, limits), 0);
  EXPECT_EQ(error_status(head + "1;" + std::string(most, 'e') + "\r\na\r\n0\r\n\r\n", 0, limits),
            400);
  for (const std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{1000}}) {
    SCOPED_TRACE(step);
    EXPECT_EQ(error_status(head + "1" + std::string(most + 1, ';'), step, limits), 400);
  }
  std::string spread = head;
  for (std::size_t i = 0; i <= most / 1000; ++i)
    spread += "1;" + std::string(999, 'e') + "\r\na\r\n";
  EXPECT_EQ(error_status(spread + "0\r\n\r\n", 0, limits), 400);
  // Bytes of chunk data are not extensions, ';' or not.
  const std::string data(2 * most, ';');
  EXPECT_EQ(error_status(head + "8000\r\n" + data.substr(0, 0x8000) + "\r\n0\r\n\r\n", 0, limits),
            0);
}

std::string with_fields(std::size_t count) {
  std::string request = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 1; i < count; ++i) {
    request += 'f';  // appended in parts: GCC 12 warns (-Wrestrict) about "f" + to_string(i)
    request += std::to_string(i);
    request += ": v\r\n";
  }
  return request + "\r\n";
}

TEST(RequestParserLimits, HeaderFieldsAreCounted) {
  const ParseLimits limits{.max_headers = 5};
  EXPECT_EQ(error_status(with_fields(5), 0, limits), 0);
  EXPECT_EQ(error_status(with_fields(6), 0, limits), 431);
  EXPECT_EQ(error_status(with_fields(6), 1, limits), 431);
  EXPECT_EQ(error_status(with_fields(100)), 0);
  EXPECT_EQ(error_status(with_fields(101)), 431);
  // A trailer section has a count of its own.
  const std::string chunked =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  EXPECT_EQ(error_status(chunked + "a: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n", 0, limits), 0);
  EXPECT_EQ(
      error_status(chunked + "a: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\ne: 5\r\nf: 6\r\n\r\n", 0, limits),
      431);
}

// --- What a server must refuse (RFC 9112), one case each ------------------------------------

struct Refusal {
  const char* name;
  std::string input;
  int status;
};

std::string with_host(std::string_view request_line, std::string_view rest = "\r\n") {
  return std::string(request_line) + "\r\nHost: h\r\n" + std::string(rest);
}

const std::string kChunkedHead = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

const Refusal kRefusals[] = {
    // §2.2: line terminators. Bare LF (llhttp 8.1 accepts some), bare CR (llhttp refuses).
    {"BareLfEndsRequestLine", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
    {"BareLfEndsFieldLine", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400},
    {"BareLfEndsHeaderSection", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400},
    {"BareLfBeforeRequestLine", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"BareLfOnlyLines", "GET / HTTP/1.1\nHost: h\n\n", 400},
    {"BareCrInRequestLine", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400},
    {"BareCrInTarget", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"BareCrInFieldValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400},
    {"BareCrInFieldName", "GET / HTTP/1.1\r\nHost: h\r\nX\rY: a\r\n\r\n", 400},
    {"BareCrBeforeRequestLine", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"BareLfEndsChunkSize", kChunkedHead + "3\nabc\r\n0\r\n\r\n", 400},
    {"BareLfEndsChunkData", kChunkedHead + "3\r\nabc\n0\r\n\r\n", 400},
    {"BareLfEndsLastChunk", kChunkedHead + "0\n\r\n", 400},
    {"BareLfEndsEmptyTrailerSection", kChunkedHead + "0\r\n\n", 400},
    {"BareLfEndsTrailerLine", kChunkedHead + "0\r\nX: 1\n\r\n", 400},
    {"BareLfEndsTrailerSection", kChunkedHead + "0\r\nX: 1\r\n\n", 400},
    {"BareCrAfterChunkSize", kChunkedHead + "3\rabc\r\n0\r\n\r\n", 400},
    // §2.2: whitespace between the start line and the first field line.
    {"WhitespaceBeforeFirstField", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
    // §3: the request line is method SP target SP version.
    {"TwoSpacesAfterMethod", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"TwoSpacesAfterTarget", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"TabAfterMethod", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"SpaceAfterVersion", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
    {"SpaceInTarget", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"MissingVersion", "GET /\r\nHost: h\r\n\r\n", 400},
    // §5.1: no whitespace between field name and colon.
    {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
    {"TabBeforeColon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400},
    {"SpaceBeforeColonInTrailer", kChunkedHead + "0\r\nX : 1\r\n\r\n", 400},
    // §5.2: obs-fold.
    {"ObsFoldWithSpace", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
    {"ObsFoldWithTab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400},
    {"ObsFoldInTrailer", kChunkedHead + "0\r\nX: 1\r\n 2\r\n\r\n", 400},
    // §6.1, §6.3: Content-Length and Transfer-Encoding.
    {"ContentLengthThenTransferEncoding",
     with_host("POST / HTTP/1.1",
               "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
     400},
    {"TransferEncodingThenContentLength",
     with_host("POST / HTTP/1.1",
               "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
     400},
    {"DifferentContentLengths",
     with_host("POST / HTTP/1.1", "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), 400},
    {"RepeatedContentLength",  // RFC 9110 §8.6 lets a recipient refuse this too
     with_host("POST / HTTP/1.1", "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"), 400},
    {"ContentLengthList", with_host("POST / HTTP/1.1", "Content-Length: 3, 3\r\n\r\nabc"), 400},
    {"NegativeContentLength", with_host("POST / HTTP/1.1", "Content-Length: -1\r\n\r\n"), 400},
    {"SignedContentLength", with_host("POST / HTTP/1.1", "Content-Length: +3\r\n\r\nabc"), 400},
    {"HexContentLength", with_host("POST / HTTP/1.1", "Content-Length: 0x3\r\n\r\nabc"), 400},
    {"EmptyContentLength", with_host("POST / HTTP/1.1", "Content-Length:\r\n\r\n"), 400},
    {"OverflowingContentLength",
     with_host("POST / HTTP/1.1", "Content-Length: 99999999999999999999999\r\n\r\n"), 400},
    {"ChunkedNotFinal", with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked, gzip\r\n\r\n"),
     400},
    {"OnlyUnknownCoding", with_host("POST / HTTP/1.1", "Transfer-Encoding: gzip\r\n\r\nabc"), 400},
    {"ChunkedTwice",
     with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"), 400},
    {"ChunkedTwiceInTwoFields",
     with_host("POST / HTTP/1.1",
               "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
     400},
    {"ChunkedThenAnotherField",
     with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"),
     400},
    {"NotQuiteChunked",
     with_host("POST / HTTP/1.1", "Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n"), 400},
    {"EmptyTransferEncoding", with_host("POST / HTTP/1.1", "Transfer-Encoding:\r\n\r\n0\r\n\r\n"),
     400},
    // Found by the differential fuzzer: Beast frames this without a body, llhttp as chunked.
    {"TransferCodingThatIsNotAToken",
     with_host("POST / HTTP/1.1", "Transfer-Encoding: ;;,, chunked\r\n\r\n0\r\n\r\n"), 400},
    {"TransferEncodingInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400},
    {"UnknownCodingBeforeChunked",
     with_host("POST / HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 501},
    {"UnknownCodingInAnEarlierField",
     with_host("POST / HTTP/1.1",
               "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
     501},
    // §7.1: chunk-size = 1*HEXDIG, then [chunk-ext] CRLF; chunk-data CRLF.
    {"ChunkSizeNotHex", kChunkedHead + "zz\r\nabc\r\n0\r\n\r\n", 400},
    {"ChunkSizeWithPrefix", kChunkedHead + "0x3\r\nabc\r\n0\r\n\r\n", 400},
    {"ChunkSizeNegative", kChunkedHead + "-3\r\nabc\r\n0\r\n\r\n", 400},
    {"ChunkSizeLeadingSpace", kChunkedHead + " 3\r\nabc\r\n0\r\n\r\n", 400},
    {"ChunkSizeTrailingSpace", kChunkedHead + "3 \r\nabc\r\n0\r\n\r\n", 400},
    {"ChunkSizeEmpty", kChunkedHead + "\r\nabc\r\n0\r\n\r\n", 400},
    {"ChunkSizeOverflow", kChunkedHead + "fffffffffffffffff1\r\nabc\r\n0\r\n\r\n", 400},
    {"ChunkDataTooLong", kChunkedHead + "3\r\nabcd\r\n0\r\n\r\n", 400},
    {"ChunkExtensionWithControlCharacter", kChunkedHead + "3;a\x01\r\nabc\r\n0\r\n\r\n", 400},
    // §3.2: Host.
    {"MissingHost", "GET / HTTP/1.1\r\n\r\n", 400},
    {"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"TwoHostsInHttp10", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400},
    {"HostWithSpace", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
    {"HostWithPath", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
    {"HostWithUserinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
    {"HostWithBadPort", "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400},
    {"HostWithUnclosedLiteral", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
    {"HostWithShortEscape", "GET / HTTP/1.1\r\nHost: a%4:80\r\n\r\n", 400},
    {"HostWithEscapeAtTheEnd", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", 400},
    {"HostWithTwoPorts", "GET / HTTP/1.1\r\nHost: a:80:81\r\n\r\n", 400},
    {"AbsoluteTargetWithEmptyHost", "GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    // Invalid characters: method (a token), target (RFC 3986), field names (tokens), values.
    {"ControlCharacterInMethod", with_host("G\x01T / HTTP/1.1"), 400},
    {"SeparatorInMethod", with_host("GE(T / HTTP/1.1"), 400},
    {"UnknownMethodToken", with_host("FOO / HTTP/1.1"), 501},
    {"LowercaseMethod", with_host("get / HTTP/1.1"), 501},
    // Where llhttp stops is not where the token ends: the status must not depend on the split.
    {"UnknownMethodThenSeparator", with_host("FOOBAR(x / HTTP/1.1"), 400},
    {"ResponseInsteadOfRequest", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 400},
    {"ControlCharacterInTarget", with_host("GET /a\x01 HTTP/1.1"), 400},
    {"DeleteInTarget", with_host("GET /a\x7f HTTP/1.1"), 400},
    {"NonAsciiInTarget", with_host("GET /caf\xc3\xa9 HTTP/1.1"), 400},
    {"TabInTarget", with_host("GET /a\tb HTTP/1.1"), 400},
    {"QuoteInTarget", with_host("GET /a\"b HTTP/1.1"), 400},
    {"AngleBracketInTarget", with_host("GET /a<b> HTTP/1.1"), 400},
    {"BraceInTarget", with_host("GET /a{b} HTTP/1.1"), 400},
    {"BackslashInTarget", with_host("GET /a\\b HTTP/1.1"), 400},
    {"CaretInTarget", with_host("GET /a^b HTTP/1.1"), 400},
    {"PipeInTarget", with_host("GET /a|b HTTP/1.1"), 400},
    {"BacktickInTarget", with_host("GET /a`b HTTP/1.1"), 400},
    {"FragmentInTarget", with_host("GET /a#b HTTP/1.1"), 400},
    {"BadPercentEscape", with_host("GET /a%zz HTTP/1.1"), 400},
    {"TruncatedPercentEscape", with_host("GET /a%4 HTTP/1.1"), 400},
    {"BadPercentEscapeInQuery", with_host("GET /a?b=%g0 HTTP/1.1"), 400},
    {"RelativeTarget", with_host("GET a/b HTTP/1.1"), 400},
    {"AsteriskWithGet", with_host("GET * HTTP/1.1"), 400},
    {"AbsoluteFormWithOtherScheme", with_host("GET ftp://h/a HTTP/1.1"), 400},
    {"AbsoluteFormWithEmptyHost", with_host("GET http:///a HTTP/1.1"), 400},
    {"AbsoluteFormWithUserinfo", with_host("GET http://u:p@h/a HTTP/1.1"), 400},
    {"SeparatorInFieldName", "GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", 400},
    {"ControlCharacterInFieldName", "GET / HTTP/1.1\r\nHost: h\r\nX\x01: 1\r\n\r\n", 400},
    {"EmptyFieldName", "GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n", 400},
    {"FieldLineWithoutColon", "GET / HTTP/1.1\r\nHost: h\r\nXY\r\n\r\n", 400},
    {"NulInFieldValue", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 35), 400},
    {"ControlCharacterInFieldValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", 400},
    {"DeleteInFieldValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n", 400},
    {"ControlCharacterInTrailerValue", kChunkedHead + "0\r\nX: a\x01z\r\n\r\n", 400},
    {"EmptyTrailerName", kChunkedHead + "0\r\n: 1\r\n\r\n", 400},
    // §2.3 / RFC 9110 §2.5: versions other than 1.0 and 1.1.
    {"Http12", with_host("GET / HTTP/1.2"), 505},
    {"Http20", with_host("GET / HTTP/2.0"), 505},
    {"Http30", with_host("GET / HTTP/3.0"), 505},
    {"Http09", with_host("GET / HTTP/0.9"), 505},
    {"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
    {"TwoDigitMinorVersion", with_host("GET / HTTP/1.10"), 400},
    {"LowercaseHttpName", with_host("GET / http/1.1"), 400},
    {"NonDigitVersion", with_host("GET / HTTP/x.1"), 400},
    // Not for an origin server.
    {"Connect", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 501},
};

class RequestParserRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(RequestParserRefuses, AtOnce) {
  const Outcome o = parse(GetParam().input);
  ASSERT_TRUE(o.error) << "accepted:\n" << describe(o);
  EXPECT_EQ(o.error->status, GetParam().status) << o.error->message;
  EXPECT_FALSE(o.error->message.empty());
  EXPECT_TRUE(o.messages.empty());
}

TEST_P(RequestParserRefuses, OneByteAtATime) {
  const Outcome o = parse(GetParam().input, 1);
  ASSERT_TRUE(o.error) << "accepted:\n" << describe(o);
  EXPECT_EQ(o.error->status, GetParam().status) << o.error->message;
}

INSTANTIATE_TEST_SUITE_P(Rfc9112, RequestParserRefuses, testing::ValuesIn(kRefusals),
                         [](const testing::TestParamInfo<Refusal>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(RequestParser, ErrorMessagesAreShortAndSpecific) {
  auto message = [](std::string_view input) {
    const Outcome o = parse(input);
    return o.error ? std::string(o.error->message) : std::string("accepted");
  };
  EXPECT_EQ(message("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n"),
            "invalid header value character");
  EXPECT_EQ(message("GET / HTTP/1.1\r\n\r\n"), "missing Host header");
  EXPECT_EQ(message("GET / HTTP/1.1\r\nHost: h\r\n\n"), "bare LF line terminator");
  EXPECT_EQ(message(with_host("POST / HTTP/1.1",
                              "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")),
            "both Content-Length and Transfer-Encoding");
  EXPECT_EQ(message(with_host("GET / HTTP/2.0")), "HTTP version not supported");
}

TEST(RequestParser, WhatStaysAccepted) {
  // HTTP/1.0 needs no Host; an empty Host is valid (RFC 9112 §3.2); IP literals and ports.
  EXPECT_EQ(error_status("GET / HTTP/1.0\r\n\r\n"), 0);
  EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
  EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0);
  EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n"), 0);
  EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a%41b:80\r\n\r\n"), 0);
  EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"), 0);  // port = *DIGIT
  EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), 0);
  // Every pchar, '/' and '?' in a target, and escapes.
  EXPECT_EQ(error_status(with_host("GET /aZ09-._~!$&'()*+,;=:@/%2f?a/?b HTTP/1.1")), 0);
  // Every method llhttp knows that is not CONNECT reaches the router.
  EXPECT_EQ(error_status(with_host("PATCH / HTTP/1.1")), 0);
  EXPECT_EQ(error_status(with_host("PROPFIND / HTTP/1.1")), 0);
  // An empty list element in Transfer-Encoding is allowed (RFC 9110 §5.6.1).
  EXPECT_EQ(
      error_status(with_host("POST / HTTP/1.1", "Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n")),
      0);
}

}  // namespace
}  // namespace brigade::server::detail
