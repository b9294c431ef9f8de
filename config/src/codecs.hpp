#pragma once

// Codecs: how a kind of value is read from text (environment, flags), read from a TOML value,
// written back as a TOML literal, and named in --help. The key table pairs each key with one.
//
// Every codec has the same shape:
//   using Value = ...;                           the Settings field's type
//   static constexpr bool is_boolean;            may stand alone as a flag: --access-log
//   std::string type_name() const;               "integer 0..1024", "duration 1ms..1h"
//   Parsed<Value> parse_text(std::string_view) const;
//   Parsed<Value> parse_toml(const TomlValue&) const;
//   std::optional<std::string> to_toml(const Value&) const;   nullopt: not set

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "text_values.hpp"

namespace brigade::config::detail {

// A TOML value of one of the types settings use; toml_file.cpp refuses the others.
using TomlValue = std::variant<std::int64_t, bool, std::string>;

// "an integer", "a boolean", "a string": for "expected X, got Y" messages.
std::string_view toml_type_name(const TomlValue& value);

// A whole number in [min, max].
struct Count {
  using Value = std::size_t;
  static constexpr bool is_boolean = false;
  std::size_t min;
  std::size_t max;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// CPUs as Linux lists them: "1", "0,2-3"; the empty text (or list) means none chosen. TOML also
// takes an integer, one CPU.
struct CpuList {
  using Value = std::vector<std::size_t>;
  static constexpr bool is_boolean = false;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// A whole number in [min, max], or the word "unbounded" for no limit at all.
struct OptionalCount {
  using Value = std::optional<std::size_t>;
  static constexpr bool is_boolean = false;
  static constexpr std::string_view unbounded = "unbounded";
  std::size_t min;
  std::size_t max;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// A number of bytes in [min, max]: 65536 or "64KiB". TOML takes an integer or a string.
struct ByteSize {
  using Value = std::size_t;
  static constexpr bool is_boolean = false;
  std::uint64_t min;
  std::uint64_t max;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// A duration in [min, max]: "500ms", "10s". TOML takes a string (a bare integer has no unit).
struct Duration {
  using Value = std::chrono::milliseconds;
  static constexpr bool is_boolean = false;
  std::chrono::milliseconds min;
  std::chrono::milliseconds max;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

struct Boolean {
  using Value = bool;
  static constexpr bool is_boolean = true;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// host:port, syntax-checked (see check_listen_address).
struct ListenAddress {
  using Value = std::string;
  static constexpr bool is_boolean = false;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// host:port as above, or unset; the empty string unsets it (so a later source can clear it).
struct OptionalListenAddress {
  using Value = std::optional<std::string>;
  static constexpr bool is_boolean = false;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// A non-empty path. Whether it exists is checked, where it matters, after all sources are read.
struct Path {
  using Value = std::filesystem::path;
  static constexpr bool is_boolean = false;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// A path that may be unset; the empty string unsets it (so a later source can clear it).
struct OptionalPath {
  using Value = std::optional<std::filesystem::path>;
  static constexpr bool is_boolean = false;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// Where a log goes: "off", "stdout", or a file path (anything else non-empty). The words a
// boolean is spelled with are refused: "true" is more likely a leftover of a yes/no setting than
// the name of a file.
struct LogDestination {
  using Value = std::string;
  static constexpr bool is_boolean = false;

  std::string type_name() const;
  Parsed<Value> parse_text(std::string_view text) const;
  Parsed<Value> parse_toml(const TomlValue& value) const;
  std::optional<std::string> to_toml(const Value& value) const;
};

// One of an enum's values, by the name to_string(E) gives it: "info", "json".
template <class E>
struct Choice {
  using Value = E;
  static constexpr bool is_boolean = false;
  std::span<const E> values;

  std::string type_name() const {
    std::string names;
    for (const E value : values) {
      if (!names.empty()) names += '|';
      names += to_string(value);
    }
    return names;
  }

  Parsed<Value> parse_text(std::string_view text) const {
    for (const E value : values) {
      if (text == to_string(value)) return value;
    }
    return std::unexpected(quote(text) + " is not one of " + type_name());
  }

  Parsed<Value> parse_toml(const TomlValue& value) const {
    if (const auto* text = std::get_if<std::string>(&value)) return parse_text(*text);
    return std::unexpected("expected a string (" + type_name() + "), got " +
                           std::string(toml_type_name(value)));
  }

  std::optional<std::string> to_toml(const Value& value) const { return quote(to_string(value)); }
};

}  // namespace brigade::config::detail
