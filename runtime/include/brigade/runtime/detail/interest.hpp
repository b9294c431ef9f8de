#pragma once

#include <cstdint>

namespace brigade::runtime::detail {

// Which readiness an operation waits for.
enum class Interest : std::uint8_t { read, write };

}  // namespace brigade::runtime::detail
