#include "key_table.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace brigade::config::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;
constexpr std::size_t GiB = 1024 * MiB;

template <class T>
Status assign(T& field, Parsed<T> parsed) {
  if (!parsed) return std::unexpected(std::move(parsed.error()));
  field = std::move(*parsed);
  return {};
}

// Binds a codec to a Settings field: the closures are the whole type erasure.
template <class Codec>
KeyDescriptor key(std::string_view name, typename Codec::Value Settings::*field, Codec codec,
                  std::string_view description) {
  return KeyDescriptor{
      .name = name,
      .type = codec.type_name(),
      .description = description,
      .is_boolean = Codec::is_boolean,
      .set_from_text =
          [field, codec](Settings& settings, std::string_view text) {
            return assign(settings.*field, codec.parse_text(text));
          },
      .set_from_toml =
          [field, codec](Settings& settings, const TomlValue& toml) {
            return assign(settings.*field, codec.parse_toml(toml));
          },
      .to_toml = [field,
                  codec](const Settings& settings) { return codec.to_toml(settings.*field); },
  };
}

std::vector<KeyDescriptor> make_key_table() {
  const Duration timeout{1ms, 1h};
  const Duration shutdown_step{0ms, 1h};
  return {
      key("listen", &Settings::listen, ListenAddress{},
          "address to listen on: IPv4, [IPv6] or localhost, and a port (0: any free port)"),
      key("admin_listen", &Settings::admin_listen, OptionalListenAddress{},
          "admin listener for /metrics, /healthz, /readyz, /debug/* (plain HTTP, outside "
          "max_connections); unset: none, and listen serves them"),
      key("worker_threads", &Settings::worker_threads, Count{0, 1024},
          "async worker threads; 0 means one per CPU core"),
      key("max_blocking_threads", &Settings::max_blocking_threads, Count{1, 4096},
          "most threads the blocking pool (spawn_blocking) grows to"),
      key("blocking_queue_limit", &Settings::blocking_queue_limit, OptionalCount{0, 1'000'000},
          "blocking jobs that may wait for a thread; beyond it offloading endpoints answer 503"),
      key("blocking_nice", &Settings::blocking_nice, Count{0, 19},
          "nice value the blocking pool's threads add to the workers' (0..19): CPU-bound jobs "
          "give the cores to the async workers first; blocking I/O jobs run at it too"),
      key("blocking_cpus", &Settings::blocking_cpus, CpuList{},
          "CPUs the blocking pool's threads may run on (\"1\", \"0,2-3\"); unset: all the "
          "process may. The workers keep every CPU unless worker_cpus keeps them off these"),
      key("worker_cpus", &Settings::worker_cpus, CpuList{},
          "CPUs the async workers may run on (\"0\", \"0,2-3\"); unset: all the process may. "
          "Beside blocking_cpus, keeps the workers off the CPU-bound jobs' CPUs; with "
          "worker_threads 0, one worker per CPU named"),
      key("stall_threshold", &Settings::stall_threshold, Duration{0ms, 1h},
          "a task polled this long without yielding is logged as a stall, with the worker's "
          "stack; 0: no stall detector"),
      key("max_connections", &Settings::max_connections, Count{1, 1'000'000},
          "open connections at most; further ones are answered 503 and closed"),
      key("max_header_bytes", &Settings::max_header_bytes, ByteSize{1 * KiB, 16 * MiB},
          "request line and headers at most; larger requests get 431"),
      key("max_headers", &Settings::max_headers, Count{1, 10'000},
          "header fields of a request at most; more get 431"),
      key("max_body_bytes", &Settings::max_body_bytes, ByteSize{0, 1 * GiB},
          "request body at most; larger bodies get 413 before they are read"),
      key("max_buffered_body_bytes", &Settings::max_buffered_body_bytes,
          ByteSize{1 * MiB, 64 * GiB},
          "request bodies held by all connections at once; beyond it 503 before the body is read"),
      key("header_timeout", &Settings::header_timeout, timeout,
          "time to receive a request's headers (cuts off slow clients)"),
      key("keep_alive_timeout", &Settings::keep_alive_timeout, Duration{1ms, 24h},
          "idle time allowed between requests on a kept-alive connection"),
      key("body_timeout", &Settings::body_timeout, timeout, "time to receive a request's body"),
      key("write_timeout", &Settings::write_timeout, timeout, "time to write a response"),
      key("tls_handshake_timeout", &Settings::tls_handshake_timeout, timeout,
          "time to complete a TLS handshake"),
      key("grace_period", &Settings::grace_period, shutdown_step,
          "on SIGTERM/SIGINT, time in-flight requests get to finish before they are aborted"),
      key("drain_delay", &Settings::drain_delay, shutdown_step,
          "on SIGTERM/SIGINT, time readiness answers 503 before the listener closes"),
      key("tls_cert", &Settings::tls_cert, OptionalPath{},
          "PEM certificate chain; with tls_key, the server speaks TLS (both or neither)"),
      key("tls_key", &Settings::tls_key, OptionalPath{},
          "PEM private key for tls_cert (not encrypted: nobody is asked for a password)"),
      key("data_dir", &Settings::data_dir, Path{},
          "directory GET /files/{name}/sha256 reads from (nothing outside it is reachable)"),
      key("log_level", &Settings::log_level, Choice<LogLevel>{all_log_levels},
          "least severe level that is logged"),
      key("log_format", &Settings::log_format, Choice<LogFormat>{all_log_formats},
          "log lines as plain text or as JSON objects"),
      key("access_log", &Settings::access_log, LogDestination{},
          "one JSON line per request: off, stdout, or a file path (appended to); written by a "
          "thread of its own, dropped and counted when it cannot keep up"),
      key("access_log_queue", &Settings::access_log_queue, Count{16, 1'048'576},
          "access log lines waiting for the writer at most; beyond it lines are dropped"),
      key("hash_offload_threshold", &Settings::hash_offload_threshold, ByteSize{0, 1 * GiB},
          "POST /hash bodies larger than this are hashed on the blocking pool"),
      key("enable_block_endpoint", &Settings::enable_block_endpoint, Boolean{},
          "serve GET /block, the anti-pattern that blocks a worker thread (for demonstrations)"),
      key("max_cpu_work", &Settings::max_cpu_work, Count{1, 100'000},
          "largest GET /cpu?work= accepted (larger values get 400)"),
      key("max_fanout", &Settings::max_fanout, Count{0, 1'000},
          "largest GET /fanout?n= accepted (larger values get 400)"),
  };
}

}  // namespace

std::span<const KeyDescriptor> key_table() {
  static const std::vector<KeyDescriptor> table = make_key_table();
  return table;
}

const KeyDescriptor* find_key(std::string_view name) {
  const auto table = key_table();
  const auto found =
      std::ranges::find(table, name, [](const KeyDescriptor& key) { return key.name; });
  return found == table.end() ? nullptr : &*found;
}

std::string env_name(std::string_view key) {
  std::string name = "BRIGADE_";
  for (const char c : key) name += c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  return name;
}

std::string flag_name(std::string_view key) {
  std::string name = "--";
  for (const char c : key) name += c == '_' ? '-' : c;
  return name;
}

}  // namespace brigade::config::detail
