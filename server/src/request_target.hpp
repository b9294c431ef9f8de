#pragma once

#include <optional>
#include <string>
#include <string_view>

// The request-target (RFC 9112 §3.2) and percent-encoding (RFC 3986 §2.1): form and character
// checks, the split into path and query, and decoding.
namespace brigade::server::detail {

// Views into a request-target.
struct TargetParts {
  std::string_view path;   // still percent-encoded; "*" for asterisk-form; "/" when absent
  std::string_view query;  // without the '?'; empty when absent
};

// Checks a request-target and splits it. Accepted: origin-form ("/p?q"), absolute-form with an
// http or https scheme and a non-empty host without userinfo ("http://h:8080/p?q"), and "*" when
// `allow_asterisk` (OPTIONS). Every character must be a pchar, '/' or '?', every '%' must start a
// %XX escape; a fragment ('#') is refused. nullopt when invalid.
std::optional<TargetParts> parse_target(std::string_view target, bool allow_asterisk) noexcept;

// The raw path of a target that parse_target() accepts (for routing: the path still encoded, so
// an escaped "%2F" stays inside its segment).
std::string_view target_path(std::string_view target) noexcept;

// Checks a Host field value or an absolute-form authority: uri-host [ ":" port ], where uri-host
// is an IP-literal in brackets or a reg-name / IPv4 address. `require_host` refuses an empty host.
bool is_valid_host(std::string_view host, bool require_host) noexcept;

// Appends `in` percent-decoded to `out`; with `plus_as_space` ('application/x-www-form-urlencoded'
// queries) '+' becomes a space. A '%' not followed by two hex digits is kept as it is.
void percent_decode_append(std::string_view in, std::string& out, bool plus_as_space);
std::string percent_decode(std::string_view in, bool plus_as_space);

// Whether `encoded`, once percent-decoded (no '+' rule), equals `decoded`; allocates nothing.
bool percent_decoded_equals(std::string_view encoded, std::string_view decoded) noexcept;

}  // namespace brigade::server::detail
