#include <array>
#include <charconv>
#include <limits>

#include "text_values.hpp"

namespace brigade::config::detail {
namespace {

struct DurationUnit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

// Largest first, so format_duration picks the largest exact unit.
constexpr std::array duration_units{
    DurationUnit{"h", 3'600'000},
    DurationUnit{"m", 60'000},
    DurationUnit{"s", 1'000},
    DurationUnit{"ms", 1},
};

// True for "" and letters only: "1.5s" and "1m30s" get the general message, not "unknown unit".
bool is_word(std::string_view text) {
  return text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
         std::string_view::npos;
}

constexpr std::string_view duration_hint = "500ms, 10s, 2m";

}  // namespace

Parsed<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const std::size_t digits = text.find_first_not_of("0123456789");
  const std::string_view number = text.substr(0, digits);
  const std::string_view unit = digits == std::string_view::npos ? "" : text.substr(digits);
  if (number.empty() || !is_word(unit)) {
    return std::unexpected(quote(text) + " is not a duration; write a whole number and a unit: " +
                           std::string(duration_hint));
  }
  if (unit.empty()) {
    return std::unexpected(quote(text) +
                           " is not a duration; use a unit: " + std::string(duration_hint));
  }
  for (const DurationUnit& candidate : duration_units) {
    if (unit != candidate.suffix) continue;
    std::int64_t count = 0;
    const auto [stop, error] = std::from_chars(number.data(), number.data() + number.size(), count);
    if (error != std::errc{} ||
        count > std::numeric_limits<std::int64_t>::max() / candidate.milliseconds) {
      return std::unexpected(quote(text) + " is too long");
    }
    return std::chrono::milliseconds{count * candidate.milliseconds};
  }
  return std::unexpected(quote(text) + " is not a duration: unknown unit " + quote(unit) +
                         "; use ms, s, m or h, e.g. " + std::string(duration_hint));
}

std::string format_duration(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  for (const DurationUnit& unit : duration_units) {
    if (ms % unit.milliseconds == 0) {
      return std::to_string(ms / unit.milliseconds) + std::string(unit.suffix);
    }
  }
  return std::to_string(ms) + "ms";  // not reached: every count is a whole number of ms
}

}  // namespace brigade::config::detail
