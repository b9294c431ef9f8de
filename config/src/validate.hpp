#pragma once

#include <expected>

#include "assembly.hpp"
#include "brigade/config/config_error.hpp"

namespace brigade::config::detail {

// Checks that involve more than one key, or the file system, once every source is applied: one
// key's value alone was already checked by its codec.
std::expected<void, ConfigError> validate(const Assembly& assembly);

}  // namespace brigade::config::detail
