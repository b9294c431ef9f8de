#include "request_target.hpp"

#include <cstddef>

#include "char_class.hpp"

namespace brigade::server::detail {
namespace {

constexpr std::string_view kRootPath = "/";

bool starts_with_ignore_case(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

// The length of the "http://" or "https://" prefix, or 0.
std::size_t scheme_prefix_length(std::string_view target) noexcept {
  if (starts_with_ignore_case(target, "http://")) return 7;
  if (starts_with_ignore_case(target, "https://")) return 8;
  return 0;
}

bool is_pct_escape(std::string_view s, std::size_t i) noexcept {
  return i + 2 < s.size() && is_hex_digit(s[i + 1]) && is_hex_digit(s[i + 2]);
}

// Path and query characters: pchar / "/" / "?", with '%' only as a %XX escape.
bool valid_path_and_query(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (has_class(s[i], kTargetChar)) continue;
    if (s[i] != '%' || !is_pct_escape(s, i)) return false;
    i += 2;
  }
  return true;
}

bool all_digits(std::string_view s) noexcept {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits an absolute-form target after its scheme prefix into authority and the rest.
void split_absolute(std::string_view target, std::size_t prefix, std::string_view& authority,
                    std::string_view& rest) noexcept {
  const std::string_view after = target.substr(prefix);
  const std::size_t end = after.find_first_of("/?");
  authority = after.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : after.substr(end);
}

TargetParts split_path_query(std::string_view rest) noexcept {
  const std::size_t q = rest.find('?');
  TargetParts parts;
  parts.path = rest.substr(0, q);
  if (q != std::string_view::npos) parts.query = rest.substr(q + 1);
  if (parts.path.empty()) parts.path = kRootPath;
  return parts;
}

}  // namespace

bool is_valid_host(std::string_view host, bool require_host) noexcept {
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    // IP-literal: IPv6address or IPvFuture, then an optional port.
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!has_class(c, kHostChar) && c != ':') return false;
    }
    const std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
    }
  } else {
    // reg-name / IPv4address (unreserved / sub-delims / %XX) up to the first ':', in the pass that
    // finds it: this runs for every request.
    std::size_t colon = 0;
    for (; colon < host.size() && host[colon] != ':'; ++colon) {
      if (has_class(host[colon], kHostChar)) continue;
      if (host[colon] != '%' || !is_pct_escape(host, colon)) return false;
      colon += 2;
    }
    if (require_host && colon == 0) return false;
    if (colon < host.size()) port = host.substr(colon + 1);
  }
  return all_digits(port);
}

std::optional<TargetParts> parse_target(std::string_view target, bool allow_asterisk) noexcept {
  if (target.empty()) return std::nullopt;
  if (target.front() == '/') {
    if (!valid_path_and_query(target)) return std::nullopt;
    return split_path_query(target);
  }
  if (target == "*") {
    if (!allow_asterisk) return std::nullopt;
    return TargetParts{target, {}};
  }
  const std::size_t prefix = scheme_prefix_length(target);
  if (prefix == 0) return std::nullopt;
  std::string_view authority;
  std::string_view rest;
  split_absolute(target, prefix, authority, rest);
  // RFC 9110 §4.2.1/§4.2.4: an http(s) URI with an empty host, or with userinfo, is invalid.
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  if (!is_valid_host(authority, true)) return std::nullopt;
  if (!valid_path_and_query(rest)) return std::nullopt;
  return split_path_query(rest);
}

std::string_view target_path(std::string_view target) noexcept {
  if (target.empty()) return {};
  if (target.front() == '/') return target.substr(0, target.find('?'));
  if (target == "*") return target;
  const std::size_t prefix = scheme_prefix_length(target);
  if (prefix == 0) return {};
  std::string_view authority;
  std::string_view rest;
  split_absolute(target, prefix, authority, rest);
  return split_path_query(rest).path;
}

void percent_decode_append(std::string_view in, std::string& out, bool plus_as_space) {
  // Plain runs are copied at once: a string without escapes is a single append.
  std::size_t run = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && is_pct_escape(in, i)) {
      out.append(in.data() + run, i - run);
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
      run = i + 1;
    } else if (c == '+' && plus_as_space) {
      out.append(in.data() + run, i - run);
      out.push_back(' ');
      run = i + 1;
    }
  }
  out.append(in.data() + run, in.size() - run);
}

std::string percent_decode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  percent_decode_append(in, out, plus_as_space);
  return out;
}

bool percent_decoded_equals(std::string_view encoded, std::string_view decoded) noexcept {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < encoded.size()) {
    if (j == decoded.size()) return false;
    char c = encoded[i];
    if (c == '%' && is_pct_escape(encoded, i)) {
      c = static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2]));
      i += 3;
    } else {
      ++i;
    }
    if (c != decoded[j++]) return false;
  }
  return j == decoded.size();
}

}  // namespace brigade::server::detail
