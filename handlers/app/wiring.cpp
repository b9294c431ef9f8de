#include "wiring.hpp"

#include <memory>
#include <string_view>
#include <utility>

#include "access_log.hpp"
#include "brigade/config/render.hpp"
#include "failure_log.hpp"
#include "fan_out_observer.hpp"
#include "stall_log.hpp"

namespace brigade::app {

runtime::Builder runtime_builder(const config::Settings& settings, const Logger& log) {
  runtime::Builder builder = runtime::Builder::multi_thread();
  builder
      .worker_threads(settings.worker_threads)  // 0: one per core
      .max_blocking_threads(settings.max_blocking_threads)
      .blocking_nice(static_cast<int>(settings.blocking_nice))
      .blocking_cpus(settings.blocking_cpus)  // checked against the process's CPUs by the config
      .worker_cpus(settings.worker_cpus)
      .thread_name("brigade")
      .stall_threshold(settings.stall_threshold)
      .latency_histograms(true)  // exported as brigade_runtime_{poll_duration,schedule_delay}
      .on_stall(stall_log(log));
  if (settings.blocking_queue_limit) builder.blocking_queue_limit(*settings.blocking_queue_limit);
  return builder;
}

server::ServerOptions server_options(const config::Settings& settings, const Logger& log,
                                     std::shared_ptr<server::RequestObserver> metrics,
                                     std::shared_ptr<AccessLogWriter> access_log) {
  server::ServerOptions options;
  options.max_connections = settings.max_connections;
  options.max_header_bytes = settings.max_header_bytes;
  options.max_headers = settings.max_headers;
  options.max_body_bytes = settings.max_body_bytes;
  options.max_buffered_body_bytes = settings.max_buffered_body_bytes;
  options.header_timeout = settings.header_timeout;
  options.keep_alive_timeout = settings.keep_alive_timeout;
  options.body_timeout = settings.body_timeout;
  options.write_timeout = settings.write_timeout;
  options.tls_handshake_timeout = settings.tls_handshake_timeout;
  options.grace_period = settings.grace_period;
  options.drain_delay = settings.drain_delay;
  std::vector<std::shared_ptr<server::RequestObserver>> observers{std::move(metrics)};
  // After the metrics: formatting the line is the slower part and should not delay the count.
  if (access_log) observers.push_back(std::make_shared<AccessLog>(std::move(access_log)));
  observers.push_back(std::make_shared<FailureLog>(log));
  options.observer = combine_observers(std::move(observers));
  return options;
}

std::vector<LogField> settings_fields(const config::Settings& settings) {
  // to_toml() writes one `key = value` line per set key, strings in double quotes with
  // JSON-compatible escapes, numbers and booleans bare: each value is a JSON literal already.
  // Reusing it keeps the start-up line in step with --print-config as keys are added.
  std::vector<LogField> fields;
  const std::string toml = config::to_toml(settings);
  std::string_view rest = toml;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const std::size_t eq = line.find(" = ");
    if (line.empty() || line.front() == '#' || eq == std::string_view::npos) continue;
    fields.push_back({std::string(line.substr(0, eq)), std::string(line.substr(eq + 3))});
  }
  return fields;
}

}  // namespace brigade::app
