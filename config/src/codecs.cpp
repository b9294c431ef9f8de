#include "codecs.hpp"

namespace brigade::config::detail {
namespace {

std::string expected_got(std::string_view expected, const TomlValue& value) {
  return "expected " + std::string(expected) + ", got " + std::string(toml_type_name(value));
}

// The text parser for TOML strings; any other TOML type is refused by name.
template <class Codec>
Parsed<typename Codec::Value> parse_toml_string(const Codec& codec, const TomlValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return codec.parse_text(*text);
  return std::unexpected(expected_got("a string (" + codec.type_name() + ")", value));
}

Parsed<std::size_t> in_range(std::int64_t value, std::size_t min, std::size_t max) {
  if (value < 0 || static_cast<std::uint64_t>(value) < min ||
      static_cast<std::uint64_t>(value) > max) {
    return std::unexpected(std::to_string(value) + " is out of range " + std::to_string(min) +
                           ".." + std::to_string(max));
  }
  return static_cast<std::size_t>(value);
}

}  // namespace

std::string_view toml_type_name(const TomlValue& value) {
  if (std::holds_alternative<std::int64_t>(value)) return "an integer";
  if (std::holds_alternative<bool>(value)) return "a boolean";
  return "a string";
}

// --- Count ---------------------------------------------------------------------------------------

std::string Count::type_name() const {
  return "integer " + std::to_string(min) + ".." + std::to_string(max);
}

Parsed<std::size_t> Count::parse_text(std::string_view text) const {
  const Parsed<std::int64_t> number = parse_integer(text);
  if (!number) return std::unexpected(number.error());
  return in_range(*number, min, max);
}

Parsed<std::size_t> Count::parse_toml(const TomlValue& value) const {
  if (const auto* n = std::get_if<std::int64_t>(&value)) return in_range(*n, min, max);
  return std::unexpected(expected_got("an integer", value));
}

std::optional<std::string> Count::to_toml(const std::size_t& value) const {
  return std::to_string(value);
}

// --- CpuList -------------------------------------------------------------------------------------

std::string CpuList::type_name() const { return "CPU list (0,2-3)"; }

Parsed<CpuList::Value> CpuList::parse_text(std::string_view text) const {
  return parse_cpu_list(text);
}

Parsed<CpuList::Value> CpuList::parse_toml(const TomlValue& value) const {
  if (const auto* n = std::get_if<std::int64_t>(&value)) return parse_cpu_list(std::to_string(*n));
  return parse_toml_string(*this, value);
}

std::optional<std::string> CpuList::to_toml(const Value& value) const {
  if (value.empty()) return std::nullopt;
  return quote(format_cpu_list(value));
}

// --- OptionalCount -------------------------------------------------------------------------------

std::string OptionalCount::type_name() const {
  return "integer " + std::to_string(min) + ".." + std::to_string(max) + " or \"" +
         std::string(unbounded) + "\"";
}

Parsed<OptionalCount::Value> OptionalCount::parse_text(std::string_view text) const {
  if (text == unbounded) return Value{};
  const Parsed<std::int64_t> number = parse_integer(text);
  if (!number) {
    return std::unexpected(number.error() + " (nor \"" + std::string(unbounded) + "\")");
  }
  return parse_toml(TomlValue{*number});
}

Parsed<OptionalCount::Value> OptionalCount::parse_toml(const TomlValue& value) const {
  if (const auto* n = std::get_if<std::int64_t>(&value)) {
    const Parsed<std::size_t> count = in_range(*n, min, max);
    if (!count) return std::unexpected(count.error());
    return Value{*count};
  }
  if (const auto* text = std::get_if<std::string>(&value)) {
    if (*text == unbounded) return Value{};
    return std::unexpected(quote(*text) + " is not \"" + std::string(unbounded) + "\"");
  }
  return std::unexpected(expected_got(type_name(), value));
}

std::optional<std::string> OptionalCount::to_toml(const Value& value) const {
  return value ? std::to_string(*value) : quote(unbounded);
}

// --- ByteSize ------------------------------------------------------------------------------------

std::string ByteSize::type_name() const {
  return "bytes " + format_byte_size(min) + ".." + format_byte_size(max);
}

Parsed<std::size_t> ByteSize::parse_text(std::string_view text) const {
  const Parsed<std::uint64_t> bytes = parse_byte_size(text);
  if (!bytes) return std::unexpected(bytes.error());
  if (*bytes < min || *bytes > max) {
    return std::unexpected(quote(text) + " is out of range " + format_byte_size(min) + ".." +
                           format_byte_size(max));
  }
  return static_cast<std::size_t>(*bytes);
}

Parsed<std::size_t> ByteSize::parse_toml(const TomlValue& value) const {
  if (const auto* n = std::get_if<std::int64_t>(&value)) {
    if (*n < 0) return std::unexpected(std::to_string(*n) + " is negative");
    return parse_text(std::to_string(*n));
  }
  if (const auto* text = std::get_if<std::string>(&value)) return parse_text(*text);
  return std::unexpected(expected_got("an integer or a string (" + type_name() + ")", value));
}

std::optional<std::string> ByteSize::to_toml(const std::size_t& value) const {
  const std::string text = format_byte_size(value);
  // A plain number stays a TOML integer; "64KiB" needs quotes.
  return text.find_first_not_of("0123456789") == std::string::npos ? text : quote(text);
}

// --- Duration ------------------------------------------------------------------------------------

std::string Duration::type_name() const {
  return "duration " + format_duration(min) + ".." + format_duration(max);
}

Parsed<std::chrono::milliseconds> Duration::parse_text(std::string_view text) const {
  const Parsed<std::chrono::milliseconds> duration = parse_duration(text);
  if (!duration) return std::unexpected(duration.error());
  if (*duration < min || *duration > max) {
    return std::unexpected(quote(text) + " is out of range " + format_duration(min) + ".." +
                           format_duration(max));
  }
  return *duration;
}

Parsed<std::chrono::milliseconds> Duration::parse_toml(const TomlValue& value) const {
  // An integer gets the same answer as a bare number in the environment: say the unit.
  if (const auto* n = std::get_if<std::int64_t>(&value)) return parse_text(std::to_string(*n));
  return parse_toml_string(*this, value);
}

std::optional<std::string> Duration::to_toml(const std::chrono::milliseconds& value) const {
  return quote(format_duration(value));
}

// --- Boolean -------------------------------------------------------------------------------------

std::string Boolean::type_name() const { return "boolean"; }

Parsed<bool> Boolean::parse_text(std::string_view text) const { return parse_bool(text); }

Parsed<bool> Boolean::parse_toml(const TomlValue& value) const {
  if (const auto* b = std::get_if<bool>(&value)) return *b;
  return std::unexpected(expected_got("a boolean (true or false)", value));
}

std::optional<std::string> Boolean::to_toml(const bool& value) const {
  return value ? "true" : "false";
}

// --- ListenAddress -------------------------------------------------------------------------------

std::string ListenAddress::type_name() const { return "host:port"; }

Parsed<std::string> ListenAddress::parse_text(std::string_view text) const {
  if (auto valid = check_listen_address(text); !valid) return std::unexpected(valid.error());
  return std::string(text);
}

Parsed<std::string> ListenAddress::parse_toml(const TomlValue& value) const {
  return parse_toml_string(*this, value);
}

std::optional<std::string> ListenAddress::to_toml(const std::string& value) const {
  return quote(value);
}

// --- OptionalListenAddress -----------------------------------------------------------------------

std::string OptionalListenAddress::type_name() const { return "host:port"; }

Parsed<OptionalListenAddress::Value> OptionalListenAddress::parse_text(
    std::string_view text) const {
  if (text.empty()) return Value{};
  auto address = ListenAddress{}.parse_text(text);
  if (!address) return std::unexpected(std::move(address.error()));
  return Value{std::move(*address)};
}

Parsed<OptionalListenAddress::Value> OptionalListenAddress::parse_toml(
    const TomlValue& value) const {
  return parse_toml_string(*this, value);
}

std::optional<std::string> OptionalListenAddress::to_toml(const Value& value) const {
  if (!value) return std::nullopt;
  return quote(*value);
}

// --- Path ----------------------------------------------------------------------------------------

std::string Path::type_name() const { return "path"; }

Parsed<std::filesystem::path> Path::parse_text(std::string_view text) const {
  if (text.empty()) return std::unexpected("the path is empty");
  return std::filesystem::path(text);
}

Parsed<std::filesystem::path> Path::parse_toml(const TomlValue& value) const {
  return parse_toml_string(*this, value);
}

std::optional<std::string> Path::to_toml(const std::filesystem::path& value) const {
  return quote(value.string());
}

// --- OptionalPath --------------------------------------------------------------------------------

std::string OptionalPath::type_name() const { return "path"; }

Parsed<OptionalPath::Value> OptionalPath::parse_text(std::string_view text) const {
  if (text.empty()) return Value{};
  return Value{std::filesystem::path(text)};
}

Parsed<OptionalPath::Value> OptionalPath::parse_toml(const TomlValue& value) const {
  return parse_toml_string(*this, value);
}

std::optional<std::string> OptionalPath::to_toml(const Value& value) const {
  if (!value) return std::nullopt;
  return quote(value->string());
}

// --- LogDestination ------------------------------------------------------------------------------

std::string LogDestination::type_name() const { return "off|stdout|path"; }

Parsed<std::string> LogDestination::parse_text(std::string_view text) const {
  if (text.empty()) return std::unexpected("is empty: write off, stdout or a file path");
  if (parse_bool(text)) {
    return std::unexpected(quote(text) + " is not off, stdout or a file path");
  }
  return std::string(text);
}

Parsed<std::string> LogDestination::parse_toml(const TomlValue& value) const {
  return parse_toml_string(*this, value);
}

std::optional<std::string> LogDestination::to_toml(const std::string& value) const {
  return quote(value);
}

}  // namespace brigade::config::detail
