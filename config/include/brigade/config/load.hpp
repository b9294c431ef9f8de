#pragma once

#include <expected>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "brigade/config/config_error.hpp"
#include "brigade/config/environment.hpp"
#include "brigade/config/settings.hpp"

namespace brigade::config {

// What the command line asks the program to do.
enum class Action {
  run,           // start the server with the settings
  help,          // print help_text() and exit 0 (settings are the defaults: nothing was read)
  print_config,  // print to_toml(settings) and exit 0
};

struct Loaded {
  Action action = Action::run;
  Settings settings;
  // Where each key a source set came from ("--tls-key", "brigade.toml:4", "BRIGADE_TLS_KEY"), so
  // that a setting refused after loading (a TLS key OpenSSL rejects) names its source as load()
  // does.
  std::map<std::string, std::string, std::less<>> origins;

  // origins' entry for `key`, or "default" for a key no source set.
  std::string origin(std::string_view key) const;
};

// The environment variable that names the TOML file when --config is not given.
inline constexpr std::string_view config_file_variable = "BRIGADE_CONFIG";

// Builds the effective settings, each layer overriding the one before:
//   built-in defaults < TOML file (--config FILE, else $BRIGADE_CONFIG) < environment
//   (BRIGADE_<KEY>) < flags (--key).
// args are the command-line arguments after the program name. Unknown keys in any source, bad
// values and inconsistent settings are refused with a ConfigError naming the key and source;
// print it and exit with config_error_exit_code. --help is answered before anything is read.
std::expected<Loaded, ConfigError> load(std::span<const std::string_view> args,
                                        const Environment& env);

// The same for main(): argv[0] is skipped and the process environment is read.
std::expected<Loaded, ConfigError> load(int argc, const char* const* argv);

}  // namespace brigade::config
