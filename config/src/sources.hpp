#pragma once

// The layers above the defaults. Each applies its values to the assembly in turn; the caller
// applies them lowest precedence first (file, environment, flags), so later ones win.

#include <expected>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "assembly.hpp"
#include "brigade/config/config_error.hpp"
#include "brigade/config/environment.hpp"

namespace brigade::config::detail {

// Reads a TOML file of top-level `key = value` lines. Errors name the file and line.
std::expected<void, ConfigError> apply_toml_file(const std::filesystem::path& path,
                                                 Assembly& assembly);

// Applies every BRIGADE_<KEY> variable; any other BRIGADE_ variable is an unknown key, except
// the few that tools around Brigade set for themselves (see env_source.cpp).
std::expected<void, ConfigError> apply_environment(const Environment& env, Assembly& assembly);

// One `--key value` / `--key=value` from the command line, not yet parsed as a value.
struct FlagValue {
  const KeyDescriptor* key;
  std::string value;
  std::string flag;  // as written, for errors: "--worker-threads"
};

// The command line, checked for syntax (known flags, values present) but not for values, so
// --help can be answered without reading anything else.
struct CommandLine {
  bool help = false;
  bool print_config = false;
  std::optional<std::string> config_file;
  std::vector<FlagValue> values;  // in order: a repeated flag's last value wins
};

std::expected<CommandLine, ConfigError> parse_command_line(std::span<const std::string_view> args);

}  // namespace brigade::config::detail
