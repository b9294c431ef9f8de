#include "line_scanner.hpp"

#include <algorithm>
#include <cstring>

namespace brigade::server::detail {
namespace {

constexpr std::string_view kBareLf = "bare LF line terminator";
constexpr std::string_view kBareCr = "bare CR in request";
constexpr std::string_view kFolded = "header line starts with whitespace (obs-fold)";
constexpr std::string_view kBadRequestLine = "invalid request line";

// The next LF in [p, end), or end.
const char* find_lf(const char* p, const char* end) noexcept {
  const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  return lf == nullptr ? end : static_cast<const char*>(lf);
}

}  // namespace

void LineScanner::start_head() noexcept {
  mode_ = Mode::empty_lines;
  prev_ = '\0';
  line_start_ = false;
  spaces_ = 0;
}

void LineScanner::start_trailers() noexcept {
  mode_ = Mode::fields;
  prev_ = '\n';  // so that an LF right away counts as bare
  line_start_ = true;
  spaces_ = 0;
}

std::string_view LineScanner::scan(std::string_view bytes) noexcept {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();

  // Empty lines before the request line: rare and short, so byte by byte.
  for (; mode_ == Mode::empty_lines && p < end; ++p) {
    const char c = *p;
    if (c == '\n') {
      if (prev_ != '\r') return kBareLf;
    } else if (prev_ == '\r') {
      return kBareCr;
    } else if (c != '\r') {
      mode_ = Mode::request_line;
      break;
    }
    prev_ = c;
  }

  if (mode_ == Mode::request_line && p < end) {
    const char* lf = find_lf(p, end);
    spaces_ += static_cast<std::uint32_t>(std::count(p, lf, ' '));
    if (lf == end) {
      prev_ = end[-1];
      return {};
    }
    if ((lf > p ? lf[-1] : prev_) != '\r') return kBareLf;
    if (spaces_ != 2) return kBadRequestLine;
    mode_ = Mode::fields;
    line_start_ = true;
    prev_ = '\n';
    p = lf + 1;
  }

  // Field lines: from one LF to the next.
  while (p < end) {
    if (line_start_ && (*p == ' ' || *p == '\t')) return kFolded;
    const char* lf = find_lf(p, end);
    if (lf == end) {
      line_start_ = false;
      prev_ = end[-1];
      return {};
    }
    if ((lf > p ? lf[-1] : prev_) != '\r') return kBareLf;
    line_start_ = true;
    prev_ = '\n';
    p = lf + 1;
  }
  return {};
}

}  // namespace brigade::server::detail
