#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::config {

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };

inline constexpr std::array all_log_levels{LogLevel::trace, LogLevel::debug, LogLevel::info,
                                           LogLevel::warn, LogLevel::error};
inline constexpr std::array all_log_formats{LogFormat::text, LogFormat::json};

// The names used in every source and in --print-config: "info", "json".
std::string_view to_string(LogLevel level) noexcept;
std::string_view to_string(LogFormat format) noexcept;

// Brigade's effective settings. The defaults below are the built-in layer; load() overlays the
// TOML file, the environment and the command line on them and validates the result. Every key
// is described (type, range, meaning) in one table in src/key_table.cpp, which --help prints.
struct Settings {
  using milliseconds = std::chrono::milliseconds;

  // host:port. Host: an IPv4 literal, a bracketed IPv6 literal or "localhost". Port 0 asks the
  // kernel for a free port. Only the syntax is checked here; binding is the server's job.
  std::string listen = "0.0.0.0:8080";

  // The admin listener (/metrics, /healthz, /readyz, /debug/*), plain HTTP whatever `listen`
  // speaks, outside max_connections. Unset: no admin listener, and `listen` serves everything.
  std::optional<std::string> admin_listen;

  std::size_t worker_threads = 0;  // 0: one per CPU core, resolved by the runtime
  std::size_t max_blocking_threads = 512;
  // Blocking jobs allowed to wait for a thread. Unset: queue without bound (written "unbounded").
  // Bounded by default so a burst of offloaded work turns into 503s, not unbounded memory.
  std::optional<std::size_t> blocking_queue_limit = 1024;
  // How much nicer than the workers the blocking pool's threads run (0..19): CPU-bound jobs on
  // the pool then give the cores to the workers first (the default is measured: see README.md).
  std::size_t blocking_nice = 10;
  // The CPUs the blocking pool's threads may run on, sorted; empty: every CPU the process may.
  std::vector<std::size_t> blocking_cpus;
  // The CPUs the async workers may run on, sorted; empty: every CPU the process may. With
  // worker_threads at 0, one worker per CPU named.
  std::vector<std::size_t> worker_cpus;
  std::size_t max_connections = 10'000;
  // A poll of one task this long or longer is logged as a stall (0: no stall detector).
  milliseconds stall_threshold{10};

  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_headers = 100;
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  // Request bodies held by all connections together (see deploy/README.md for the default).
  std::size_t max_buffered_body_bytes = 64 * 1024 * 1024;

  milliseconds header_timeout{10'000};
  milliseconds keep_alive_timeout{60'000};
  milliseconds body_timeout{30'000};
  milliseconds write_timeout{30'000};
  milliseconds tls_handshake_timeout{10'000};
  milliseconds grace_period{30'000};
  milliseconds drain_delay{0};

  // TLS is on when both are set; load() refuses one without the other and checks that both
  // files can be read.
  std::optional<std::filesystem::path> tls_cert;
  std::optional<std::filesystem::path> tls_key;

  std::filesystem::path data_dir = "./data";

  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::text;
  // "off", "stdout" or a file path. Off by default: a line per request costs throughput, and the
  // benchmarks compare against servers that log nothing; containers set "stdout".
  std::string access_log = "off";
  // Lines queued for the access log's writer thread at most (about 300 bytes each).
  std::size_t access_log_queue = 8192;

  std::size_t hash_offload_threshold = 64 * 1024;
  bool enable_block_endpoint = false;
  // Upper bounds of GET /cpu?work= and of GET /fanout?n=, so an operator can make them cheaper.
  std::size_t max_cpu_work = 100'000;
  std::size_t max_fanout = 1'000;

  bool operator==(const Settings&) const = default;
};

}  // namespace brigade::config
