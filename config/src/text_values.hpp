#pragma once

// The textual forms settings are written in, independent of any key. Parsers return the reason a
// text is refused; the caller adds the key and the source.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::config::detail {

template <class T>
using Parsed = std::expected<T, std::string>;

// A whole number, optionally negative: "42", "-1". Range checks are the caller's.
Parsed<std::int64_t> parse_integer(std::string_view text);

// "true" / "false" (also "1" / "0", the usual spelling in environment variables).
Parsed<bool> parse_bool(std::string_view text);

// A whole number with a unit: "500ms", "10s", "2m", "1h". A bare number is refused: "10" could
// mean seconds or milliseconds, and guessing wrong is a silent thousandfold error.
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);

// Bytes: a plain number, or a number with a binary unit: "64KiB", "16MiB", "1GiB". Decimal units
// ("KB", "MB") are refused rather than guessed at.
Parsed<std::uint64_t> parse_byte_size(std::string_view text);

// host:port, where host is an IPv4 literal, a bracketed IPv6 literal or "localhost", and port is
// 0..65535: "0.0.0.0:8080", "[::1]:8080", "localhost:0". Syntax only; nothing is resolved.
std::expected<void, std::string> check_listen_address(std::string_view text);

// The largest unit that is exact: 120000ms -> "2m", 1500ms -> "1500ms", 0 -> "0s".
std::string format_duration(std::chrono::milliseconds duration);

// The largest binary unit that is exact: 65536 -> "64KiB"; otherwise the plain number.
std::string format_byte_size(std::uint64_t bytes);

// CPUs as Linux writes them (cpuset, taskset -c): "1", "0,2-3"; sorted, each once. The empty
// text is the empty list.
Parsed<std::vector<std::size_t>> parse_cpu_list(std::string_view text);

// The inverse: {0, 2, 3} -> "0,2-3".
std::string format_cpu_list(std::span<const std::size_t> cpus);

// A TOML basic string, quoted and escaped; also how error messages quote what they were given.
std::string quote(std::string_view text);

}  // namespace brigade::config::detail
