// toml++ is used header-only and without exceptions (TOML_EXCEPTIONS=0, set in CMakeLists.txt):
// parse errors come back as values, and nothing needs linking at run time.
#include <toml++/toml.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>

#include "sources.hpp"

namespace brigade::config::detail {
namespace {

std::string location(const std::filesystem::path& path, const toml::source_region& region) {
  return path.string() + ":" + std::to_string(region.begin.line);
}

std::expected<std::string, ConfigError> read_file(const std::filesystem::path& path) {
  const auto refuse = [&](const std::string& why) {
    return std::unexpected(ConfigError{
        .key = "", .source = path.string(), .reason = "cannot read the config file: " + why});
  };
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error) return refuse(error.message());
  if (std::filesystem::is_directory(status)) return refuse("it is a directory");

  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return refuse(errno != 0 ? std::generic_category().message(errno) : "open failed");
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return refuse("read failed");
  return content;
}

// The TOML types settings use; others (floats, arrays, tables, dates) are named in the error.
std::expected<TomlValue, std::string> to_value(const toml::node& node, const KeyDescriptor& key) {
  switch (node.type()) {
    case toml::node_type::integer:
      return TomlValue{node.as_integer()->get()};
    case toml::node_type::boolean:
      return TomlValue{node.as_boolean()->get()};
    case toml::node_type::string:
      return TomlValue{node.as_string()->get()};
    case toml::node_type::table:
      return std::unexpected("is a table; settings are top-level keys, without [sections]");
    default:
      break;
  }
  std::string got;
  switch (node.type()) {
    case toml::node_type::floating_point:
      got = "a float";
      break;
    case toml::node_type::array:
      got = "an array";
      break;
    default:
      got = "a date or time";
      break;
  }
  return std::unexpected("expected " + key.type + ", got " + got);
}

// Line `number` (1-based) of `content`, without its line break.
std::string_view line_of(std::string_view content, std::size_t number) {
  for (std::size_t line = 1; line < number; ++line) {
    const std::size_t end = content.find('\n');
    if (end == std::string_view::npos) return {};
    content.remove_prefix(end + 1);
  }
  return content.substr(0, content.find('\n'));
}

std::string_view trimmed(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// A line that does not parse, such as `header_timeout = 5s` (a duration left unquoted), is
// reported with the key it assigns when that is one of ours, and how to write its value: toml++
// alone says "Error while parsing decimal integer", which names neither.
ConfigError malformed(std::string_view content, const toml::parse_error& error,
                      const std::filesystem::path& path) {
  ConfigError refused{.key = "",
                      .source = location(path, error.source()),
                      .reason = "malformed TOML: " + std::string(error.description())};
  const std::string_view line = line_of(content, error.source().begin.line);
  const std::size_t equals = line.find('=');
  const KeyDescriptor* key =
      equals == std::string_view::npos ? nullptr : find_key(trimmed(line.substr(0, equals)));
  if (key == nullptr) return refused;

  refused.key = std::string(key->name);
  const std::optional<std::string> example = key->to_toml(Settings{});
  if (example && example->starts_with('"')) {
    refused.reason += "; durations, sizes and text are quoted strings in TOML, e.g. " +
                      std::string(key->name) + " = " + *example;
  }
  return refused;
}

}  // namespace

std::expected<void, ConfigError> apply_toml_file(const std::filesystem::path& path,
                                                 Assembly& assembly) {
  const auto content = read_file(path);
  if (!content) return std::unexpected(content.error());

  const toml::parse_result parsed = toml::parse(*content, path.string());
  if (!parsed) return std::unexpected(malformed(*content, parsed.error(), path));

  for (const auto& [name, node] : parsed.table()) {
    const std::string where = location(path, name.source());
    const KeyDescriptor* key = find_key(name.str());
    if (key == nullptr) {
      return std::unexpected(ConfigError{.key = std::string(name.str()),
                                         .source = where,
                                         .reason = "unknown key; see --help for the keys"});
    }
    const auto value = to_value(node, *key);
    if (!value) {
      return std::unexpected(
          ConfigError{.key = std::string(key->name), .source = where, .reason = value.error()});
    }
    if (auto applied = assembly.set(*key, *value, where); !applied) return applied;
  }
  return {};
}

}  // namespace brigade::config::detail
