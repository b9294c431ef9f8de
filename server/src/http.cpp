#include "brigade/server/http.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

#include "char_class.hpp"
#include "headers_access.hpp"
#include "request_target.hpp"

namespace brigade::server {

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i])) return false;
  }
  return true;
}

// --- Headers ------------------------------------------------------------------------------------

namespace {

// A packed field: its name's and its value's sizes, then their bytes (unaligned: read by copy).
// The value's size has a spare top bit (a field is under 2 GiB): set for a well-formed field.
struct PackedSizes {
  std::uint32_t name;
  std::uint32_t value_and_flag;
};
constexpr std::size_t kSizesBytes = sizeof(PackedSizes);
constexpr std::uint32_t kWellFormedBit = std::uint32_t{1} << 31;

struct FieldSizes {
  std::uint32_t name;
  std::uint32_t value;
  bool well_formed;
};

FieldSizes sizes_at(const char* at) noexcept {
  PackedSizes packed;
  std::memcpy(&packed, at, sizeof packed);
  return {packed.name, packed.value_and_flag & ~kWellFormedBit,
          (packed.value_and_flag & kWellFormedBit) != 0};
}

}  // namespace

Headers::Field Headers::Iterator::operator*() const noexcept {
  const FieldSizes sizes = sizes_at(at_);
  const char* const name = at_ + kSizesBytes;
  return {{name, sizes.name}, {name + sizes.name, sizes.value}};
}

Headers::Iterator& Headers::Iterator::operator++() noexcept {
  const FieldSizes sizes = sizes_at(at_);
  at_ += kSizesBytes + sizes.name + sizes.value;
  return *this;
}

Headers::Headers(const Headers& other) { assign(other); }

Headers::Headers(Headers&& other) noexcept { take(other); }

Headers& Headers::operator=(const Headers& other) {
  if (this != &other) assign(other);
  return *this;
}

Headers& Headers::operator=(Headers&& other) noexcept {
  if (this != &other) take(other);
  return *this;
}

void Headers::take(Headers& other) noexcept {
  heap_ = std::move(other.heap_);
  size_ = std::exchange(other.size_, 0);
  capacity_ = std::exchange(other.capacity_, kInlineBytes);
  count_ = std::exchange(other.count_, 0);
  if (!heap_) std::memcpy(inline_, other.inline_, size_);
}

void Headers::assign(const Headers& other) {
  size_ = 0;
  count_ = 0;
  if (other.size_ > capacity_) heap_ = grown_copy(other.size_);
  std::memcpy(data(), other.data(), other.size_);
  size_ = other.size_;
  count_ = other.count_;
}

std::unique_ptr<char[]> Headers::grown_copy(std::size_t bytes) {
  if (bytes > std::numeric_limits<std::uint32_t>::max() / 2) {
    throw std::length_error("header fields too large");
  }
  const auto capacity = static_cast<std::uint32_t>(std::max<std::size_t>(bytes, 2 * capacity_));
  auto grown = std::make_unique_for_overwrite<char[]>(capacity);
  std::memcpy(grown.get(), data(), size_);
  capacity_ = capacity;
  return grown;
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
  for (const Field field : *this) {
    if (equals_ignore_case(field.name, name)) return field.value;
  }
  return std::nullopt;
}

void Headers::add(std::string_view name, std::string_view value) { append(name, value, false); }

void Headers::append(std::string_view name, std::string_view value, bool well_formed) {
  const std::size_t bytes = kSizesBytes + name.size() + value.size();
  // When the buffer grows, the old one is kept until the field is written: `name` or `value`
  // may view a field of this object.
  std::unique_ptr<char[]> grown;
  if (std::size_t{size_} + bytes > capacity_) grown = grown_copy(std::size_t{size_} + bytes);
  char* const at = (grown ? grown.get() : data()) + size_;
  const PackedSizes sizes{
      static_cast<std::uint32_t>(name.size()),
      static_cast<std::uint32_t>(value.size()) | (well_formed ? kWellFormedBit : 0)};
  std::memcpy(at, &sizes, sizeof sizes);
  if (!name.empty()) std::memcpy(at + kSizesBytes, name.data(), name.size());
  if (!value.empty()) std::memcpy(at + kSizesBytes + name.size(), value.data(), value.size());
  if (grown) heap_ = std::move(grown);
  size_ += static_cast<std::uint32_t>(bytes);
  ++count_;
}

