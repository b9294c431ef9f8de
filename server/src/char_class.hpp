#pragma once

#include <array>
#include <cstdint>
#include <string_view>

// Character classes of the HTTP grammar (RFC 9110 §5.6, RFC 3986 §2), as one 256-entry table so
// every test is a load and a mask.
namespace brigade::server::detail {

enum CharClass : std::uint8_t {
  kTchar = 1 << 0,       // token: a method or a field name
  kTargetChar = 1 << 1,  // pchar / "/" / "?" of a request-target, '%' excepted (checked apart)
  kHexDigit = 1 << 2,
  kFieldChar = 1 << 3,  // field-vchar / SP / HTAB: what a field value may hold
  kHostChar = 1 << 4,   // reg-name: unreserved / sub-delims ('%' checked apart)
};

inline constexpr std::array<std::uint8_t, 256> kCharClasses = [] {
  std::array<std::uint8_t, 256> table{};
  auto mark = [&table](std::string_view chars, std::uint8_t cls) {
    for (char c : chars) table[static_cast<unsigned char>(c)] |= cls;
  };
  constexpr std::string_view alnum =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  constexpr std::string_view unreserved_marks = "-._~";
  constexpr std::string_view sub_delims = "!$&'()*+,;=";

  mark(alnum, kTchar | kTargetChar | kHostChar);
  mark("!#$%&'*+-.^_`|~", kTchar);
  mark(unreserved_marks, kTargetChar | kHostChar);
  mark(sub_delims, kTargetChar | kHostChar);
  mark(":@/?", kTargetChar);
  mark("0123456789ABCDEFabcdef", kHexDigit);
  table['\t'] |= kFieldChar;
  for (int c = 0x20; c < 0x7f; ++c) table[static_cast<std::size_t>(c)] |= kFieldChar;
  for (int c = 0x80; c < 0x100; ++c) table[static_cast<std::size_t>(c)] |= kFieldChar;  // obs-text
  return table;
}();

constexpr bool has_class(char c, CharClass cls) noexcept {
  return (kCharClasses[static_cast<unsigned char>(c)] & cls) != 0;
}
constexpr bool is_tchar(char c) noexcept { return has_class(c, kTchar); }
constexpr bool is_hex_digit(char c) noexcept { return has_class(c, kHexDigit); }

constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace brigade::server::detail
