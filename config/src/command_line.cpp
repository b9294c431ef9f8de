#include "sources.hpp"

namespace brigade::config::detail {
namespace {

ConfigError command_line_error(std::string key, std::string source, std::string reason) {
  return ConfigError{
      .key = std::move(key), .source = std::move(source), .reason = std::move(reason)};
}

// --worker-threads -> worker_threads. Underscores are not accepted in flags, so a flag has one
// spelling (and --worker_threads is reported as unknown, with a hint).
std::string key_form(std::string_view name) {
  std::string key;
  for (const char c : name) key += c == '-' ? '_' : c;
  return key;
}

}  // namespace

std::expected<CommandLine, ConfigError> parse_command_line(std::span<const std::string_view> args) {
  CommandLine line;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      line.help = true;
      continue;
    }
    if (arg == "--print-config") {
      line.print_config = true;
      continue;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      return std::unexpected(command_line_error(
          "", "command line", "unexpected argument " + quote(arg) + "; settings are --key value"));
    }

    const std::size_t equals = arg.find('=');
    const std::string_view flag = arg.substr(0, equals);
    std::optional<std::string_view> value;
    if (equals != std::string_view::npos) value = arg.substr(equals + 1);

    const bool is_config = flag == "--config";
    const KeyDescriptor* key = is_config ? nullptr : find_key(key_form(flag.substr(2)));
    if (!is_config && (key == nullptr || flag.find('_') != std::string_view::npos)) {
      std::string reason = "unknown flag; see --help for the keys";
      if (key != nullptr) reason += " (flags use dashes: " + flag_name(key->name) + ")";
      return std::unexpected(
          command_line_error(key_form(flag.substr(2)), std::string(flag), std::move(reason)));
    }

    // A boolean flag alone means true; it never takes the next argument as its value.
    if (!value && key != nullptr && key->is_boolean) value = "true";
    if (!value) {
      if (i + 1 >= args.size() || args[i + 1].starts_with("--")) {
        return std::unexpected(command_line_error(is_config ? "" : std::string(key->name),
                                                  std::string(flag), "needs a value"));
      }
      value = args[++i];
    }

    if (is_config) {
      if (line.config_file) {
        return std::unexpected(
            command_line_error("", "--config", "given twice; settings come from one file"));
      }
      line.config_file = std::string(*value);
    } else {
      line.values.push_back(FlagValue{key, std::string(*value), std::string(flag)});
    }
  }
  return line;
}

}  // namespace brigade::config::detail
