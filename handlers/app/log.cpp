#include "log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "brigade/server/http.hpp"

namespace brigade::app {
namespace {

// In text lines a string value goes without its quotes when nothing in it needs them.
std::string_view text_value(std::string_view json) {
  if (json.size() < 2 || json.front() != '"') return json;
  const std::string_view inner = json.substr(1, json.size() - 2);
  if (inner.empty() || inner.find_first_of(" =\"\\") != std::string_view::npos) return json;
  return inner;
}

void write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere else to report a failing stderr
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string rfc3339_utc(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  const std::time_t seconds = system_clock::to_time_t(at);
  const auto millis = duration_cast<milliseconds>(at.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return std::string(text, n > 0 ? static_cast<std::size_t>(n) : 0);
}

LogField LogField::text(std::string key, std::string_view value) {
  // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for "\"" + string.
  std::string json;
  json.reserve(value.size() + 2);
  json += '"';
  json += server::json_escape(value);
  json += '"';
  return {std::move(key), std::move(json)};
}

LogField LogField::number(std::string key, std::uint64_t value) {
  return {std::move(key), std::to_string(value)};
}

std::string Logger::format(config::LogLevel level, std::string_view message,
                           std::span<const LogField> fields) const {
  std::string line;
  line.reserve(128 + fields.size() * 32);
  const std::string_view level_name = config::to_string(level);
  if (format_ == config::LogFormat::json) {
    line += R"({"time":")" + rfc3339_utc(std::chrono::system_clock::now()) + R"(","level":")";
    line += level_name;
    line += R"(","msg":")" + server::json_escape(message) + "\"";
    for (const LogField& field : fields) {
      line += ",\"" + server::json_escape(field.key) + "\":" + field.json;
    }
    line += '}';
  } else {
    line += rfc3339_utc(std::chrono::system_clock::now());
    line += ' ';
    line += level_name;
    line += ' ';
    line += message;
    for (const LogField& field : fields) {
      line += ' ';
      line += field.key;
      line += '=';
      line += text_value(field.json);
    }
  }
  return line;
}

void Logger::log(config::LogLevel level, std::string_view message,
                 std::span<const LogField> fields) const {
  if (!enabled(level)) return;
  std::string line = format(level, message, fields);
  line += '\n';
  write_all(STDERR_FILENO, line);
}

}  // namespace brigade::app
