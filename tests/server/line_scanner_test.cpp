// The line checks llhttp leaves to Brigade (bare LF, obs-fold, the request line's two SPs), at
// every place a fault can be and in every way the bytes can arrive: the scanner looks at eight
// bytes at a time, so a fault must be found whichever word it falls in and however a piece ends.
#include "line_scanner.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::server::detail {
namespace {

// The verdict on `head` fed in pieces of `step` bytes (0: at once); empty if well-formed.
std::string verdict(std::string_view head, std::size_t step = 0) {
  LineScanner scanner;
  scanner.start_head();
  if (step == 0) step = head.size();
  for (std::size_t at = 0; at < head.size(); at += step) {
    const std::string_view fault = scanner.scan(head.substr(at, step));
    if (!fault.empty()) return std::string(fault);
  }
  return {};
}

// Whole, byte by byte, in pieces of 3 and 8, and cut in two at every place: one verdict.
void expect_verdict(const std::string& head, std::string_view expected) {
  EXPECT_EQ(verdict(head), expected) << head;
  for (const std::size_t step : {1, 3, 8}) {
    EXPECT_EQ(verdict(head, step), expected) << "pieces of " << step << ": " << head;
  }
  for (std::size_t cut = 1; cut < head.size(); ++cut) {
    LineScanner scanner;
    scanner.start_head();
    std::string_view fault = scanner.scan(std::string_view(head).substr(0, cut));
    if (fault.empty()) fault = scanner.scan(std::string_view(head).substr(cut));
    EXPECT_EQ(fault, expected) << "cut at " << cut << ": " << head;
  }
}

// Heads whose lines end at every offset within a word.
std::vector<std::string> heads_of_every_length() {
  std::vector<std::string> heads;
  for (std::size_t n = 1; n <= 17; ++n) {
    heads.push_back("GET /" + std::string(n, 'p') + " HTTP/1.1\r\nHost: " + std::string(n, 'h') +
                    "\r\nX: " + std::string(17 - n, 'v') + "\r\n\r\n");
  }
  return heads;
}

TEST(LineScanner, WellFormedHeadsPassHoweverTheyArrive) {
  for (const std::string& head : heads_of_every_length()) expect_verdict(head, "");
  expect_verdict("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "");  // empty lines first
  expect_verdict("GET / HTTP/1.1\r\nX: a b\tc\r\n\r\n", "");        // SP and HTAB inside
}

TEST(LineScanner, ABareLfIsFoundWhereverItIs) {
  for (const std::string& good : heads_of_every_length()) {
    for (std::size_t at = 0; at < good.size(); ++at) {
      if (good[at] != '\r') continue;
      std::string head = good;
      head.erase(at, 1);  // that line now ends with a bare LF
      expect_verdict(head, "bare LF line terminator");
    }
  }
  expect_verdict("\nGET / HTTP/1.1\r\n\r\n", "bare LF line terminator");
}

TEST(LineScanner, AFoldedLineIsFoundWhereverItIs) {
  for (const std::string& good : heads_of_every_length()) {
    const std::size_t field = good.find("\r\nX:") + 2;
    for (const char blank : {' ', '\t'}) {
      std::string head = good;
      head.insert(field, 1, blank);
      expect_verdict(head, "header line starts with whitespace (obs-fold)");
    }
  }
}

TEST(LineScanner, TheRequestLineHasExactlyTwoSpaces) {
  for (std::size_t n = 1; n <= 17; ++n) {
    const std::string path(n, 'p');
    expect_verdict("GET  /" + path + " HTTP/1.1\r\n\r\n", "invalid request line");
    expect_verdict("GET /" + path + "  HTTP/1.1\r\n\r\n", "invalid request line");
    expect_verdict("GET /" + path + " HTTP/1.1 \r\n\r\n", "invalid request line");
    expect_verdict("GET /" + path + "\r\n\r\n", "invalid request line");
  }
}

TEST(LineScanner, ABareCrAmongTheEmptyLinesIsRefused) {
  expect_verdict("\r\r\nGET / HTTP/1.1\r\n\r\n", "bare CR in request");
}

}  // namespace
}  // namespace brigade::server::detail
