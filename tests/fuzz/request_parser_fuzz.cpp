// libFuzzer target for the request path: arbitrary bytes into the request parser, in two pieces
// split where the fuzzer says, and whatever it makes of them through the response writer.
//
// Input: [split (2 bytes, big-endian)] [status (1 byte)] [the bytes on the wire...]
//
// Invariants checked (a violation aborts, which libFuzzer reports with the input):
//   - feed() never claims more bytes than it was given; need_more means it took them all;
//   - every error carries a 4xx/5xx status and a message, and the parser stays in error;
//   - a complete message with a Content-Length has a body of exactly that length;
//   - the requests parsed, and the error that ends them (its status too), do not depend on how
//     the bytes were split (incremental parsing);
//   - the writer's head is well formed whatever the handler put in the response: a valid status
//     line, no bare CR or LF (no response splitting), then exactly the body it should carry.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "request_parser.hpp"
#include "response_writer.hpp"

namespace {

using brigade::server::Request;
using brigade::server::Response;
using namespace brigade::server::detail;

// Small limits, so that 413, 414 and 431 are within the fuzzer's reach.
constexpr ParseLimits kLimits{.max_header_bytes = 2048, .max_body_bytes = 8192};

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) violated(what);
}

bool is_bodiless(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// Serializes `response` and checks the result's framing.
void check_written(const Response& response, const ResponseContext& context) {
  std::string out;
  const BodyFraming framing = write_response(out, response, context);
  check(framing == BodyFraming::complete, "a response without a stream is framed as complete");

  check(out.starts_with("HTTP/1.1 ") && out.size() > 13 && out[12] == ' ', "status line");
  const int expected = response.status >= 100 && response.status <= 999 ? response.status : 500;
  const int written = (out[9] - '0') * 100 + (out[10] - '0') * 10 + (out[11] - '0');
  check(written == expected, "status code written as given (or 500 when out of range)");

  const std::size_t head_end = out.find("\r\n\r\n");
  check(head_end != std::string::npos, "the head ends with an empty line");
  for (std::size_t i = 0; i < head_end; ++i) {
    if (out[i] == '\r') check(out[i + 1] == '\n', "no bare CR in the head");
    if (out[i] == '\n') check(i > 0 && out[i - 1] == '\r', "no bare LF in the head");
  }

  const std::string_view body = std::string_view(out).substr(head_end + 4);
  if (context.head || is_bodiless(written)) {
    check(body.empty(), "no body after HEAD or a bodiless status");
  } else {
    check(body == response.body, "the body follows the head unchanged");
  }
}

struct Parsed {
  std::vector<std::string> events;  // one line per message or error, to compare two runs
};

// Feeds `pieces` one after the other, as the connection task would with what each read gives.
// `status` and `raw` shape the response written for each request.
Parsed parse(const std::vector<std::string_view>& pieces, int status, std::string_view raw) {
  Parsed parsed;
  RequestParser parser(kLimits);
  bool stopped = false;
  for (std::string_view rest : pieces) {
    // Each round makes progress or moves the state forward; bound them against a livelock.
    std::size_t rounds = 2 * rest.size() + 8;
    while (!stopped) {
      check(rounds-- > 0, "feed() keeps returning without progress");
      const auto [consumed, state] = parser.feed(rest);
      check(consumed <= rest.size(), "consumed <= size");
      rest.remove_prefix(consumed);

      if (state == RequestParser::State::need_more) {
        check(rest.empty(), "need_more only once every byte was taken");
        break;
      }
      if (state == RequestParser::State::error) {
        const ParseError& error = parser.error();
        check(error.status >= 400 && error.status <= 599, "an error carries a 4xx/5xx status");
        check(!error.message.empty(), "an error carries a message");
        check(parser.feed("x").state == RequestParser::State::error, "errors are sticky");
        parsed.events.push_back("error " + std::to_string(error.status));
        const ResponseContext context{
            .date = {}, .version_minor = 1, .head = false, .keep_alive = false};
        check_written(Response::error(error.status, error.message), context);
        stopped = true;
        break;
      }
      if (state == RequestParser::State::headers_done) {
        check(!parser.request().method.empty(), "a parsed head has a method");
        check(!parser.request().target.empty(), "a parsed head has a target");
        continue;
      }

      // message_done: answer it the way a handler might, with fields it does not control.
      const auto length = parser.content_length();
      const bool keep_alive = parser.keep_alive();
      const bool head = parser.is_head();
      Request request = parser.take_request();
      if (length) check(request.body.size() == *length, "the body has its Content-Length");
      parsed.events.push_back(request.method + ' ' + request.target + ' ' +
                              std::to_string(request.headers.size()) + ' ' + request.body);

      Response response;
      response.status = status;
      for (const auto& field : request.headers) response.headers.add(field.name, field.value);
      response.headers.add(std::string(raw.substr(0, 8)), std::string(raw));
      response.headers.add("X-Raw", std::string(raw));
      response.body = std::move(request.body);
      check_written(response, {.date = "Sun, 06 Nov 1994 08:49:37 GMT",
                               .version_minor = request.version_minor,
                               .head = head,
                               .keep_alive = keep_alive});
      // llhttp refuses bytes after a message that closes the connection: stop, as a server does.
      if (!keep_alive) stopped = true;
    }
  }
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 3, size - 3);
  const std::size_t split = (std::size_t{data[0]} << 8 | data[1]) % (wire.size() + 1);
  // 0..1020 in steps of 4: every class of status, and some the writer must replace with 500.
  const int status = data[2] * 4;
  const std::string_view raw = wire.substr(0, 32);  // bytes a handler might echo into a field

  const Parsed whole = parse({wire}, status, raw);
  const Parsed pieces = parse({wire.substr(0, split), wire.substr(split)}, status, raw);
  if (whole.events != pieces.events) {
    std::fprintf(stderr, "split at %zu of %zu\n", split, wire.size());
    for (const auto* run : {&whole, &pieces}) {
      std::fprintf(stderr, run == &whole ? "whole:\n" : "split:\n");
      for (const std::string& event : run->events) std::fprintf(stderr, "  %s\n", event.c_str());
    }
    violated("the outcome does not depend on where the bytes split");
  }
  return 0;
}
