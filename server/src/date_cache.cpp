#include "date_cache.hpp"

#include <time.h>

#include <cstring>

namespace brigade::server::detail {
namespace {

constexpr char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void put2(char* at, int value) noexcept {
  at[0] = static_cast<char>('0' + value / 10);
  at[1] = static_cast<char>('0' + value % 10);
}

struct DateCache {
  std::time_t second = -1;
  char text[kHttpDateSize] = {};
};

thread_local DateCache cache;

}  // namespace

void format_http_date(std::time_t seconds, char (&out)[kHttpDateSize]) noexcept {
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  // "Www, DD Mon YYYY hh:mm:ss GMT": fixed positions, so fill a template.
  std::memcpy(out, "Www, DD Mon YYYY hh:mm:ss GMT", kHttpDateSize);
  std::memcpy(out, kDays[tm.tm_wday], 3);
  put2(out + 5, tm.tm_mday);
  std::memcpy(out + 8, kMonths[tm.tm_mon], 3);
  const int year = tm.tm_year + 1900;
  put2(out + 12, year / 100 % 100);
  put2(out + 14, year % 100);
  put2(out + 17, tm.tm_hour);
  put2(out + 20, tm.tm_min);
  put2(out + 23, tm.tm_sec);
}

std::string_view http_date() noexcept {
  // time() reads the vDSO clock: no system call.
  const std::time_t now = ::time(nullptr);
  DateCache& local = cache;
  if (now != local.second) {
    format_http_date(now, local.text);
    local.second = now;
  }
  return {local.text, kHttpDateSize};
}

}  // namespace brigade::server::detail
