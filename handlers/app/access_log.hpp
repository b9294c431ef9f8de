#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "access_log_writer.hpp"
#include "brigade/server/server.hpp"

namespace brigade::app {

// One JSON object per line for every answered request, the parser's refusals (400, 408, 431...)
// included:
//   {"time":"2025-01-31T12:00:00.123Z","peer":"10.0.0.7:51234","method":"GET",
//    "target":"/files/a.txt/sha256","protocol":"HTTP/1.1","status":200,"bytes":64,
//    "request_bytes":92,"response_bytes":197,"duration":0.000412,"route":"/files/{name}/sha256",
//    "user_agent":"curl/8.1","referer":null,"forwarded_for":null}
// time: when the response was written; bytes: of the response body (nginx $body_bytes_sent);
// request_bytes and response_bytes: on the wire, heads included; duration: seconds from the
// request's first byte to the response written. Absent headers are null. Strings are escaped
// for JSON, bytes that are not UTF-8 as U+FFFD.
std::string access_log_line(const server::Request& request, const server::Exchange& exchange,
                            std::chrono::system_clock::time_point at);

// The access_log setting, as a RequestObserver: formats the line on the worker (no system call)
// and hands it to the writer thread, which drops it, counted, when its queue is full.
class AccessLog final : public server::RequestObserver {
 public:
  explicit AccessLog(std::shared_ptr<AccessLogWriter> writer) noexcept
      : writer_(std::move(writer)) {}

  void on_request(const server::Request& request, const server::Exchange& exchange) override;

 private:
  std::shared_ptr<AccessLogWriter> writer_;
};

}  // namespace brigade::app
