#include "healthcheck.hpp"

#include <iostream>
#include <string>

#include "brigade/config/config.hpp"
#include "http_get.hpp"
#include "local_target.hpp"

namespace brigade::app {
namespace {

int fail(std::string_view what) {
  std::cerr << "healthcheck: " << what << '\n';
  return 1;
}

}  // namespace

int healthcheck(std::span<const std::string_view> args) {
  const auto loaded = config::load(args, config::process_environment());
  if (!loaded) {
    std::cerr << config::to_string(loaded.error()) << '\n';
    return config::config_error_exit_code;
  }
  if (loaded->action == config::Action::help) {
    std::cout
        << "usage: brigade healthcheck [--config FILE] [settings...]\n"
           "GET /healthz on admin_listen (else listen) of the same settings as the server\n"
           "(--config or BRIGADE_CONFIG, the environment, flags); exit 0 on 200, 1 otherwise.\n";
    return 0;
  }

  const auto address = local_target(loaded->settings);
  if (!address) return fail(address.error());
  const auto answer = http_get(*address, "/healthz", "brigade-healthcheck");
  if (!answer) return fail(answer.error());
  if (answer->status != 200) {
    return fail("GET /healthz on " + address->to_string() + " answered " +
                std::to_string(answer->status));
  }
  return 0;
}

}  // namespace brigade::app
