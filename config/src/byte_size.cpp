#include <array>
#include <charconv>
#include <limits>

#include "text_values.hpp"

namespace brigade::config::detail {
namespace {

struct ByteUnit {
  std::string_view suffix;
  std::uint64_t bytes;
};

// Largest first, so format_byte_size picks the largest exact unit.
constexpr std::array byte_units{
    ByteUnit{"GiB", std::uint64_t{1} << 30},
    ByteUnit{"MiB", std::uint64_t{1} << 20},
    ByteUnit{"KiB", std::uint64_t{1} << 10},
};

// Units people write that mean 1000 to some and 1024 to others: refused with a pointer to the
// binary ones rather than guessed at.
constexpr std::array ambiguous_units{"K",  "k",  "KB", "kB", "Kb", "kb", "M",
                                     "MB", "mb", "G",  "GB", "gb", "B",  "b"};

constexpr std::string_view byte_hint =
    "a number of bytes or a binary unit: 65536, 64KiB, 16MiB, 1GiB";

}  // namespace

Parsed<std::uint64_t> parse_byte_size(std::string_view text) {
  const std::size_t digits = text.find_first_not_of("0123456789");
  const std::string_view number = text.substr(0, digits);
  const std::string_view unit = digits == std::string_view::npos ? "" : text.substr(digits);
  if (number.empty() || unit.find_first_of("0123456789.,") != std::string_view::npos) {
    return std::unexpected(quote(text) + " is not a byte size; use " + std::string(byte_hint));
  }
  std::uint64_t count = 0;
  const auto [stop, error] = std::from_chars(number.data(), number.data() + number.size(), count);
  if (error != std::errc{}) return std::unexpected(quote(text) + " is too large");
  if (unit.empty()) return count;

  for (const ByteUnit& candidate : byte_units) {
    if (unit != candidate.suffix) continue;
    if (count > std::numeric_limits<std::uint64_t>::max() / candidate.bytes) {
      return std::unexpected(quote(text) + " is too large");
    }
    return count * candidate.bytes;
  }
  for (const std::string_view ambiguous : ambiguous_units) {
    if (unit == ambiguous) {
      return std::unexpected(quote(text) + " uses the unit " + quote(unit) +
                             ", which is not accepted; use binary units KiB, MiB or GiB " +
                             "(1KiB = 1024 bytes) or a plain number of bytes");
    }
  }
  return std::unexpected(quote(text) + " is not a byte size: unknown unit " + quote(unit) +
                         "; use " + std::string(byte_hint));
}

std::string format_byte_size(std::uint64_t bytes) {
  if (bytes == 0) return "0";
  for (const ByteUnit& unit : byte_units) {
    if (bytes % unit.bytes == 0)
      return std::to_string(bytes / unit.bytes) + std::string(unit.suffix);
  }
  return std::to_string(bytes);
}

}  // namespace brigade::config::detail
