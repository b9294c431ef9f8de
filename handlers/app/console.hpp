#pragma once

#include <span>
#include <string_view>

namespace brigade::app {

// `brigade console [URL] [--interval SECONDS] [--config FILE] [settings...]`: a live terminal
// view of a running server, refreshed every interval from GET /debug/runtime and
// GET /debug/tasks?format=json. Without a URL it reads the same settings as the server and
// `brigade healthcheck` (admin_listen, else listen). q or Ctrl-C quits and restores the terminal;
// an unreachable server is an error line, retried at every refresh. `args` follow "console".
int console(std::span<const std::string_view> args);

}  // namespace brigade::app
