#pragma once

#include <cstdint>
#include <string_view>

namespace brigade::server::detail {

// Checks the line structure of a request head or trailer section for what llhttp 8.1 lets through
// even in strict mode (RFC 9112 §2.2, §3, §5.2):
//   - every LF ends a CRLF: no bare LF line terminator (llhttp takes one after the request line,
//     before the request line, and as the empty line that ends a section);
//   - no field line starts with SP or HTAB: obs-fold (line folding) is refused;
//   - the request line has exactly two SP (llhttp skips runs of them);
//   - the empty lines allowed before a request line are CRLFs.
// It sees the bytes after llhttp has consumed them, in as many pieces as they arrived; a section
// is never scanned past its final CRLF, since the parser pauses there.
class LineScanner {
 public:
  // Next comes a request: optional empty lines, the request line, field lines.
  void start_head() noexcept;
  // Next comes a trailer section, right after the CRLF of the last chunk: field lines only.
  void start_trailers() noexcept;

  // Empty while the bytes seen so far are well-formed; else a short, static description.
  std::string_view scan(std::string_view bytes) noexcept;

 private:
  enum class Mode : std::uint8_t { empty_lines, request_line, fields };

  Mode mode_ = Mode::empty_lines;
  char prev_ = '\0';          // the byte before the next one (across pieces)
  bool line_start_ = false;   // (fields) the next byte begins a line
  std::uint32_t spaces_ = 0;  // (request_line) SPs so far
};

}  // namespace brigade::server::detail
