// The request parser. llhttp, built with LLHTTP_STRICT_MODE and no lenient flags, tokenizes;
// this file adds what RFC 9112 asks of a server that llhttp 8.1 lets through (one test case each
// in tests/server/request_parser_test.cpp):
//
//   what                                      llhttp 8.1 strict         here
//   bare LF after the request line, before    accepted                  LineScanner: 400
//     it, ending the header/trailer section
//   bare CR before the request line           skipped                   LineScanner: 400
//   obs-fold in header or trailer section     joined into the value     LineScanner: 400
//   extra SPs in the request line             skipped                   LineScanner: 400
//   no Host in HTTP/1.1, two Hosts, bad Host  accepted                  check_head(): 400
//   target chars "<>{}\^|`# or a bad %XX      accepted                  parse_target(): 400
//   "*" without OPTIONS; absolute-form with   accepted                  parse_target(): 400
//     another scheme, empty host, userinfo
//   HTTP/2.0, HTTP/0.9 (and no version)       accepted                  505 (400 w/o version)
//   other HTTP/x.y                            "Invalid HTTP version"    mapped to 505
//   Transfer-Encoding: unknown coding before  accepted                  501
//     chunked; any in HTTP/1.0; empty, or an  accepted / misparsed      400
//     element that is not a token (";x")
//   empty field name                          accepted                  400
//   a token method llhttp does not know       "invalid method"          501 (else 400)
//   CONNECT                                   pauses for a tunnel       501
// llhttp itself refuses bare CR elsewhere, bare LF inside field lines, control characters,
// whitespace before a colon (strict build), Content-Length beside Transfer-Encoding, repeated or
// malformed Content-Length, chunked not last, and malformed chunk lines.
//
// Known limit of llhttp 8.1: a chunk extension after one with an unquoted value ("1;a=b;c") and
// BWS in chunk extensions ("1 ;a") are refused (400, "chunk extension form not supported"),
// though RFC 9112 §7.1.1 allows them. Clients seldom send chunk extensions at all.
#include "request_parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <memory>
#include <new>

#include "char_class.hpp"
#include "request_target.hpp"

namespace brigade::server::detail {
namespace {

static_assert(sizeof(llhttp_t) <= 96 && alignof(llhttp_t) <= 8,
              "RequestParser::kLlhttpSize no longer fits llhttp_t");

// Reserving a declared Content-Length up front saves the copies of a growing string; past this
// the body grows as it arrives, so a client cannot make us commit memory it never sends.
constexpr std::size_t kMaxBodyReserve = 1024 * 1024;

constexpr char kNoBytes[1] = {};

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Whether `s` equals `lower` (which is in lower case), ignoring the case of `s`.
bool lower_equals(std::string_view s, std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (ascii_lower(s[i]) != lower[i]) return false;
  }
  return true;
}

bool reason_is(const llhttp_t* parser, std::string_view reason) noexcept {
  const char* actual = llhttp_get_error_reason(parser);
  return actual != nullptr && actual == reason;
}

}  // namespace

// llhttp's C callbacks, forwarding to the parser that owns the llhttp_t.
struct ParserCallbacks {
  static RequestParser& self(llhttp_t* p) noexcept { return *static_cast<RequestParser*>(p->data); }

  static int on_url(llhttp_t* p, const char* at, std::size_t length) {
    self(p).request_.target.append(at, length);
    return 0;
  }
  static int on_url_complete(llhttp_t* p) noexcept {
    self(p).msg_.url_complete = true;
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t length) {
    return self(p).on_header_field(at, length);
  }
  static int on_header_field_complete(llhttp_t* p) noexcept {
    return self(p).on_header_field_complete();
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t length) {
    return self(p).on_header_value(at, length);
  }
  static int on_header_value_complete(llhttp_t* p) { return self(p).on_header_value_complete(); }
  static int on_headers_complete(llhttp_t* p) { return self(p).on_headers_complete(); }
  static int on_body(llhttp_t* p, const char* at, std::size_t length) {
    return self(p).on_body(at, length);
  }
  static int on_chunk_header(llhttp_t* p) noexcept { return self(p).on_chunk_header(); }
  static int on_message_complete(llhttp_t* p) noexcept { return self(p).on_message_complete(); }

