#include "brigade/config/environment.hpp"

#include <unistd.h>  // environ

#include <string_view>

namespace brigade::config {

Environment process_environment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    const std::size_t equals = variable.find('=');
    if (equals == std::string_view::npos) continue;  // not NAME=value: nothing to read
    env.emplace(variable.substr(0, equals), variable.substr(equals + 1));
  }
  return env;
}

}  // namespace brigade::config
