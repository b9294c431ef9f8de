#include "brigade/config/load.hpp"

#include <optional>
#include <string>
#include <vector>

#include "assembly.hpp"
#include "sources.hpp"
#include "validate.hpp"

namespace brigade::config {

std::expected<Loaded, ConfigError> load(std::span<const std::string_view> args,
                                        const Environment& env) {
  const auto command_line = detail::parse_command_line(args);
  if (!command_line) return std::unexpected(command_line.error());
  // Help must work whatever state the file or the environment is in.
  if (command_line->help)
    return Loaded{.action = Action::help, .settings = Settings{}, .origins = {}};

  detail::Assembly assembly;  // starts from the built-in defaults
  // --config, else BRIGADE_CONFIG: a container image names its file in the environment, so that
  // `brigade healthcheck` (run with no arguments) reads the same file as the server.
  std::optional<std::string> config_file = command_line->config_file;
  if (const auto named = env.find(config_file_variable); !config_file && named != env.end()) {
    config_file = named->second;
  }
  if (config_file) {
    if (auto r = detail::apply_toml_file(*config_file, assembly); !r) {
      return std::unexpected(r.error());
    }
  }
  if (auto r = detail::apply_environment(env, assembly); !r) return std::unexpected(r.error());
  for (const detail::FlagValue& flag : command_line->values) {
    if (auto r = assembly.set(*flag.key, std::string_view(flag.value), flag.flag); !r) {
      return std::unexpected(r.error());
    }
  }
  if (auto r = detail::validate(assembly); !r) return std::unexpected(r.error());

  auto origins = assembly.origins();
  return Loaded{.action = command_line->print_config ? Action::print_config : Action::run,
                .settings = std::move(assembly).take(),
                .origins = std::move(origins)};
}

std::string Loaded::origin(std::string_view key) const {
  const auto found = origins.find(key);
  return found == origins.end() ? "default" : found->second;
}

std::expected<Loaded, ConfigError> load(int argc, const char* const* argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return load(args, process_environment());
}

}  // namespace brigade::config