  // No exception may unwind through llhttp's C frames: the callbacks that allocate catch
  // std::bad_alloc and stop the parser with an error instead.
  template <int (*Callback)(llhttp_t*, const char*, std::size_t)>
  static int guarded(llhttp_t* p, const char* at, std::size_t length) noexcept {
    try {
      return Callback(p, at, length);
    } catch (...) {
      return self(p).fail_in_callback(500, "out of memory");
    }
  }
  template <int (*Callback)(llhttp_t*)>
  static int guarded(llhttp_t* p) noexcept {
    try {
      return Callback(p);
    } catch (...) {
      return self(p).fail_in_callback(500, "out of memory");
    }
  }

  static constexpr llhttp_settings_t make_settings() noexcept {
    llhttp_settings_t s{};  // the callbacks not set stay null: llhttp skips them
    s.on_url = guarded<on_url>;
    s.on_url_complete = on_url_complete;
    s.on_header_field = guarded<on_header_field>;
    s.on_header_field_complete = on_header_field_complete;
    s.on_header_value = guarded<on_header_value>;
    s.on_header_value_complete = guarded<on_header_value_complete>;
    s.on_headers_complete = guarded<on_headers_complete>;
    s.on_body = guarded<on_body>;
    s.on_chunk_header = on_chunk_header;
    s.on_message_complete = on_message_complete;
    return s;
  }
};

namespace {
constexpr llhttp_settings_t kSettings = ParserCallbacks::make_settings();

llhttp_t* as_llhttp(unsigned char* storage) noexcept {
  return std::launder(reinterpret_cast<llhttp_t*>(storage));
}
}  // namespace

RequestParser::RequestParser(ParseLimits limits) noexcept : limits_(limits) {
  llhttp_t* parser = ::new (static_cast<void*>(llhttp_storage_)) llhttp_t{};
  llhttp_init(parser, HTTP_REQUEST, &kSettings);
  parser->data = this;
  scanner_.start_head();
}

std::optional<std::uint64_t> RequestParser::content_length() const noexcept {
  if (!msg_.has_content_length) return std::nullopt;
  return msg_.content_length;
}

void RequestParser::start_message() noexcept {
  // In place, without a temporary: after take_request() only moved-from members are left.
  std::destroy_at(&request_);
  std::construct_at(&request_);
  msg_ = MessageState{};
  field_name_.clear();
  field_value_.clear();
  scanner_.start_head();
  phase_ = Phase::idle;
}

RequestParser::Result RequestParser::feed(std::string_view bytes) {
  if (phase_ == Phase::error) return {0, State::error};
  if (phase_ == Phase::done) start_message();
  if (phase_ == Phase::method) return scan_unknown_method(bytes, 0);
  llhttp_t* parser = as_llhttp(llhttp_storage_);
  const char* const base = bytes.empty() ? kNoBytes : bytes.data();
  std::size_t used = 0;

  for (;;) {
    // A pause (headers_done, message_done, the start of trailers) ends one call; go on from it.
    const bool resumed = llhttp_get_errno(parser) == HPE_PAUSED;
    if (resumed) llhttp_resume(parser);

    const Phase before = phase_;
    const bool in_section = before != Phase::body;  // a head or a trailer section: bounded
    std::size_t length = bytes.size() - used;
    if (in_section) length = std::min(length, limits_.max_header_bytes - msg_.section_bytes);
    if (length == 0 && !resumed) {
      // Nothing left, or the section's budget is spent with bytes still to come.
      return {used, used == bytes.size() ? State::need_more : fail_section_limit(before)};
    }
    if (before == Phase::idle && length > 0) phase_ = Phase::head;

    const char* const piece = base + used;
    framing_from_ = piece;
    const auto err = llhttp_execute(parser, piece, length);
    std::size_t consumed = length;
    if (err != HPE_OK) {
      const char* pos = llhttp_get_error_pos(parser);
      consumed = pos >= piece && pos <= piece + length ? static_cast<std::size_t>(pos - piece) : 0;
    }
    used += consumed;
    if (before == Phase::body && msg_.chunked) {
      scan_chunk_framing(framing_from_, piece + consumed);
      if (msg_.extension_bytes > kMaxChunkExtensionBytes) {
        return {used, fail(400, "chunk extensions too long")};
      }
    }

    if (in_section) {
      msg_.section_bytes += consumed;
      // Line structure first: a malformed line explains whatever llhttp made of it.
      const std::string_view fault = scanner_.scan({piece, consumed});
      if (!fault.empty()) return {used, fail(400, fault)};
    }
    if (err == HPE_PAUSED) {
      if (phase_ == Phase::body) return {used, State::headers_done};
      if (phase_ == Phase::done) return {used, State::message_done};
      continue;  // the trailer section starts: bound and scan it
    }
    if (err == HPE_INVALID_METHOD && error_.status == 0) return scan_unknown_method(bytes, used);
    if (err != HPE_OK) return {used, fail_from_llhttp(err, piece, length)};
    if (in_section && msg_.section_bytes >= limits_.max_header_bytes) {
      // The section is not over, so its next byte would pass the limit: refuse it now.
      return {used, fail_section_limit(before)};
    }
    return {used, State::need_more};
  }
}

