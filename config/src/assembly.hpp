#pragma once

#include <expected>
#include <map>
#include <string>
#include <string_view>

#include "brigade/config/config_error.hpp"
#include "brigade/config/settings.hpp"
#include "key_table.hpp"

namespace brigade::config::detail {

// The settings being assembled layer by layer, and where each key's current value came from, so
// checks made after every layer is in (TLS files, say) can name the source to fix.
class Assembly {
 public:
  // Each source overwrites what the earlier ones set; a refused value names key and source.
  std::expected<void, ConfigError> set(const KeyDescriptor& key, std::string_view text,
                                       std::string source);
  std::expected<void, ConfigError> set(const KeyDescriptor& key, const TomlValue& value,
                                       std::string source);

  const Settings& settings() const { return settings_; }
  Settings take() && { return std::move(settings_); }

  // "BRIGADE_TLS_CERT", "--tls-cert", "brigade.toml:4", or "default" for a key nobody set.
  std::string origin(std::string_view key) const;
  // Every key a source set, with its origin.
  std::map<std::string, std::string, std::less<>> origins() const;

 private:
  std::expected<void, ConfigError> record(const KeyDescriptor& key, Status status,
                                          std::string source);

  Settings settings_;
  std::map<std::string_view, std::string, std::less<>> origins_;
};

}  // namespace brigade::config::detail
