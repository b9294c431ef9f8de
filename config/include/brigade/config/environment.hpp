#pragma once

#include <functional>
#include <map>
#include <string>

namespace brigade::config {

// A snapshot of environment variables, name to value. load() takes one so tests can inject
// their own; programs pass process_environment().
using Environment = std::map<std::string, std::string, std::less<>>;

// The variables of this process (::environ).
Environment process_environment();

}  // namespace brigade::config