RequestParser::State RequestParser::fail_section_limit(Phase section) noexcept {
  if (section == Phase::trailers) return fail(431, "trailer section too large");
  // RFC 9112 §3: a target longer than the server will parse gets 414.
  if (!request_.target.empty() && !msg_.url_complete) return fail(414, "request target too long");
  return fail(431, "request header section too large");
}

// llhttp refuses any method outside its list at the first byte that leaves it. A method that is
// still a token up to its SP is merely unknown (RFC 9110 §9.1: 501); anything else is malformed
// (400). The token may go on in bytes not received yet: the answer waits for them, so it never
// depends on how the request was split.
RequestParser::Result RequestParser::scan_unknown_method(std::string_view bytes, std::size_t from) {
  phase_ = Phase::method;
  const auto rest = bytes.substr(from);
  const auto token = std::find_if_not(rest.begin(), rest.end(), is_tchar);
  const auto length = static_cast<std::size_t>(token - rest.begin());
  msg_.section_bytes += length;
  if (msg_.section_bytes > limits_.max_header_bytes) {
    return {from + length, fail_section_limit(Phase::head)};
  }
  if (token == rest.end()) return {bytes.size(), State::need_more};
  if (*token == ' ') return {from + length, fail(501, "method not implemented")};
  return {from + length, fail(400, "invalid method")};
}

RequestParser::State RequestParser::fail(int status, std::string_view message) noexcept {
  error_ = {status, message};
  phase_ = Phase::error;
  return State::error;
}

int RequestParser::fail_in_callback(int status, std::string_view message) noexcept {
  if (error_.status == 0) error_ = {status, message};
  return HPE_USER;
}

RequestParser::State RequestParser::fail_from_llhttp(int err, const char* piece,
                                                     std::size_t length) noexcept {
  if (error_.status != 0) {  // a callback refused the message and said why
    phase_ = Phase::error;
    return State::error;
  }
  const llhttp_t* parser = as_llhttp(llhttp_storage_);
  const char* const end = piece + length;
  const char* pos = llhttp_get_error_pos(parser);
  if (pos < piece || pos > end) pos = end;

  const bool in_body = phase_ == Phase::body || phase_ == Phase::trailers;
  switch (err) {
    case HPE_INVALID_URL:
      return fail(400, "invalid request target");
    case HPE_INVALID_CONSTANT:
      return fail(400, "invalid HTTP version");
    case HPE_INVALID_VERSION:
      // Well-formed "HTTP/x.y" that is not one llhttp knows: a version we do not speak.
      if (reason_is(parser, "Invalid HTTP version")) return fail(505, "HTTP version not supported");
      return fail(400, "invalid HTTP version");
    case HPE_PAUSED_H2_UPGRADE:
      return fail(505, "HTTP/2 is not supported");
    case HPE_INVALID_HEADER_TOKEN:
      if (reason_is(parser, "Invalid header value char")) {
        return fail(400, "invalid header value character");
      }
      return fail(400, "invalid header name character");
    case HPE_UNEXPECTED_SPACE:
      return fail(400, "whitespace before the first header field");
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
      return fail(400, "bare CR in request");
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      if ((parser->flags & (F_TRANSFER_ENCODING | F_CHUNKED)) != 0) {
        return fail(400, "both Content-Length and Transfer-Encoding");
      }
      return fail(400, "more than one Content-Length");
    case HPE_INVALID_CONTENT_LENGTH:
      return fail(400, "invalid Content-Length");
    case HPE_INVALID_TRANSFER_ENCODING:
      return fail(400, "invalid Transfer-Encoding");
    case HPE_INVALID_CHUNK_SIZE:
      // llhttp 8.1 consumes the ';' after an unquoted extension value and then reads the next
      // extension's name as a chunk size, and stops at BWS before a ';'. Both are valid
      // (RFC 9112 §7.1.1): say so rather than blame the size.
      if (pos < end && (*pos == ' ' || *pos == '\t' || (pos > piece && pos[-1] == ';'))) {
        return fail(400, "chunk extension form not supported");
      }
      return fail(400, "invalid chunk size");
    case HPE_STRICT:
      return fail(400, in_body ? "invalid chunked encoding" : "malformed request");
    case HPE_CLOSED_CONNECTION:
      return fail(400, "data after Connection: close");
    default:
      return fail(400, in_body ? "malformed request body" : "malformed request");
  }
}

