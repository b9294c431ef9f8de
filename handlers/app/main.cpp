// brigade: the composition root. Reads the configuration, then either answers --help,
// --print-config, the healthcheck or console subcommand, or serves until SIGTERM/SIGINT.
#include <iostream>
#include <span>
#include <string_view>
#include <vector>

#include "brigade/config/config.hpp"
#include "console.hpp"
#include "exit_status.hpp"
#include "healthcheck.hpp"
#include "serve.hpp"

int main(int argc, char** argv) {
  namespace config = brigade::config;

  if (argc >= 2 && std::string_view(argv[1]) == "healthcheck") {
    const std::vector<std::string_view> args(argv + 2, argv + argc);
    return brigade::app::healthcheck(args);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "console") {
    const std::vector<std::string_view> args(argv + 2, argv + argc);
    return brigade::app::console(args);
  }

  const auto loaded = config::load(argc, argv);
  if (!loaded) {
    std::cerr << config::to_string(loaded.error()) << '\n';
    return brigade::app::exit_status::bad_setting;
  }
  switch (loaded->action) {
    case config::Action::help:
      std::cout << config::help_text()
                << "\nSubcommands:\n"
                   "  brigade healthcheck [--config FILE] [settings...]\n"
                   "      GET /healthz on admin_listen (else listen), read from the same\n"
                   "      settings as the server (for a container HEALTHCHECK);\n"
                   "      exit 0 on a 200 answer, 1 otherwise\n"
                   "  brigade console [URL] [--interval SECONDS] [--config FILE] [settings...]\n"
                   "      a live terminal view of a running server's workers, blocking pool,\n"
                   "      stalls and busiest spawn sites (URL default: as healthcheck); q quits\n\n"
                << brigade::app::exit_status::help_table;
      return brigade::app::exit_status::ok;
    case config::Action::print_config:
      std::cout << config::to_toml(loaded->settings);
      return brigade::app::exit_status::ok;
    case config::Action::run:
      break;
  }
  return brigade::app::serve(*loaded);
}
