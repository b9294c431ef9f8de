#include "query.hpp"

#include <charconv>
#include <optional>
#include <string>
#include <system_error>

namespace brigade::handlers::detail {

std::expected<std::int64_t, server::Response> integer_param(const server::Request& request,
                                                            std::string_view name, std::int64_t min,
                                                            std::int64_t max) {
  const std::optional<std::string> text = request.query_param(name);
  if (!text) {
    return std::unexpected(
        server::Response::error(400, "missing query parameter " + std::string(name)));
  }
  std::int64_t value = 0;
  const char* const end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc{} || ptr != end || value < min || value > max) {
    return std::unexpected(
        server::Response::error(400, std::string(name) + " must be an integer from " +
                                         std::to_string(min) + " to " + std::to_string(max)));
  }
  return value;
}

}  // namespace brigade::handlers::detail
