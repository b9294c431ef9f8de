#pragma once

#include <ctime>
#include <string_view>

namespace brigade::server::detail {

// The length of an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t kHttpDateSize = 29;

// The Date header value for now (RFC 9110 §5.6.7, IMF-fixdate). Each thread keeps its own copy
// and formats it again only when the second changes, so reading it takes no lock and, within a
// second, no formatting. The view is into this thread's cache: use it before the next call on
// the same thread (and before the calling coroutine can move to another thread).
std::string_view http_date() noexcept;

// Formats `seconds` since the epoch as an IMF-fixdate into `out`.
void format_http_date(std::time_t seconds, char (&out)[kHttpDateSize]) noexcept;

}  // namespace brigade::server::detail
