#include "serve.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <expected>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "brigade/config/config_error.hpp"
#include "brigade/handlers/metrics.hpp"
#include "brigade/handlers/routes.hpp"
#include "brigade/runtime/join.hpp"
#include "brigade/runtime/net/tcp.hpp"
#include "brigade/runtime/select.hpp"
#include "brigade/runtime/signal.hpp"
#include "brigade/server/server.hpp"
#include "exit_status.hpp"
#include "log.hpp"
#include "wiring.hpp"

namespace brigade::app {
namespace {

using config::LogLevel;
using runtime::Signal;
using runtime::SignalKind;
using runtime::Task;
using Clock = std::chrono::steady_clock;

// When the first shutdown signal arrived. Written by the signal task, read by serve() once
// block_on has returned (which orders the two).
struct ShutdownStart {
  std::optional<Clock::time_point> at;
};

std::string_view signal_name(SignalKind kind) {
  return kind == SignalKind::terminate ? "SIGTERM" : "SIGINT";
}

int signal_number(SignalKind kind) { return kind == SignalKind::terminate ? SIGTERM : SIGINT; }

// Waits for SIGTERM or SIGINT and returns which one came.
Task<SignalKind> next_signal(Signal& terminate, Signal& interrupt) {
  const auto which = co_await runtime::select(terminate, interrupt);
  co_return which.index() == 0 ? SignalKind::terminate : SignalKind::interrupt;
}

// The first signal starts the graceful shutdown; the second ends the process at once (an
// operator who presses Ctrl-C twice means it). Never returns: it is raced against
// Server::run(), which finishing cancels it.
//
// `server`, `log` and `start` belong to the caller's frame, which awaits this coroutine inside
// its own scope (see run_server), so they outlive it.
Task<void> handle_signals(Signal terminate, Signal interrupt, server::Server* server,
                          const Logger* log, ShutdownStart* start) {
  const SignalKind first = co_await next_signal(terminate, interrupt);
  start->at = Clock::now();
  // Draining first, then the line: whoever reads it finds the server draining.
  server->shutdown();
  log->log(LogLevel::info, "shutting down: draining connections",
           std::vector{LogField::text("signal", signal_name(first))});

  const SignalKind second = co_await next_signal(terminate, interrupt);
  log->log(LogLevel::error, "second signal: exiting at once",
           std::vector{LogField::text("signal", signal_name(second))});
  // No destructors, no atexit handlers: whatever is still running is abandoned on purpose.
  std::_Exit(exit_status::after_signal_base + signal_number(second));
}

// The certificate and key of tls_cert and tls_key (config has checked that both are set and
// readable). One that OpenSSL refuses (not PEM, or a key that does not match the certificate) is
// a setting to fix, like any other: the error names its key; the caller fills in the source.
std::expected<server::TlsContext, config::ConfigError> load_tls(
    const std::filesystem::path& certificate, const std::filesystem::path& key) {
  auto loaded = server::TlsContext::load(certificate, key);
  if (loaded) return std::move(*loaded);
  const bool bad_certificate = loaded.error().part == server::TlsContext::Part::certificate;
  return std::unexpected(config::ConfigError{.key = bad_certificate ? "tls_cert" : "tls_key",
                                             .source = {},
                                             .reason = std::move(loaded.error().message)});
}

// GET /files/{name}/sha256 reads data_dir. Without it the server still serves everything else,
// but every /files request would answer 404 with nothing saying why: say it once at start-up.
void warn_if_data_dir_missing(const std::filesystem::path& data_dir, const Logger& log) {
  std::error_code error;
  if (std::filesystem::is_directory(data_dir, error)) return;
  log.log(LogLevel::warn, "data_dir is not a directory: GET /files answers 404",
          std::vector{LogField::text("data_dir", data_dir.string()),
                      LogField::text("error", error ? error.message() : "not a directory")});
}

// The admin listener's server: plain HTTP, its own connection limit, and a short grace (it is
// shut down only once the main server has stopped).
constexpr std::size_t kAdminMaxConnections = 256;
constexpr std::chrono::milliseconds kAdminGracePeriod{1'000};

server::ServerOptions admin_options(const config::Settings& settings) {
  server::ServerOptions options;
  options.max_connections = kAdminMaxConnections;
  options.max_header_bytes = settings.max_header_bytes;
  options.max_body_bytes = 0;
  options.header_timeout = settings.header_timeout;
  options.keep_alive_timeout = settings.keep_alive_timeout;
  options.body_timeout = settings.body_timeout;
  options.write_timeout = settings.write_timeout;
  options.grace_period = kAdminGracePeriod;
  return options;
}

// The main server until it has stopped, then the admin server, which keeps answering probes and
// scrapes through the whole drain.
Task<void> run_main_then_stop_admin(server::Server* main, runtime::net::TcpListener listener,
                                    server::Server* admin) {
  std::exception_ptr failure;
  try {
    co_await main->run(std::move(listener));
  } catch (...) {
    failure = std::current_exception();
  }
  admin->shutdown();
  if (failure) std::rethrow_exception(failure);
}

Task<void> run_servers(server::Server* main, runtime::net::TcpListener listener,
                       server::Server* admin, std::optional<runtime::net::TcpListener> admin_port) {
  if (admin == nullptr) {
    co_await main->run(std::move(listener));
    co_return;
  }
  co_await runtime::join(run_main_then_stop_admin(main, std::move(listener), admin),
                         admin->run(std::move(*admin_port)));
}

struct Bound {
  runtime::net::TcpListener listener;
  runtime::net::SocketAddr address;
};

// On SIGHUP: the certificate and key are read again from tls_cert and tls_key, and new TLS
// connections get them; open connections keep theirs. Files that cannot be used are refused
// with a line naming them (load_tls), and the certificate in use stays. Never returns: raced
// against the servers like handle_signals. `server`, `settings` and `log` outlive it likewise.
Task<void> reload_on_hangup(Signal hangup, server::Server* server, const config::Settings* settings,
                            const Logger* log) {
  for (;;) {
    co_await hangup;
    if (!settings->tls_cert || !settings->tls_key) {
      log->log(LogLevel::info, "SIGHUP: no TLS certificate to reload");
      continue;
    }
    auto loaded = load_tls(*settings->tls_cert, *settings->tls_key);
    if (!loaded) {
      // The server keeps running: log lines, not a config error and an exit.
      const config::ConfigError& refused = loaded.error();
      log->log(LogLevel::error, "cannot use " + refused.key,
               std::vector{LogField::text("error", refused.reason)});
      log->log(LogLevel::error, "SIGHUP: kept the certificate in use");
      continue;
    }
    server->replace_tls(std::move(*loaded));
    log->log(LogLevel::info, "SIGHUP: reloaded the TLS certificate and key",
             std::vector{LogField::text("tls_cert", settings->tls_cert->string()),
                         LogField::text("tls_key", settings->tls_key->string())});
  }
}

Task<int> run_server(config::Settings settings, std::optional<server::TlsContext> tls,
                     std::shared_ptr<AccessLogWriter> access_log, const Logger* log,
                     ShutdownStart* start) {
  const auto fail = [log](std::string_view what, std::string_view key, std::string_view address,
                          const std::error_code& error) {
    log->log(LogLevel::error, what,
             std::vector{LogField::text(std::string(key), address),
                         LogField::text("error", error.message())});
    return exit_status::failure;
  };
  const auto fail_signal = [log](std::string_view what, const std::error_code& error) {
    log->log(LogLevel::error, what, std::vector{LogField::text("error", error.message())});
    return exit_status::failure;
  };
  // Binds `key`'s address, or logs why not (naming the key) and gives nullopt.
  const auto bind = [&fail](std::string_view key, const std::string& text) -> std::optional<Bound> {
    const auto address = runtime::net::SocketAddr::parse(text);
    if (!address) {
      fail("cannot use the address", key, text, address.error());
      return std::nullopt;
    }
    auto listener = runtime::net::TcpListener::bind(*address);
    if (!listener) {
      fail("cannot listen on the address", key, text, listener.error());
      return std::nullopt;
    }
    const auto bound = listener->local_addr();
    if (!bound) {
      fail("cannot read the bound address", key, text, bound.error());
      return std::nullopt;
    }
    return Bound{std::move(*listener), *bound};
  };

  std::optional<Bound> main_port = bind("listen", settings.listen);
  if (!main_port) co_return exit_status::failure;
  std::optional<Bound> admin_port;
  if (settings.admin_listen) {
    admin_port = bind("admin_listen", *settings.admin_listen);
    if (!admin_port) co_return exit_status::failure;
  }

  // Installed before the start-up line: whoever reads that line may send a signal at once, and
  // it must start a graceful shutdown, not kill the process.
  auto terminate = Signal::listen(SignalKind::terminate);
  if (!terminate) co_return fail_signal("cannot handle SIGTERM", terminate.error());
  auto interrupt = Signal::listen(SignalKind::interrupt);
  if (!interrupt) co_return fail_signal("cannot handle SIGINT", interrupt.error());
  auto hangup = Signal::listen(SignalKind::hangup);
  if (!hangup) co_return fail_signal("cannot handle SIGHUP", hangup.error());

  // The readiness probe and the draining gauge read the server's state. The routers (and so the
  // probes) live inside the servers, which live in this frame: the reference is valid for every
  // call.
  std::optional<server::Server> server;
  std::optional<server::Server> admin;
  auto metrics = std::make_shared<handlers::Metrics>(runtime::Handle::current());
  metrics->observe_draining([&server] { return server->state() != server::ServerState::serving; });
  metrics->observe_access_log([access_log] {
    if (!access_log) return handlers::Metrics::AccessLogCounts{};
    return handlers::Metrics::AccessLogCounts{.written = access_log->written(),
                                              .dropped = access_log->dropped()};
  });
  const handlers::RouteContext context{
      .is_ready = [&server] { return server->state() == server::ServerState::serving; },
      .metrics = metrics,
      .data_dir = settings.data_dir,
      .hash_offload_threshold = settings.hash_offload_threshold,
      .enable_block_endpoint = settings.enable_block_endpoint,
      .max_cpu_work = settings.max_cpu_work,
      .max_fanout = settings.max_fanout};
  server::Router router;
  if (admin_port) {
    server::Router admin_router;
    handlers::add_admin_routes(admin_router, context);
    admin.emplace(admin_options(settings), std::move(admin_router));
    handlers::add_public_routes(router, context);
  } else {
    handlers::add_routes(router, context);
  }
  // After the last route: the HTTP metrics take their route labels from the router.
  auto http_metrics = metrics->observe_http(router);
  server::ServerOptions options =
      server_options(settings, *log, std::move(http_metrics), std::move(access_log));
  options.tls = std::move(tls);
  server.emplace(std::move(options), std::move(router));

  std::vector fields{LogField::text("address", main_port->address.to_string())};
  if (admin_port)
    fields.push_back(LogField::text("admin_address", admin_port->address.to_string()));
  fields.push_back(LogField::number("workers", runtime::Handle::current().metrics().workers));
  fields.push_back(LogField::number("pid", static_cast<std::uint64_t>(::getpid())));
  fields.push_back(LogField::text("version", BRIGADE_VERSION));
  for (LogField& field : settings_fields(settings)) fields.push_back(std::move(field));
  log->log(LogLevel::info, "brigade started", fields);

  std::optional<runtime::net::TcpListener> admin_listener;
  if (admin_port) admin_listener.emplace(std::move(admin_port->listener));
  // Structured: the signal task runs inside this one and is cancelled when the servers return,
  // so it never outlives `server`.
  co_await runtime::select(
      run_servers(&*server, std::move(main_port->listener), admin ? &*admin : nullptr,
                  std::move(admin_listener)),
      handle_signals(std::move(*terminate), std::move(*interrupt), &*server, log, start),
      reload_on_hangup(std::move(*hangup), &*server, &settings, log));
  co_return exit_status::ok;
}

// What is left, for the blocking pool, of the shutdown's deadline: the server closes its
// listener drain_delay after the signal and aborts what is left grace_period after that.
std::chrono::milliseconds remaining_grace(const config::Settings& settings,
                                          const ShutdownStart& start) {
  if (!start.at) return settings.grace_period;
  const auto deadline = *start.at + settings.drain_delay + settings.grace_period;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

}  // namespace

int serve(const config::Loaded& loaded) {
  const config::Settings& settings = loaded.settings;
  const Logger log(settings.log_level, settings.log_format);
  ShutdownStart start;
  int status = exit_status::failure;
  try {
    // Before anything starts: a certificate or key that cannot be used is a start-up error.
    std::optional<server::TlsContext> tls;
    if (settings.tls_cert && settings.tls_key) {
      auto usable = load_tls(*settings.tls_cert, *settings.tls_key);
      if (!usable) {
        config::ConfigError refused = std::move(usable.error());
        refused.source = loaded.origin(refused.key);
        std::cerr << config::to_string(refused) << '\n';
        return exit_status::bad_setting;
      }
      tls = std::move(*usable);
    }
    warn_if_data_dir_missing(settings.data_dir, log);
    std::shared_ptr<AccessLogWriter> access_log;
    if (settings.access_log != "off") {
      auto opened = AccessLogWriter::open(settings.access_log, settings.access_log_queue);
      if (!opened) {
        log.log(LogLevel::error, "cannot open access_log",
                std::vector{LogField::text("access_log", settings.access_log),
                            LogField::text("error", opened.error())});
        return exit_status::bad_setting;
      }
      access_log = std::move(*opened);
    }
    runtime::Runtime runtime = runtime_builder(settings, log).build();
    status = runtime.block_on(run_server(settings, std::move(tls), access_log, &log, &start));
    // Tasks left are cancelled; closures still running on the blocking pool get what remains
    // of the grace period and are then left behind (the process exits without them).
    runtime.shutdown_timeout(remaining_grace(settings, start));
    // Every connection is gone: the last lines are queued. Written (within the writer's own
    // limit) before the process says it stopped.
    if (access_log) access_log->close();
  } catch (const std::exception& error) {
    log.log(LogLevel::error, "server failed", std::vector{LogField::text("error", error.what())});
    return exit_status::failure;
  }
  if (status == exit_status::ok) log.log(LogLevel::info, "brigade stopped");
  return status;
}

}  // namespace brigade::app
