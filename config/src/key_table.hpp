#pragma once

// The one table of configuration keys. Parsing (every source), --help and --print-config are all
// driven from it, so adding a key means adding one entry to key_table.cpp and one field to
// Settings.

#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "brigade/config/settings.hpp"
#include "codecs.hpp"

namespace brigade::config::detail {

// Success, or the reason a value was refused (without key or source: the caller knows those).
using Status = std::expected<void, std::string>;

struct KeyDescriptor {
  std::string_view name;         // snake_case: the TOML key; BRIGADE_NAME and --name derive from it
  std::string type;              // for --help: "duration 1ms..1h", "text|json"
  std::string_view description;  // one line for --help
  bool is_boolean = false;       // as a flag it may stand alone: --enable-block-endpoint means true

  std::function<Status(Settings&, std::string_view)> set_from_text;    // environment, flags
  std::function<Status(Settings&, const TomlValue&)> set_from_toml;    // the TOML file
  std::function<std::optional<std::string>(const Settings&)> to_toml;  // nullopt: not set
};

// Every key, in the order --help and --print-config list them.
std::span<const KeyDescriptor> key_table();

// The key called name (snake_case), or null.
const KeyDescriptor* find_key(std::string_view name);

// worker_threads -> BRIGADE_WORKER_THREADS
std::string env_name(std::string_view key);
// worker_threads -> --worker-threads
std::string flag_name(std::string_view key);

}  // namespace brigade::config::detail
