// Differential libFuzzer target: the same bytes to Brigade's request parser and to Boost.Beast's
// http::request_parser, an independent implementation. The first message of each is compared:
//   - both accept it: method, target, version, header fields (names and values, in order) and
//     body must be the same;
//   - exactly one accepts it: the reason the other refused must be a deliberate difference listed
//     below, each with the rule of RFC 9112 (or RFC 9110) behind it;
//   - either needs more bytes: nothing to compare.
// Any other outcome aborts with both parses printed; such an input, once understood, goes into
// differential_corpus/ and either a fix or an entry below.
#include <algorithm>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "char_class.hpp"
#include "request_parser.hpp"

namespace {

namespace http = boost::beast::http;
using namespace brigade::server::detail;

// Brigade's limits are the fuzz target's usual ones; Beast's are out of the fuzzer's reach, so
// that a limit is only ever hit on Brigade's side (and is listed below).
constexpr ParseLimits kLimits{.max_header_bytes = 2048, .max_body_bytes = 8192, .max_headers = 100};
constexpr std::uint32_t kBeastLimit = 1 << 20;

// Where in the message a refusal happened (or, for empty_transfer_coding, what the message
// Brigade accepted must hold).
enum class Section : std::uint8_t { anywhere, trailers, empty_transfer_coding };

struct Difference {
  std::string_view refusal;  // Brigade's error message, or Beast's error's message
  std::string_view reason;
  Section where = Section::anywhere;  // trailers: listed only once the header section is done
};

// Requests Brigade refuses and Beast accepts: Brigade is stricter on purpose.
constexpr Difference kBrigadeStricter[] = {
    {"missing Host header", "RFC 9112 §3.2: a server MUST answer 400 to HTTP/1.1 without Host"},
    {"more than one Host header", "RFC 9112 §3.2: more than one Host field MUST get 400"},
    {"invalid Host header", "RFC 9112 §3.2: an invalid Host field value MUST get 400"},
    {"invalid request target",
     "RFC 9112 §3.2: the target's grammar (RFC 3986); characters outside it are refused"},
    {"HTTP version not supported",
     "RFC 9112 §2.3, RFC 9110 §15.6.6: 505 for a major version "
     "other than 1 (Beast accepts any digit)"},
    {"method not implemented", "RFC 9110 §9.1: 501 for a method the server does not know"},
    {"CONNECT is not supported", "RFC 9110 §9.3.6: CONNECT asks for a tunnel; 501 here"},
    {"chunked is not the final transfer coding",
     "RFC 9112 §6.3: a request whose final coding is not chunked MUST get 400"},
    {"unsupported transfer coding", "RFC 9112 §6.1: 501 for a transfer coding not understood"},
    {"Transfer-Encoding in an HTTP/1.0 request",
     "RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; refused with 400"},
    {"invalid Transfer-Encoding", "RFC 9112 §6.1: the field must be a list of codings"},
    {"invalid Content-Length",
     "RFC 9110 §8.6: Content-Length is 1*DIGIT; a list of values (\"000,0000\") MAY be refused, "
     "which llhttp does (Beast takes a list of equal values)"},
    {"more than one Content-Length",
     "RFC 9112 §6.3: a repeated Content-Length, even of one value, MAY be refused (llhttp does)"},
    {"both Content-Length and Transfer-Encoding",
     "RFC 9112 §6.3: a server MAY refuse such a request, and ought to close after it (smuggling)"},
    {"bare CR in request", "RFC 9112 §2.2: a bare CR MUST be refused or replaced"},
    {"bare LF line terminator",
     "RFC 9112 §2.2: a recipient MAY accept a bare LF as line end; refused here (smuggling)"},
    {"header line starts with whitespace (obs-fold)",
     "RFC 9112 §5.2: obs-fold MUST be refused or replaced by SP"},
    {"invalid request line", "RFC 9112 §3: exactly one SP between the three parts"},
    {"whitespace before the first header field",
     "RFC 9112 §2.2: whitespace before the first field MUST be refused or its line ignored"},
    {"invalid header value character",
     "RFC 9110 §5.5: CR, LF and NUL (and other controls) are not field-vchars"},
    {"chunk extensions too long", "RFC 9112 §7.1.1: a server ought to limit chunk extensions"},
    {"request header section too large", "RFC 9112 §2.3 and RFC 6585 §5: a server limit (431)"},
    {"too many header fields", "RFC 6585 §5: a server limit on fields (431)"},
    {"request target too long", "RFC 9112 §3: a server limit on the target (414)"},
    {"request body too large", "RFC 9110 §15.5.14: a server limit on content (413)"},
    {"trailer section too large", "RFC 9112 §7.1.2: a server limit (431)"},
    {"too many trailer fields", "RFC 9112 §7.1.2: a server limit (431)"},
    {"invalid chunked encoding", "RFC 9112 §7.1: the chunk grammar, BWS included, read strictly"},
    {"malformed request body", "RFC 9112 §7.1: the chunk grammar, read strictly"},
    // Not on purpose: a known limit of llhttp 8.1, documented in request_parser.cpp.
    {"chunk extension form not supported",
     "RFC 9112 §7.1.1 allows \"1;a=b;c\" and \"1 ;a\"; llhttp 8.1 refuses them (400)"},
};

// Requests Beast refuses and Brigade accepts: Beast is stricter (or reads differently), and
// Brigade's reading is the RFC's.
constexpr Difference kBeastStricter[] = {
    {"bad method",
     "RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line "
     "(Brigade does, Beast takes it for a bad method)"},
    {"bad chunk extension",
     "RFC 9112 §7.1.1: chunk-ext-val is a token or quoted-string, so \"a=\" is malformed; llhttp "
     "accepts an empty value, and extensions are ignored either way (a recipient MUST ignore "
     "extensions it does not understand)"},
    {"bad value",
     "RFC 9110 §7.6.1: Beast refuses a Connection field that is not a list of tokens; Brigade "
     "looks only for the close and keep-alive options in it, and a malformed list has neither"},
    {"bad Content-Length",
     "RFC 9110 §6.5.1: Content-Length may not be sent in a trailer section, and a recipient "
     "must not process a trailer field it does not know to be allowed there: Brigade drops "
     "trailers, Beast reads framing fields in them",
     Section::trailers},
    {"bad Transfer-Encoding",
     "RFC 9110 §6.5.1: as Content-Length, Transfer-Encoding is framing and not allowed in a "
     "trailer section; Brigade drops it there, Beast parses it",
     Section::trailers},
    {"bad Transfer-Encoding",
     "RFC 9110 §5.6.1: a recipient MUST accept and ignore empty list elements, so an empty "
     "Transfer-Encoding line beside \"chunked\" leaves the codings \"chunked\"; Beast refuses it",
     Section::empty_transfer_coding},
};

bool listed(std::string_view refusal, bool in_trailers, bool empty_coding, const auto& list) {
  for (const Difference& entry : list) {
    if (entry.refusal != refusal) continue;
    if (entry.where == Section::anywhere || (entry.where == Section::trailers && in_trailers) ||
        (entry.where == Section::empty_transfer_coding && empty_coding)) {
      return true;
    }
  }
  return false;
}

// The first message, as either parser understood it.
struct Message {
  std::string method;
  std::string target;
  int version = 0;  // 10 or 11
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;

