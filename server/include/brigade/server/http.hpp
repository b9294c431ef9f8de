#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brigade/runtime/task.hpp"

namespace brigade::server {

// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };

  // The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  void add(std::string name, std::string value);
  // Replaces every field named `name` with one.
  void set(std::string name, std::string value);
  void remove(std::string_view name) noexcept;

  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }
  std::size_t size() const noexcept { return fields_.size(); }

 private:
  std::vector<Field> fields_;
};

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept;

// A complete request, as the router hands it to a handler.
struct Request {
  std::string method;  // as sent: "GET", "POST", ...
  std::string target;  // the request-target, raw: "/files/a%20b/sha256?x=1"
  std::string path;    // its path, percent-decoded
  std::string query;   // its query, raw (without '?')
  int version_minor = 1;  // HTTP/1.<minor>
  Headers headers;
  std::string body;

  // Filled by the router: the values of the pattern's {parameters}, percent-decoded.
  std::vector<std::pair<std::string, std::string>> path_params;
  // Filled by the router: the route's pattern ("/files/{name}/sha256"), for metrics and logs.
  std::string_view route;
  // Filled with `route`: its position in Router::patterns(), so metrics can keep one slot per
  // route and find it without looking the pattern up. Meaningless while `route` is empty.
  std::size_t route_index = 0;

  std::optional<std::string_view> path_param(std::string_view name) const noexcept;
  // The first value of a query parameter, percent-decoded ('+' is a space); nullopt if absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

// Produces the chunks of a streamed body, one per call, until it returns nullopt.
using BodyStream = std::function<runtime::Task<std::optional<std::string>>()>;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the body is streamed with chunked transfer coding (HTTP/1.1) or until close
  // (HTTP/1.0), and `body` is ignored.
  BodyStream stream;

  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
  // The short JSON error body every error answer carries: {"error":"<message>"}.
  static Response error(int status, std::string_view message);
};

std::string_view reason_phrase(int status) noexcept;
// `text` made safe to embed in a JSON string (quotes, backslashes, control characters); a byte
// that is not part of well-formed UTF-8 becomes U+FFFD, so the result is always valid JSON text.
std::string json_escape(std::string_view text);

using Handler = std::function<runtime::Task<Response>(Request&)>;

}  // namespace brigade::server
