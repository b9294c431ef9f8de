#pragma once

#include <string>

#include "brigade/config/settings.hpp"

namespace brigade::config {

// The --help text: usage, the precedence of the sources, and every key with its type, range,
// default and a one-line description.
std::string help_text();

// The settings as a TOML document that --config reads back to equal settings (--print-config).
// Unset optional keys appear as comments.
std::string to_toml(const Settings& settings);

}  // namespace brigade::config
