#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "brigade/config/render.hpp"
#include "key_table.hpp"

namespace brigade::config {
namespace {

constexpr std::string_view preamble =
    R"(Usage: brigade [--config FILE] [--KEY VALUE | --KEY=VALUE]... [--print-config | --help]

Brigade: an HTTP/1.1 server on a work-stealing runtime.

Options:
  --config FILE    read settings from a TOML file of top-level `key = value` lines
                   (without it: the file BRIGADE_CONFIG names, if set)
  --print-config   print the effective settings as TOML (which --config reads back) and exit
  --help, -h       print this help and exit

Each source overrides the one before it:
  1. the built-in defaults, shown below
  2. the TOML file        key = value         integers and booleans bare, other values quoted
  3. the environment      BRIGADE_KEY=value   the key in capitals: BRIGADE_WORKER_THREADS=4
  4. command-line flags   --key value         underscores become dashes: --worker-threads 4,
                          --key=value         --worker-threads=4; a boolean flag alone means
                                              true: --enable-block-endpoint
Durations need a unit: 500ms, 10s, 2m, 1h. Sizes are bytes or binary units: 65536, 64KiB, 16MiB.
Unknown keys and bad values are refused, naming the key and where it was set.
)";

}  // namespace

std::string help_text() {
  const Settings defaults;
  const auto keys = detail::key_table();

  // "key = default" on the left, the type on the right, the description on the next line.
  std::vector<std::string> left;
  std::size_t width = 0;
  for (const detail::KeyDescriptor& key : keys) {
    const std::optional<std::string> value = key.to_toml(defaults);
    left.push_back(std::string(key.name) + (value ? " = " + *value : " (not set)"));
    width = std::max(width, left.back().size());
  }

  std::string text(preamble);
  text += "\nSettings (key = default, type):\n";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    text += "  " + left[i] + std::string(width - left[i].size() + 3, ' ') + keys[i].type + "\n";
    text += "      " + std::string(keys[i].description) + "\n";
  }
  return text;
}

}  // namespace brigade::config
