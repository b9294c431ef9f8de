#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "brigade/config/settings.hpp"

// The brigade binary's log lines: one line per event on stderr (stdout is for --help and
// --print-config), as text or JSON per the log_format setting, filtered by log_level.
namespace brigade::app {

// RFC 3339 in UTC with milliseconds: 2025-01-31T12:00:00.123Z.
std::string rfc3339_utc(std::chrono::system_clock::time_point at);

// A key and its value written as a JSON literal: "\"text\"", "42", "true".
struct LogField {
  std::string key;
  std::string json;

  static LogField text(std::string key, std::string_view value);
  static LogField number(std::string key, std::uint64_t value);
};

class Logger {
 public:
  Logger(config::LogLevel level, config::LogFormat format) noexcept
      : level_(level), format_(format) {}

  bool enabled(config::LogLevel level) const noexcept { return level >= level_; }

  // Writes one line with a single write(2), so lines from several threads never interleave
  // and a line written just before std::_Exit is not lost in a buffer.
  //   text: 2025-01-31T12:00:00.123Z info brigade started address=127.0.0.1:8080 workers=2
  //   json: {"time":"...","level":"info","msg":"brigade started","address":"127.0.0.1:8080",...}
  void log(config::LogLevel level, std::string_view message,
           std::span<const LogField> fields = {}) const;

  // The line log() would write, without the trailing newline (for tests and reuse).
  std::string format(config::LogLevel level, std::string_view message,
                     std::span<const LogField> fields) const;

 private:
  config::LogLevel level_;
  config::LogFormat format_;
};

}  // namespace brigade::app