  bool operator==(const Message&) const = default;
};

enum class Verdict : std::uint8_t { accepted, refused, incomplete };

struct Outcome {
  Verdict verdict = Verdict::incomplete;
  Message message;
  std::string refusal;
  bool refused_after_header = false;  // in the body or the trailer section
};

Outcome parse_with_brigade(std::string_view wire) {
  Outcome outcome;
  RequestParser parser(kLimits);
  for (;;) {
    const auto [consumed, state] = parser.feed(wire);
    wire.remove_prefix(consumed);
    if (state == RequestParser::State::need_more) return outcome;
    if (state == RequestParser::State::error) {
      outcome.verdict = Verdict::refused;
      outcome.refusal = parser.error().message;
      return outcome;
    }
    if (state == RequestParser::State::message_done) break;
  }
  const brigade::server::Request request = parser.take_request();
  outcome.verdict = Verdict::accepted;
  outcome.message.method = request.method;
  outcome.message.target = request.target;
  outcome.message.version = 10 + request.version_minor;
  for (const auto& field : request.headers)
    outcome.message.fields.emplace_back(field.name, field.value);
  outcome.message.body = request.body;
  return outcome;
}

Outcome parse_with_beast(std::string_view wire) {
  Outcome outcome;
  http::request_parser<http::string_body> parser;
  parser.header_limit(kBeastLimit);
  parser.body_limit(kBeastLimit);
  parser.eager(true);
  boost::beast::error_code error;
  while (!parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), error);
    wire.remove_prefix(used);
    if (error == http::error::need_more) return outcome;
    if (error) {
      outcome.verdict = Verdict::refused;
      outcome.refusal = error.message();
      outcome.refused_after_header = parser.is_header_done();
      return outcome;
    }
    if (used == 0 && !parser.is_done()) return outcome;
  }
  const auto& request = parser.get();
  outcome.verdict = Verdict::accepted;
  outcome.message.method = std::string(request.method_string());
  outcome.message.target = std::string(request.target());
  outcome.message.version = static_cast<int>(request.version());
  for (const auto& field : request) {
    outcome.message.fields.emplace_back(std::string(field.name_string()),
                                        std::string(field.value()));
  }
  outcome.message.body = request.body();
  return outcome;
}

