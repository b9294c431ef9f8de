#include "access_log.hpp"

#include <cstdio>
#include <optional>
#include <string_view>

#include "brigade/server/http.hpp"
#include "log.hpp"

namespace brigade::app {
namespace {

void append_string(std::string& line, std::string_view key, std::string_view value) {
  line += ",\"";
  line += key;
  line += "\":\"";
  line += server::json_escape(value);
  line += '"';
}

void append_optional(std::string& line, std::string_view key,
                     std::optional<std::string_view> value) {
  if (value) {
    append_string(line, key, *value);
    return;
  }
  line += ",\"";
  line += key;
  line += "\":null";
}

void append_number(std::string& line, std::string_view key, std::uint64_t value) {
  line += ",\"";
  line += key;
  line += "\":";
  line += std::to_string(value);
}

}  // namespace

std::string access_log_line(const server::Request& request, const server::Exchange& exchange,
                            std::chrono::system_clock::time_point at) {
  std::string line;
  line.reserve(256 + request.target.size());
  line += R"({"time":")";
  line += rfc3339_utc(at);
  line += '"';
  append_string(line, "peer", exchange.peer != nullptr ? exchange.peer->to_string() : "");
  append_string(line, "method", request.method);
  append_string(line, "target", request.target);
  append_string(line, "protocol", request.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
  append_number(line, "status", static_cast<std::uint64_t>(exchange.status));
  append_number(line, "bytes", exchange.response_body_bytes);
  append_number(line, "request_bytes", exchange.request_bytes);
  append_number(line, "response_bytes", exchange.response_bytes);
  char seconds[32];
  const double duration = std::chrono::duration<double>(exchange.duration).count();
  const int n = std::snprintf(seconds, sizeof seconds, "%.6f", duration < 0 ? 0.0 : duration);
  line += R"(,"duration":)";
  line.append(seconds, n > 0 ? static_cast<std::size_t>(n) : 0);
  append_string(line, "route", request.route);
  append_optional(line, "user_agent", request.headers.get("User-Agent"));
  append_optional(line, "referer", request.headers.get("Referer"));
  append_optional(line, "forwarded_for", request.headers.get("X-Forwarded-For"));
  line += "}\n";
  return line;
}

void AccessLog::on_request(const server::Request& request, const server::Exchange& exchange) {
  writer_->submit(access_log_line(request, exchange, std::chrono::system_clock::now()));
}

}  // namespace brigade::app
