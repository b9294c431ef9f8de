#include "response_writer.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "char_class.hpp"
#include "headers_access.hpp"

namespace brigade::server::detail {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kMaxDigits = 20;  // of a 64-bit number, in decimal

bool is_bodiless_status(int status) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// The fields the writer sets itself (switch on the length: most names are rejected by it).
bool is_managed_field(std::string_view name) noexcept {
  switch (name.size()) {
    case 4:
      return equals_ignore_case(name, "date");
    case 6:
      return equals_ignore_case(name, "server");
    case 10:
      return equals_ignore_case(name, "connection");
    case 14:
      return equals_ignore_case(name, "content-length");
    case 17:
      return equals_ignore_case(name, "transfer-encoding");
    default:
      return false;
  }
}

// Without a branch per byte: the classes every byte has, tested once at the end.
bool all_of_class(std::string_view s, CharClass cls) noexcept {
  std::uint8_t common = cls;
  for (const char c : s) common &= kCharClasses[static_cast<unsigned char>(c)];
  return common != 0;
}

// What a field value may not hold: a control other than HTAB (0x00-0x08, 0x0A-0x1F), or DEL.
// Eight bytes at a time: the two word tests ("some byte is below 0x20", "some byte is 0x7F") miss
// none, so a word that passes both is fine as it is; one that fails is looked at byte by byte,
// since the byte below 0x20 may be an HTAB, which is allowed.
bool is_field_value(std::string_view value) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHighBits = 0x8080808080808080;
  std::size_t at = 0;
  for (; at + 8 <= value.size(); at += 8) {
    std::uint64_t word;
    std::memcpy(&word, value.data() + at, sizeof word);
    const std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighBits;
    const std::uint64_t del = word ^ (kOnes * 0x7F);
    const std::uint64_t has_del = (del - kOnes) & ~del & kHighBits;
    if ((below_space | has_del) != 0 && !all_of_class(value.substr(at, 8), kFieldChar)) {
      return false;
    }
  }
  return all_of_class(value.substr(at), kFieldChar);
}

// Whether a handler's field goes out: not one the writer owns, and well-formed. A field added as
// well-formed is not looked at again.
bool is_written(Headers::Iterator at) noexcept {
  if (HeadersAccess::is_well_formed(at)) return true;
  const Headers::Field field = *at;
  return !field.name.empty() && !is_managed_field(field.name) && all_of_class(field.name, kTchar) &&
         is_field_value(field.value);
}

// Writes into memory sized beforehand: constant pieces become inline stores, not memcpy calls.
class Cursor {
 public:
  explicit Cursor(char* at) noexcept : at_(at) {}
  char* position() const noexcept { return at_; }
  void put(std::string_view s) noexcept {
    if (s.empty()) return;  // an empty view may have no data(), which memcpy must not get
    std::memcpy(at_, s.data(), s.size());
    at_ += s.size();
  }
  void put(char c) noexcept { *at_++ = c; }
  void put_decimal(std::uint64_t value) noexcept {
    at_ = std::to_chars(at_, at_ + kMaxDigits, value).ptr;
  }

 private:
  char* at_;
};

std::size_t decimal_digits(std::uint64_t value) noexcept {
  std::size_t digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

void append_hex(std::string& out, std::uint64_t value) {
  char digits[kMaxDigits];
  const auto result = std::to_chars(digits, digits + sizeof digits, value, 16);
  out.append(digits, result.ptr);
}

}  // namespace

std::size_t fixed_body_size(const Response& response, const ResponseContext& context) noexcept {
  const int status = response.status >= 100 && response.status <= 999 ? response.status : 500;
  if (is_bodiless_status(status) || context.head || response.stream) return 0;
  return response.body.size();
}

