#include "validate.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <span>
#include <system_error>
#include <vector>

#include "text_values.hpp"

namespace brigade::config::detail {
namespace {

// Opening the file is the only reliable readability test (permissions, ACLs, the effective
// user); the server will open it again when it loads the certificate.
std::expected<void, ConfigError> check_readable(const Assembly& assembly, std::string_view key,
                                                const std::filesystem::path& path) {
  const auto refuse = [&](const std::string& why) {
    return std::unexpected(ConfigError{.key = std::string(key),
                                       .source = assembly.origin(key),
                                       .reason = quote(path.string()) + " cannot be read: " + why});
  };
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error) return refuse(error.message());
  if (!std::filesystem::is_regular_file(status)) return refuse("it is not a regular file");
  errno = 0;
  const std::ifstream in(path, std::ios::binary);
  if (!in) return refuse(errno != 0 ? std::generic_category().message(errno) : "open failed");
  return {};
}

// An access log file is opened (created if missing) at start-up, by the server: here, only what
// can be known without creating it: not a directory, and in a directory that exists.
std::expected<void, ConfigError> check_log_file(const Assembly& assembly, std::string_view key,
                                                const std::filesystem::path& path) {
  const auto refuse = [&](const std::string& why) {
    return std::unexpected(
        ConfigError{.key = std::string(key),
                    .source = assembly.origin(key),
                    .reason = quote(path.string()) + " cannot be written: " + why});
  };
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) return refuse("it is a directory");
  const std::filesystem::path parent =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(parent, error)) {
    return refuse(quote(parent.string()) + " is not a directory");
  }
  return {};
}

// The CPUs must be ones this process may run on now (a container's cpuset, `taskset`): Linux
// would silently drop the others, or refuse the whole list when none is left.
std::expected<void, ConfigError> check_cpus(const Assembly& assembly, std::string_view key,
                                            std::span<const std::size_t> cpus) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof mask, &mask) != 0) return {};  // nothing to check against
  std::vector<std::size_t> allowed;
  for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mask)) allowed.push_back(cpu);
  }
  for (const std::size_t cpu : cpus) {
    if (std::binary_search(allowed.begin(), allowed.end(), cpu)) continue;
    return std::unexpected(ConfigError{.key = std::string(key),
                                       .source = assembly.origin(key),
                                       .reason = "CPU " + std::to_string(cpu) +
                                                 " is not one this process may run on (" +
                                                 format_cpu_list(allowed) + ")"});
  }
  return {};
}

}  // namespace

std::expected<void, ConfigError> validate(const Assembly& assembly) {
  const Settings& settings = assembly.settings();

  if (settings.tls_cert.has_value() != settings.tls_key.has_value()) {
    const std::string_view given = settings.tls_cert ? "tls_cert" : "tls_key";
    const std::string_view missing = settings.tls_cert ? "tls_key" : "tls_cert";
    return std::unexpected(ConfigError{
        .key = std::string(given),
        .source = assembly.origin(given),
        .reason = "is set but " + std::string(missing) + " is not; TLS needs both, or neither"});
  }
  if (settings.max_body_bytes > settings.max_buffered_body_bytes) {
    return std::unexpected(ConfigError{
        .key = "max_body_bytes",
        .source = assembly.origin("max_body_bytes"),
        .reason = "is larger than max_buffered_body_bytes: a body that large could never be "
                  "accepted"});
  }
  if (settings.access_log != "off" && settings.access_log != "stdout") {
    if (auto ok = check_log_file(assembly, "access_log", settings.access_log); !ok) return ok;
  }
  if (auto ok = check_cpus(assembly, "blocking_cpus", settings.blocking_cpus); !ok) return ok;
  if (auto ok = check_cpus(assembly, "worker_cpus", settings.worker_cpus); !ok) return ok;
  if (settings.tls_cert) {
    if (auto ok = check_readable(assembly, "tls_cert", *settings.tls_cert); !ok) return ok;
    if (auto ok = check_readable(assembly, "tls_key", *settings.tls_key); !ok) return ok;
  }
  return {};
}

}  // namespace brigade::config::detail
