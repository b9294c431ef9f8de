// GET /sleep?ms=N: holds the request for N ms on the runtime's timer wheel. The worker is free
// meanwhile: thousands of sleeping requests cost memory, not threads.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "brigade/runtime/time.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

// A minute: long enough for any demo or drain test, short enough that a typo cannot park a
// connection for hours.
constexpr std::int64_t kMaxSleepMs = 60'000;

// The whole text must be a decimal number in 0..kMaxSleepMs ("+5", " 5", "5ms" are refused).
std::optional<std::int64_t> parse_ms(const std::string& text) {
  std::int64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  if (value < 0 || value > kMaxSleepMs) return std::nullopt;
  return value;
}

runtime::Task<Response> sleep_for(Request& request) {
  const std::optional<std::string> text = request.query_param("ms");
  if (!text) co_return Response::error(400, "missing query parameter ms");
  const std::optional<std::int64_t> ms = parse_ms(*text);
  if (!ms) co_return Response::error(400, "ms must be an integer from 0 to 60000");

  co_await runtime::sleep(std::chrono::milliseconds(*ms));
  co_return Response::json(200, R"({"slept_ms":)" + std::to_string(*ms) + "}");
}

}  // namespace

void add_sleep_routes(server::Router& router) { router.add("GET", "/sleep", sleep_for); }

}  // namespace brigade::handlers::detail