using FieldsByName = std::map<std::string, std::vector<std::string>>;

// Fields of one name in order, by lower-case name: only the order of fields of the same name
// matters (RFC 9110 §5.3), and Beast keeps such fields together.
FieldsByName by_name(const Message& message) {
  FieldsByName fields;
  for (const auto& [name, value] : message.fields) {
    std::string lower(name);
    for (char& c : lower) c = ascii_lower(c);
    fields[lower].push_back(value);
  }
  return fields;
}

// Whether Beast's fields are Brigade's, allowing for the trailer fields Beast adds to those of
// a chunked message (Brigade checks trailers and drops them, RFC 9110 §6.5.1): for each name,
// Brigade's values come first in Beast's.
bool same_fields(const Message& brigade, const Message& beast, bool chunked) {
  const FieldsByName ours = by_name(brigade);
  const FieldsByName theirs = by_name(beast);
  if (!chunked) return ours == theirs;
  for (const auto& [name, values] : ours) {
    const auto found = theirs.find(name);
    if (found == theirs.end() ||
        !std::ranges::equal(values, found->second | std::views::take(values.size()))) {
      return false;
    }
  }
  return true;
}

// Whether a Transfer-Encoding field holds an empty list element ("", "a,,b", ", chunked").
bool has_empty_transfer_coding(const Message& message) {
  for (const auto& [name, value] : message.fields) {
    if (!brigade::server::equals_ignore_case(name, "Transfer-Encoding")) continue;
    std::string_view rest = value;
    for (;;) {
      const std::size_t comma = rest.find(',');
      std::string_view element = rest.substr(0, comma);
      while (!element.empty() && (element.front() == ' ' || element.front() == '\t'))
        element.remove_prefix(1);
      while (!element.empty() && (element.back() == ' ' || element.back() == '\t'))
        element.remove_suffix(1);
      if (element.empty()) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool chunked(const Message& message) {
  for (const auto& [name, value] : message.fields) {
    if (brigade::server::equals_ignore_case(name, "Transfer-Encoding")) return true;
  }
  return false;
}

void print(const char* who, const Outcome& outcome) {
  std::fprintf(stderr, "%s: ", who);
  if (outcome.verdict == Verdict::incomplete) std::fprintf(stderr, "needs more\n");
  if (outcome.verdict == Verdict::refused)
    std::fprintf(stderr, "refused: %s\n", outcome.refusal.c_str());
  if (outcome.verdict != Verdict::accepted) return;
  const Message& m = outcome.message;
  std::fprintf(stderr, "%s %s HTTP/%d.%d, body %zu bytes\n", m.method.c_str(), m.target.c_str(),
               m.version / 10, m.version % 10, m.body.size());
  for (const auto& [name, value] : m.fields)
    std::fprintf(stderr, "  [%s]: [%s]\n", name.c_str(), value.c_str());
}

[[noreturn]] void disagree(const char* what, const Outcome& brigade, const Outcome& beast) {
  std::fprintf(stderr, "parsers disagree: %s\n", what);
  print("brigade", brigade);
  print("beast", beast);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view wire(reinterpret_cast<const char*>(data), size);
  const Outcome brigade = parse_with_brigade(wire);
  const Outcome beast = parse_with_beast(wire);
  if (brigade.verdict == Verdict::incomplete || beast.verdict == Verdict::incomplete) return 0;
  if (brigade.verdict == Verdict::accepted && beast.verdict == Verdict::accepted) {
    const Message& ours = brigade.message;
    const Message& theirs = beast.message;
    const bool same = ours.method == theirs.method && ours.target == theirs.target &&
                      ours.version == theirs.version && ours.body == theirs.body &&
                      same_fields(ours, theirs, chunked(ours));
    if (!same) {
      disagree("the same message read differently", brigade, beast);
    }
    return 0;
  }
  if (brigade.verdict == Verdict::refused && beast.verdict == Verdict::accepted &&
      !listed(brigade.refusal, brigade.refused_after_header, false, kBrigadeStricter)) {
    disagree("Brigade refuses what Beast accepts, and the reason is not listed", brigade, beast);
  }
  if (brigade.verdict == Verdict::accepted && beast.verdict == Verdict::refused &&
      !listed(beast.refusal, beast.refused_after_header, has_empty_transfer_coding(brigade.message),
              kBeastStricter)) {
    disagree("Beast refuses what Brigade accepts, and the reason is not listed", brigade, beast);
  }
  return 0;
}