void Headers::set(std::string_view name, std::string_view value) {
  if (!contains(name)) {
    add(name, value);
    return;
  }
  // Rare (a handler overriding a field): rebuilt, the first match replaced, the others dropped.
  Headers rebuilt;
  bool replaced = false;
  for (const Field field : *this) {
    if (!equals_ignore_case(field.name, name)) {
      rebuilt.add(field.name, field.value);
    } else if (!replaced) {
      rebuilt.add(name, value);
      replaced = true;
    }
  }
  *this = std::move(rebuilt);
}

void Headers::remove(std::string_view name) {
  // Kept fields move towards the front, over the removed ones: the buffer only shrinks. A name
  // that views one of these fields would be overwritten on the way: compared as a copy.
  char* const base = data();
  std::string copy;
  // std::less: a total order even for pointers into different objects.
  if (!std::less<const char*>{}(name.data(), base) &&
      std::less<const char*>{}(name.data(), base + size_)) {
    copy = name;
    name = copy;
  }
  std::size_t read = 0;
  std::size_t write = 0;
  while (read < size_) {
    const FieldSizes sizes = sizes_at(base + read);
    const std::size_t bytes = kSizesBytes + sizes.name + sizes.value;
    if (equals_ignore_case({base + read + kSizesBytes, sizes.name}, name)) {
      --count_;
    } else {
      if (write != read) std::memmove(base + write, base + read, bytes);
      write += bytes;
    }
    read += bytes;
  }
  size_ = static_cast<std::uint32_t>(write);
}

bool detail::HeadersAccess::is_well_formed(Headers::Iterator field) noexcept {
  return sizes_at(field.at_).well_formed;
}

// --- Request ------------------------------------------------------------------------------------

std::optional<std::string_view> Request::path_param(std::string_view name) const noexcept {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);

    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const bool encoded_key =
        std::any_of(key.begin(), key.end(), [](char c) { return c == '%' || c == '+'; });
    // Compare without decoding unless the key is escaped: the common case allocates nothing.
    if (encoded_key ? detail::percent_decode(key, true) != name : key != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    return detail::percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

// --- Response -----------------------------------------------------------------------------------

Response Response::text(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.add_well_formed("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(body);
  return response;
}

Response Response::json(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.add_well_formed("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

Response Response::error(int status, std::string_view message) {
  std::string body;
  body.reserve(message.size() + 12);
  body += R"({"error":")";
  body += json_escape(message);
  body += R"("})";
  return json(status, std::move(body));
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 418:
      return "I'm a teapot";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 511:
      return "Network Authentication Required";
    default:
      return "";
  }
}

namespace {

bool is_continuation(unsigned char c) noexcept { return (c & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when it does not start with one.
std::size_t utf8_sequence_length(std::string_view text) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80;  // the range of the second byte, narrowed for some leads
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!is_continuation(byte(i))) return 0;
  }
  return length;
}

}  // namespace

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const char c = text.front();
    std::size_t taken = 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else if (static_cast<unsigned char>(c) < 0x80) {
          out += c;
        } else if (const std::size_t length = utf8_sequence_length(text); length > 0) {
          out += text.substr(0, length);
          taken = length;
        } else {
          // Not UTF-8 (a Latin-1 header value, a fuzzer's bytes): JSON text must be, so the
          // byte becomes U+FFFD, as encoding/json and serde_json do with invalid input.
          out += "\\ufffd";
        }
    }
    text.remove_prefix(taken);
  }
  return out;
}

}  // namespace brigade::server
