#include "brigade/config/render.hpp"
#include "key_table.hpp"

namespace brigade::config {

std::string to_toml(const Settings& settings) {
  std::string text = "# Brigade's effective settings; `brigade --config FILE` reads them back.\n";
  for (const detail::KeyDescriptor& key : detail::key_table()) {
    if (const std::optional<std::string> value = key.to_toml(settings)) {
      text += std::string(key.name) + " = " + *value + "\n";
    } else {
      text += "# " + std::string(key.name) + " is not set\n";
    }
  }
  return text;
}

}  // namespace brigade::config