int RequestParser::on_header_field(const char* at, std::size_t length) {
  if (field_name_.empty() && ++msg_.fields > limits_.max_headers) {
    return fail_in_callback(
        431, phase_ == Phase::trailers ? "too many trailer fields" : "too many header fields");
  }
  field_name_.append(at, length);
  return 0;
}

int RequestParser::on_header_field_complete() noexcept {
  if (field_name_.empty()) return fail_in_callback(400, "empty header name");
  return 0;
}

int RequestParser::on_header_value(const char* at, std::size_t length) {
  if (phase_ != Phase::trailers) field_value_.append(at, length);  // trailers are checked, not kept
  return 0;
}

int RequestParser::on_header_value_complete() {
  if (phase_ == Phase::trailers) {
    field_name_.clear();
    return 0;
  }
  // llhttp drops leading whitespace; the trailing one is not part of the value either (§5.1).
  while (!field_value_.empty() && is_ows(field_value_.back())) field_value_.pop_back();

  const std::string_view name = field_name_;
  const std::string_view value = field_value_;
  switch (name.size()) {  // the fields this parser looks into, told apart by length first
    case 4:
      if (lower_equals(name, "host")) {
        if (msg_.host_fields < 2) ++msg_.host_fields;
        if (!is_valid_host(value, false)) return fail_in_callback(400, "invalid Host header");
      }
      break;
    case 6:
      if (lower_equals(name, "expect") && lower_equals(value, "100-continue")) {
        msg_.expect_continue_field = true;
      }
      break;
    case 17:
      if (lower_equals(name, "transfer-encoding")) note_transfer_encoding(value);
      break;
    default:
      break;
  }
  request_.headers.add(field_name_, field_value_);
  field_name_.clear();
  field_value_.clear();
  return 0;
}

void RequestParser::note_transfer_encoding(std::string_view value) noexcept {
  msg_.te_field = true;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (element.empty()) continue;  // empty list elements are allowed
    // A coding's parameters do not matter, but the coding must be a token (";x" is not one:
    // another parser would frame such a message differently).
    const std::string_view coding = trim_ows(element.substr(0, element.find(';')));
    if (!is_token(coding)) {
      msg_.te_malformed = true;
      continue;
    }
    msg_.te_any_coding = true;
    if (msg_.te_chunked) msg_.te_after_chunked = true;
    if (lower_equals(coding, "chunked")) {
      msg_.te_chunked = true;
    } else {
      msg_.te_unknown = true;
    }
  }
}

int RequestParser::on_headers_complete() {
  const int refused = check_head();
  if (refused != 0) return refused;
  phase_ = Phase::body;
  // headers_done: the caller decides before any body byte is read. A message without a body
  // (neither framing: RFC 9112 §6.3) has nothing to decide on, and goes on to message_done in
  // the same llhttp call.
  if (!msg_.chunked && msg_.content_length == 0) return 0;
  return HPE_PAUSED;
}

