#pragma once

// The exit statuses of `brigade`: what a script or an orchestrator can rely on. --help prints
// the table below and the README repeats it.
#include <string_view>

#include "brigade/config/config_error.hpp"

namespace brigade::app::exit_status {

// Served and shut down gracefully (or answered --help, --print-config, a healthy healthcheck).
inline constexpr int ok = 0;
// Could not run, or stopped running, for a reason the settings do not explain: the listen
// address is in use or not allowed, a signal handler cannot be installed, the server failed.
inline constexpr int failure = 1;
// A setting the user can fix: a bad value, an unknown key, malformed TOML, a TLS certificate
// or key that cannot be read or used, or a key that does not match its certificate.
inline constexpr int bad_setting = config::config_error_exit_code;
// A second SIGTERM or SIGINT during the graceful shutdown exits at once with 128 + the signal's
// number, as a shell reports a process killed by that signal (130 for SIGINT, 143 for SIGTERM).
inline constexpr int after_signal_base = 128;

// One row per status; tests/docs/exit_status_table_check.sh holds README.md's table to it.
inline constexpr std::string_view help_table =
    "Exit status:\n"
    "  0    stopped gracefully after SIGTERM or SIGINT (also --help, --print-config)\n"
    "  1    a run-time failure: the listen address in use or not allowed, the server failed;\n"
    "       the log line says what\n"
    "  2    a setting to fix: a bad value, an unknown key, malformed TOML, a TLS certificate\n"
    "       or key that cannot be read or used, or a key that does not match its certificate;\n"
    "       the message names the key and where it was set\n"
    "  130  a second SIGINT during the graceful shutdown: exit at once (128 + the signal)\n"
    "  143  a second SIGTERM during the graceful shutdown: exit at once (128 + the signal)\n";

}  // namespace brigade::app::exit_status
