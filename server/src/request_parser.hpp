#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "brigade/server/http.hpp"
#include "line_scanner.hpp"

namespace brigade::server::detail {

struct ParseLimits {
  // The request line plus the header section, CRLFs included (and, apart, a trailer section).
  std::size_t max_header_bytes = 64 * 1024;
  // The body: a Content-Length above it is refused at headers_done, before any body is read; a
  // chunked body as soon as a chunk would take it past. Chunk extensions count against
  // kMaxChunkExtensionBytes per message.
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  // Header fields at most (431 beyond), and apart the same number of trailer fields.
  std::size_t max_headers = 100;
};

// Every byte from a ';' to the end of its chunk-size line counts, empty extensions (";;;")
// included; 16 KiB per message, as hyper allows.
inline constexpr std::size_t kMaxChunkExtensionBytes = 16 * 1024;

struct ParseError {
  int status = 0;            // 400, 413, 414, 431, 501, 505 (500: out of memory)
  std::string_view message;  // short and static, e.g. "invalid header value character"
};

// An incremental, strict HTTP/1.1 request parser over llhttp (strict build, no lenient flags),
// plus the checks RFC 9112 asks of a server that llhttp 8.1 does not make (see the .cpp).
//
// Feed it bytes as they arrive, in pieces of any size; it stops at two points of each message:
//   headers_done   right after the header section of a message with a body (Content-Length
//                  above 0, or chunked): request() has the method, target, path, query and
//                  headers, and content_length()/chunked()/expects_continue() tell what comes;
//                  the body is not read yet (answer 100 Continue, or refuse, here). A message
//                  without a body has nothing to decide there and goes on to message_done;
//   message_done   right after the whole message: request() is complete. The bytes after
//                  `consumed` belong to the next (pipelined) request.
// Feed the rest of the buffer again to go on. After message_done, take_request() (or not) and
// feed again: the next message starts. After message_done with keep_alive() false, stop: llhttp
// refuses data after a message that closes the connection. On error the parser stays in error.
//
// The parser keeps a pointer to itself inside llhttp's state, so it does not move.
class RequestParser {
 public:
  enum class State : std::uint8_t { need_more, headers_done, message_done, error };
  struct Result {
    std::size_t consumed;  // bytes of the input used, from its start
    State state;
  };

  explicit RequestParser(ParseLimits limits = {}) noexcept;
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;
  ~RequestParser() = default;

  Result feed(std::string_view bytes);

  // From headers_done (without the body) to the next feed() after message_done.
  const Request& request() const noexcept { return request_; }
  // The same, for the handler to be given in place: it lives here until the next message starts.
  Request& request() noexcept { return request_; }
  // After message_done: moves the request out.
  Request take_request() noexcept { return std::move(request_); }

  // From headers_done, for the current message:
  // whether the connection may stay open after it (HTTP/1.1: unless "Connection: close";
  // HTTP/1.0: only with "Connection: keep-alive"; "close" always wins).
  bool keep_alive() const noexcept { return msg_.keep_alive; }
  // "Expect: 100-continue" on an HTTP/1.1 request that has a body (RFC 9110 §10.1.1: ignored on
  // HTTP/1.0, and pointless without content).
  bool expects_continue() const noexcept { return msg_.expects_continue; }
  // The Content-Length, when the body is framed by one.
  std::optional<std::uint64_t> content_length() const noexcept;
  bool chunked() const noexcept { return msg_.chunked; }
  bool is_head() const noexcept { return msg_.is_head; }

  // The body received so far, and room for `bytes` of it without reallocating (the caller
  // accounts for the memory: see BodyBudget).
  std::size_t body_size() const noexcept { return request_.body.size(); }
  std::size_t body_capacity() const noexcept { return request_.body.capacity(); }
  void reserve_body(std::size_t bytes) { request_.body.reserve(bytes); }

  // After State::error.
  const ParseError& error() const noexcept { return error_; }

  // No byte of a new message consumed yet: between messages the connection is idle (keep-alive
  // timeout), inside one it is mid-request (header or body timeout).
  bool idle() const noexcept { return phase_ == Phase::idle || phase_ == Phase::done; }

 private:
  friend struct ParserCallbacks;  // llhttp's C callbacks, in the .cpp

  // method: llhttp refused the method; the rest of its token decides between 501 and 400.
  enum class Phase : std::uint8_t { idle, head, method, body, trailers, done, error };

  // What one message has shown so far; reset when the next begins.
  struct MessageState {
    std::size_t section_bytes = 0;    // of the head, then of the trailer section
    std::size_t fields = 0;           // of the head, then of the trailer section
    std::size_t extension_bytes = 0;  // of chunk extensions, ';' to the end of the line
    bool in_extension = false;        // the framing scan is between a ';' and its line's end
    std::uint64_t content_length = 0;
    bool has_content_length = false;
    bool chunked = false;
    bool keep_alive = false;
    bool expects_continue = false;
    bool is_head = false;
    bool url_complete = false;
    bool expect_continue_field = false;
    std::uint8_t host_fields = 0;
    // Transfer-Encoding, over all its fields: RFC 9112 §6.1.
    bool te_field = false;          // present
    bool te_any_coding = false;     // names at least one coding
    bool te_chunked = false;        // "chunked" seen
    bool te_after_chunked = false;  // a coding follows "chunked" (so it is not the final one)
    bool te_unknown = false;        // a coding other than chunked
    bool te_malformed = false;      // an element whose coding is not a token
  };

  void start_message() noexcept;
  State fail(int status, std::string_view message) noexcept;  // overrides any earlier error
  int fail_in_callback(int status, std::string_view message) noexcept;  // keeps the first
  State fail_from_llhttp(int err, const char* piece, std::size_t length) noexcept;
  State fail_section_limit(Phase section) noexcept;  // 431 (414 inside the target)
  Result scan_unknown_method(std::string_view bytes, std::size_t from);
  // Counts the chunk extension bytes among chunked framing bytes (those not body data).
  void scan_chunk_framing(const char* from, const char* to) noexcept;

  // Callbacks (0 to go on, an llhttp error code to stop).
  int on_header_field(const char* at, std::size_t length);
  int on_header_field_complete() noexcept;
  int on_header_value(const char* at, std::size_t length);
  int on_header_value_complete();
  int on_headers_complete();
  int on_body(const char* at, std::size_t length);
  int on_chunk_header() noexcept;
  int on_message_complete() noexcept;

  void note_transfer_encoding(std::string_view value) noexcept;
  int check_head();

  // llhttp_t (96 bytes in 8.1), kept opaque so this header does not need llhttp.h: llhttp is a
  // private dependency of the server library. The .cpp checks the size.
  static constexpr std::size_t kLlhttpSize = 96;
  alignas(8) unsigned char llhttp_storage_[kLlhttpSize];

  ParseLimits limits_;
  Phase phase_ = Phase::idle;
  MessageState msg_;
  LineScanner scanner_;
  Request request_;
  std::string field_name_;  // the field being read; copied into request_.headers when complete
  std::string field_value_;
  // Body phase of a chunked message: the first byte of the current llhttp_execute piece not
  // scanned yet as chunk framing.
  const char* framing_from_ = nullptr;
  ParseError error_;
};

}  // namespace brigade::server::detail
