#include "brigade/config/config_error.hpp"

namespace brigade::config {

std::string to_string(const ConfigError& error) {
  if (error.key.empty()) return "config error: " + error.source + ": " + error.reason;
  return "config error: key \"" + error.key + "\" (from " + error.source + "): " + error.reason;
}

}  // namespace brigade::config
