#pragma once

// The whole config layer: Settings, load(), ConfigError, help_text() and to_toml().
#include "brigade/config/config_error.hpp"
#include "brigade/config/environment.hpp"
#include "brigade/config/load.hpp"
#include "brigade/config/render.hpp"
#include "brigade/config/settings.hpp"