int RequestParser::check_head() {
  llhttp_t* parser = as_llhttp(llhttp_storage_);
  const int minor = parser->http_minor;
  if (parser->http_major != 1 || minor > 1)
    return fail_in_callback(505, "HTTP version not supported");
  request_.version_minor = minor;

  const auto method = static_cast<llhttp_method_t>(parser->method);
  if (method == HTTP_CONNECT) return fail_in_callback(501, "CONNECT is not supported");
  request_.method = llhttp_method_name(method);
  msg_.is_head = method == HTTP_HEAD;

  const auto parts = parse_target(request_.target, method == HTTP_OPTIONS);
  if (!parts) return fail_in_callback(400, "invalid request target");
  percent_decode_append(parts->path, request_.path, false);
  request_.query.assign(parts->query);

  // RFC 9112 §3.2.
  if (msg_.host_fields > 1) return fail_in_callback(400, "more than one Host header");
  if (msg_.host_fields == 0 && minor == 1) return fail_in_callback(400, "missing Host header");

  // RFC 9112 §6.1 and §6.3. (llhttp has refused Content-Length beside Transfer-Encoding.)
  const auto flags = parser->flags;
  if (msg_.te_field) {
    if (minor == 0) return fail_in_callback(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (msg_.te_malformed) return fail_in_callback(400, "invalid Transfer-Encoding");
    if (!msg_.te_chunked || msg_.te_after_chunked) {
      return fail_in_callback(400, "chunked is not the final transfer coding");
    }
    if (msg_.te_unknown) return fail_in_callback(501, "unsupported transfer coding");
    if ((flags & F_CHUNKED) == 0) return fail_in_callback(400, "invalid Transfer-Encoding");
  }
  msg_.chunked = (flags & F_CHUNKED) != 0;
  if ((flags & F_CONTENT_LENGTH) != 0) {
    if (msg_.chunked) return fail_in_callback(400, "both Content-Length and Transfer-Encoding");
    msg_.has_content_length = true;
    msg_.content_length = parser->content_length;
    if (msg_.content_length > limits_.max_body_bytes) {
      return fail_in_callback(413, "request body too large");
    }
    request_.body.reserve(std::min<std::size_t>(msg_.content_length, kMaxBodyReserve));
  }

  // RFC 9112 §9.3: persistence by version and the Connection options; "close" wins.
  const bool close = (flags & F_CONNECTION_CLOSE) != 0;
  const bool keep_alive = (flags & F_CONNECTION_KEEP_ALIVE) != 0;
  msg_.keep_alive = !close && (minor == 1 || keep_alive);
  msg_.expects_continue =
      msg_.expect_continue_field && minor == 1 && (msg_.chunked || msg_.content_length > 0);

  // This server never switches protocols: an Upgrade request is served as a plain one
  // (RFC 9110 §7.8 lets a server ignore Upgrade). Clearing the flag keeps llhttp parsing HTTP.
  parser->upgrade = 0;
  return 0;
}

int RequestParser::on_body(const char* at, std::size_t length) {
  // A Content-Length was checked at headers_done; this bounds a chunked body as it arrives.
  if (length > limits_.max_body_bytes - request_.body.size()) {
    return fail_in_callback(413, "request body too large");
  }
  if (msg_.chunked) {
    scan_chunk_framing(framing_from_, at);
    framing_from_ = at + length;
  }
  request_.body.append(at, length);
  return 0;
}

// RFC 9112 §7.1.1: a server ought to limit the chunk extensions it reads. llhttp reports only
// the bytes of extension names and values, so ";;;;" would pass uncounted: every framing byte
// from a ';' to the end of the line counts instead. Body data never reaches this scan, and a
// ';' cannot appear in a chunk size or in the CRLF after a chunk's data.
void RequestParser::scan_chunk_framing(const char* from, const char* to) noexcept {
  for (const char* c = from; c < to; ++c) {
    if (*c == ';') msg_.in_extension = true;
    if (*c == '\r' || *c == '\n') msg_.in_extension = false;
    if (msg_.in_extension) ++msg_.extension_bytes;
  }
}

int RequestParser::on_chunk_header() noexcept {
  const std::uint64_t size = as_llhttp(llhttp_storage_)->content_length;
  // Refuse as soon as a chunk announces more than the body may still take, before its data.
  if (size > limits_.max_body_bytes - request_.body.size()) {
    return fail_in_callback(413, "request body too large");
  }
  if (size != 0) return 0;
  // The last chunk: a trailer section follows. Pause so that feed() bounds and scans it.
  phase_ = Phase::trailers;
  msg_.section_bytes = 0;
  msg_.fields = 0;
  scanner_.start_trailers();
  return HPE_PAUSED;
}

int RequestParser::on_message_complete() noexcept {
  phase_ = Phase::done;
  return HPE_PAUSED;  // message_done: the bytes after it belong to the next request
}

}  // namespace brigade::server::detail
