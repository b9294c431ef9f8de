#include "brigade/config/settings.hpp"

namespace brigade::config {

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";  // not reached: every enumerator is handled above
}

std::string_view to_string(LogFormat format) noexcept {
  switch (format) {
    case LogFormat::text:
      return "text";
    case LogFormat::json:
      return "json";
  }
  return "text";  // not reached: every enumerator is handled above
}

}  // namespace brigade::config
