#include <algorithm>
#include <array>

#include "sources.hpp"

namespace brigade::config::detail {
namespace {

constexpr std::string_view prefix = "BRIGADE_";

// BRIGADE_ variables that are not settings: BRIGADE_CONFIG names the TOML file (load.cpp), and
// tools that start Brigade set others, which it inherits: the benchmark scripts name the binary
// to run with BRIGADE_BIN.
constexpr std::array<std::string_view, 2> tool_variables{"BRIGADE_BIN", "BRIGADE_CONFIG"};

// BRIGADE_WORKER_THREADS -> worker_threads (only for naming an unknown key in an error).
std::string key_form(std::string_view variable) {
  std::string key;
  for (const char c : variable.substr(prefix.size())) {
    key += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return key;
}

}  // namespace

std::expected<void, ConfigError> apply_environment(const Environment& env, Assembly& assembly) {
  for (const auto& [variable, value] : env) {
    if (!variable.starts_with(prefix)) continue;
    if (std::ranges::find(tool_variables, variable) != tool_variables.end()) continue;
    const std::string key_name = key_form(variable);
    const KeyDescriptor* key = find_key(key_name);
    // The variable must be spelled exactly: BRIGADE_worker_threads is not BRIGADE_WORKER_THREADS.
    if (key == nullptr || env_name(key->name) != variable) {
      return std::unexpected(ConfigError{
          .key = key_name,
          .source = variable,
          .reason = "unknown key; variables are BRIGADE_ and a key in capitals (see --help)"});
    }
    if (auto applied = assembly.set(*key, std::string_view(value), variable); !applied) {
      return applied;
    }
  }
  return {};
}

}  // namespace brigade::config::detail
