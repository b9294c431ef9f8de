#include "assembly.hpp"

namespace brigade::config::detail {

std::expected<void, ConfigError> Assembly::set(const KeyDescriptor& key, std::string_view text,
                                               std::string source) {
  return record(key, key.set_from_text(settings_, text), std::move(source));
}

std::expected<void, ConfigError> Assembly::set(const KeyDescriptor& key, const TomlValue& value,
                                               std::string source) {
  return record(key, key.set_from_toml(settings_, value), std::move(source));
}

std::string Assembly::origin(std::string_view key) const {
  const auto found = origins_.find(key);
  return found == origins_.end() ? "default" : found->second;
}

std::map<std::string, std::string, std::less<>> Assembly::origins() const {
  return {origins_.begin(), origins_.end()};
}

std::expected<void, ConfigError> Assembly::record(const KeyDescriptor& key, Status status,
                                                  std::string source) {
  if (!status) {
    return std::unexpected(ConfigError{
        .key = std::string(key.name), .source = std::move(source), .reason = status.error()});
  }
  origins_.insert_or_assign(key.name, std::move(source));
  return {};
}

}  // namespace brigade::config::detail
