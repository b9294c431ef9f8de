#pragma once

#include <memory>
#include <string>
#include <vector>

#include "access_log_writer.hpp"
#include "brigade/config/settings.hpp"
#include "brigade/runtime/runtime.hpp"
#include "brigade/server/server.hpp"
#include "log.hpp"

// Settings into the other layers' own option types: the one place that knows both sides.
namespace brigade::app {

// Stall reports go to `log` as warnings.
runtime::Builder runtime_builder(const config::Settings& settings, const Logger& log);
// Observed by `metrics` (may be null), by `access_log` when it is not null, and by the failure
// log writing through `log`. TLS (options.tls) is the caller's: loading the certificate and key can
// fail, and is reported as a start-up error.
server::ServerOptions server_options(const config::Settings& settings, const Logger& log,
                                     std::shared_ptr<server::RequestObserver> metrics,
                                     std::shared_ptr<AccessLogWriter> access_log);

// Every setting as a log field, with the value spelled as --print-config spells it.
std::vector<LogField> settings_fields(const config::Settings& settings);

}  // namespace brigade::app