BodyFraming write_response(std::string& out, const Response& response,
                           const ResponseContext& context) {
  const int status = response.status >= 100 && response.status <= 999 ? response.status : 500;
  const bool bodiless = is_bodiless_status(status);
  const bool streamed = static_cast<bool>(response.stream);

  BodyFraming framing = BodyFraming::complete;
  if (streamed && !bodiless && !context.head) {
    framing = context.version_minor >= 1 ? BodyFraming::chunked : BodyFraming::until_close;
  }
  const bool keep_alive = context.keep_alive && framing != BodyFraming::until_close;
  const bool has_body = !bodiless && !context.head && !streamed && !response.body.empty();
  if (has_body && context.body_apart) framing = BodyFraming::apart;
  const bool body_follows = has_body && !context.body_apart;
  const bool content_length = !bodiless && !streamed;  // for HEAD too (RFC 9110 §9.3.2)

  constexpr std::string_view kStatusPrefix = "HTTP/1.1 ";
  constexpr std::string_view kDate = "Date: ";
  constexpr std::string_view kServer = "Server: brigade\r\n";
  constexpr std::string_view kContentLength = "Content-Length: ";
  constexpr std::string_view kChunked = "Transfer-Encoding: chunked\r\n";
  constexpr std::string_view kClose = "Connection: close\r\n";
  constexpr std::string_view kKeepAlive = "Connection: keep-alive\r\n";
  const std::string_view reason = reason_phrase(status);
  // Keep-alive is HTTP/1.1's default: only HTTP/1.0 needs it spelled out.
  const std::string_view connection =
      !keep_alive ? kClose : (context.version_minor == 0 ? kKeepAlive : std::string_view{});

  // The exact size first, then a single write into the buffer.
  std::size_t size =
      kStatusPrefix.size() + 4 + reason.size() + 2 + kServer.size() + connection.size() + 2;
  if (!context.date.empty()) size += kDate.size() + context.date.size() + 2;
  // Which fields go out is decided once, in this pass (a bit each for the first 64).
  std::uint64_t dropped = 0;
  std::size_t index = 0;
  for (auto at = response.headers.begin(); at != response.headers.end(); ++at, ++index) {
    if (is_written(at)) {
      const Headers::Field field = *at;
      size += field.name.size() + 2 + field.value.size() + 2;
    } else if (index < 64) {
      dropped |= std::uint64_t{1} << index;
    }
  }
  auto is_dropped = [dropped](std::size_t i, Headers::Iterator at) noexcept {
    return i < 64 ? ((dropped >> i) & 1) != 0 : !is_written(at);
  };
  if (content_length) size += kContentLength.size() + decimal_digits(response.body.size()) + 2;
  if (framing == BodyFraming::chunked) size += kChunked.size();
  if (body_follows) size += response.body.size();

  const std::size_t start = out.size();
  out.resize_and_overwrite(start + size, [&](char* data, std::size_t) noexcept {
    Cursor c(data + start);
    c.put(kStatusPrefix);
    c.put_decimal(static_cast<std::uint64_t>(status));
    c.put(' ');
    c.put(reason);
    c.put(kCrlf);
    if (!context.date.empty()) {
      c.put(kDate);
      c.put(context.date);
      c.put(kCrlf);
    }
    c.put(kServer);
    std::size_t i = 0;
    for (auto at = response.headers.begin(); at != response.headers.end(); ++at) {
      if (is_dropped(i++, at)) continue;
      const Headers::Field field = *at;
      c.put(field.name);
      c.put(": ");
      c.put(field.value);
      c.put(kCrlf);
    }
    if (content_length) {
      c.put(kContentLength);
      c.put_decimal(response.body.size());
      c.put(kCrlf);
    } else if (framing == BodyFraming::chunked) {
      c.put(kChunked);
    }
    c.put(connection);
    c.put(kCrlf);
    if (body_follows) c.put(response.body);
    return static_cast<std::size_t>(c.position() - data);
  });
  return framing;
}

void write_continue(std::string& out) { out += "HTTP/1.1 100 Continue\r\n\r\n"; }

void write_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  out.reserve(out.size() + data.size() + 20);
  append_hex(out, data.size());
  out += kCrlf;
  out += data;
  out += kCrlf;
}

void write_last_chunk(std::string& out) { out += "0\r\n\r\n"; }

}  // namespace brigade::server::detail
