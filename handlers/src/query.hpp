#pragma once

#include <cstdint>
#include <expected>
#include <string_view>

#include "brigade/server/http.hpp"

namespace brigade::handlers::detail {

// The query parameter `name` of `request` as a decimal integer in [min, max], or the 400 answer
// naming the parameter and its range. The whole value must be digits: "+5", " 5", "5ms", "1e3"
// are refused, and so is a missing or empty one.
std::expected<std::int64_t, server::Response> integer_param(const server::Request& request,
                                                            std::string_view name, std::int64_t min,
                                                            std::int64_t max);

}  // namespace brigade::handlers::detail
