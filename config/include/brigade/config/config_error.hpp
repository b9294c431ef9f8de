#pragma once

#include <string>

namespace brigade::config {

// Exit status for a program that cannot start because its configuration is wrong (the
// convention of usage errors); the caller prints to_string(error) on stderr and exits with it.
inline constexpr int config_error_exit_code = 2;

// Why the configuration was refused, naming what to fix and where it was written.
struct ConfigError {
  // The settings key concerned (snake_case). For an unknown key, the name as the source spelled
  // it, turned into key form. Empty when no key is involved (an unreadable file, a stray
  // argument).
  std::string key;
  // Where the value came from: "BRIGADE_HEADER_TIMEOUT", "--header-timeout",
  // "/etc/brigade.toml:12", "command line", "default".
  std::string source;
  // What is wrong and how to fix it: "\"10\" is not a duration; use a unit: 500ms, 10s, 2m".
  std::string reason;
};

// One line, e.g. `config error: key "header_timeout" (from BRIGADE_HEADER_TIMEOUT): "10" is not
// a duration; use a unit: 500ms, 10s, 2m`, or `config error: brigade.toml:3: malformed TOML: ...`
// when no key is involved.
std::string to_string(const ConfigError& error);

}  // namespace brigade::config
