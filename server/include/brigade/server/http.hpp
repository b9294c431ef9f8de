#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brigade/runtime/task.hpp"

namespace brigade::server {

namespace detail {
struct HeadersAccess;
}  // namespace detail

// Header fields in arrival order; names compare case-insensitively.
//
// The fields are packed one after another in one byte buffer, each as its name's and its value's
// sizes followed by their bytes, and the buffer starts inside the object: a response's
// Content-Type, or the Host of a request from a load generator, costs no allocation. Iterating
// gives Fields that view the buffer; like a vector's iterators, they are invalidated by a change.
class Headers {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;
  };

  class Iterator {
   public:
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using reference = Field;
    using iterator_category = std::forward_iterator_tag;

    Iterator() noexcept = default;
    Field operator*() const noexcept;
    auto operator->() const noexcept {
      struct Arrow {
        Field field;
        const Field* operator->() const noexcept { return &field; }
      };
      return Arrow{**this};
    }
    Iterator& operator++() noexcept;
    Iterator operator++(int) noexcept {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator&) const noexcept = default;

   private:
    friend class Headers;
    friend struct detail::HeadersAccess;
    explicit Iterator(const char* at) noexcept : at_(at) {}
    const char* at_ = nullptr;
  };

  Headers() noexcept = default;
  Headers(const Headers& other);
  Headers(Headers&& other) noexcept;
  Headers& operator=(const Headers& other);
  Headers& operator=(Headers&& other) noexcept;
  ~Headers() = default;

  // The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  void add(std::string_view name, std::string_view value);
  // Replaces every field named `name` with one, where the first was.
  void set(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  Iterator begin() const noexcept { return Iterator(data()); }
  Iterator end() const noexcept { return Iterator(data() + size_); }
  std::size_t size() const noexcept { return count_; }

 private:
  friend struct Response;
  friend struct detail::HeadersAccess;

  // Room for a field or two before the buffer moves to the heap.
  static constexpr std::uint32_t kInlineBytes = 80;

  // A field the response writer sends without checking it (see detail::HeadersAccess): for
  // Response's factories, whose names and values are constants.
  void add_well_formed(std::string_view name, std::string_view value) { append(name, value, true); }
  void append(std::string_view name, std::string_view value, bool well_formed);

  const char* data() const noexcept { return heap_ ? heap_.get() : inline_; }
  char* data() noexcept { return heap_ ? heap_.get() : inline_; }
  // A heap buffer of at least `bytes` holding this one's fields; capacity_ says its size.
  std::unique_ptr<char[]> grown_copy(std::size_t bytes);
  void assign(const Headers& other);
  void take(Headers& other) noexcept;

  std::unique_ptr<char[]> heap_;
  std::uint32_t size_ = 0;  // bytes in use
  std::uint32_t capacity_ = kInlineBytes;
  std::uint32_t count_ = 0;
  char inline_[kInlineBytes];
};

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept;

// A complete request, as the router hands it to a handler.
struct Request {
  std::string method;     // as sent: "GET", "POST", ...
  std::string target;     // the request-target, raw: "/files/a%20b/sha256?x=1"
  std::string path;       // its path, percent-decoded
  std::string query;      // its query, raw (without '?')
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
