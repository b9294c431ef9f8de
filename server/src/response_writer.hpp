#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "brigade/server/http.hpp"

// Serializes responses into an output buffer the caller reuses: responses to pipelined requests
// are appended one after the other and go out in one write.
namespace brigade::server::detail {

// What follows the head that write_response() appended.
enum class BodyFraming : std::uint8_t {
  complete,     // nothing: the body (if any) is in the buffer already
  chunked,      // the streamed body: write_chunk() for each piece, then write_last_chunk()
  until_close,  // the streamed body, raw, then close the connection (HTTP/1.0 has no chunking)
  apart,        // the body is response.body, for the caller to send from there (body_apart)
};

struct ResponseContext {
  std::string_view date;    // the cached Date value (IMF-fixdate); no Date field when empty
  int version_minor = 1;    // the request's HTTP/1.<minor>
  bool head = false;        // answering HEAD: no body, but the Content-Length of the GET body
  bool keep_alive = true;   // the caller's decision: false sends "Connection: close"
  bool body_apart = false;  // the caller sends response.body itself: the head only is appended
};

// Appends the status line, the fields and (when it has one and is not streamed) the body.
// The writer owns the framing: it writes Date, Server, Content-Length or Transfer-Encoding and
// Connection itself and drops the handler's fields of those names, and any field whose name is
// not a token or whose value holds CR, LF or another control character (no response splitting).
//   - 1xx, 204 and 304 have neither body nor Content-Length;
//   - a streamed body is chunked on HTTP/1.1 and close-delimited on HTTP/1.0, where the
//     response then says "Connection: close" whatever `keep_alive` was;
//   - keep-alive is the default of HTTP/1.1 and is only spelled out for HTTP/1.0.
// A status outside 100..999 is written as 500.
BodyFraming write_response(std::string& out, const Response& response,
                           const ResponseContext& context);

// The bytes of response.body that write_response() sends (appended, or apart): none for HEAD, a
// bodiless status or a streamed response (its chunks are counted as they are written).
std::size_t fixed_body_size(const Response& response, const ResponseContext& context) noexcept;

// "HTTP/1.1 100 Continue", for a request that expects it, before its body is read.
void write_continue(std::string& out);

// One chunk of a chunked body; an empty `data` writes nothing (it would end the body).
void write_chunk(std::string& out, std::string_view data);
// The last chunk, without trailers.
void write_last_chunk(std::string& out);

}  // namespace brigade::server::detail
