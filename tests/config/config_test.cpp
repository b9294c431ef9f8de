#include "brigade/config/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // geteuid

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../support/allowed_cpus.hpp"
#include "key_table.hpp"
#include "text_values.hpp"

namespace {

using namespace std::chrono_literals;
using brigade::config::Action;
using brigade::config::ConfigError;
using brigade::config::Environment;
using brigade::config::Loaded;
using brigade::config::LogFormat;
using brigade::config::LogLevel;
using brigade::config::Settings;
namespace detail = brigade::config::detail;
namespace fs = std::filesystem;

using Result = std::expected<Loaded, ConfigError>;

Result load(std::vector<std::string_view> args, const Environment& env = {}) {
  return brigade::config::load(args, env);
}

// The error of a result that must have failed (a default ConfigError if it did not).
ConfigError error_of(const Result& result) {
  EXPECT_FALSE(result.has_value()) << "expected a config error, got settings";
  return result ? ConfigError{} : result.error();
}

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "brigade-config-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path write(const std::string& name, std::string_view content) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// --- value forms ---------------------------------------------------------------------------------

TEST(ConfigValues, DurationsTakeEveryUnit) {
  EXPECT_EQ(detail::parse_duration("500ms"), 500ms);
  EXPECT_EQ(detail::parse_duration("10s"), 10s);
  EXPECT_EQ(detail::parse_duration("2m"), 2min);
  EXPECT_EQ(detail::parse_duration("1h"), 1h);
  EXPECT_EQ(detail::parse_duration("0s"), 0ms);
  EXPECT_EQ(detail::parse_duration("0ms"), 0ms);
}

TEST(ConfigValues, DurationsRefuseBareNumbersAndOtherForms) {
  const auto bare = detail::parse_duration("10");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error(), "\"10\" is not a duration; use a unit: 500ms, 10s, 2m");
  EXPECT_NE(detail::parse_duration("0").error().find("use a unit"), std::string::npos);

  for (const std::string_view text :
       {"", "ms", "s10", "-1s", "1.5s", "1m30s", " 10s", "10s ", "10 s", "10S", "10sec", "10d",
        "99999999999999999999ms", "9999999999999999h"}) {
    EXPECT_FALSE(detail::parse_duration(text)) << text;
  }
  EXPECT_NE(detail::parse_duration("10sec").error().find("unknown unit \"sec\""),
            std::string::npos);
  EXPECT_NE(detail::parse_duration("9999999999999999h").error().find("too long"),
            std::string::npos);
}

TEST(ConfigValues, DurationsFormatWithTheLargestExactUnit) {
  EXPECT_EQ(detail::format_duration(0ms), "0s");
  EXPECT_EQ(detail::format_duration(1500ms), "1500ms");
  EXPECT_EQ(detail::format_duration(10s), "10s");
  EXPECT_EQ(detail::format_duration(90s), "90s");
  EXPECT_EQ(detail::format_duration(2min), "2m");
  EXPECT_EQ(detail::format_duration(2h), "2h");
}

TEST(ConfigValues, ByteSizesTakePlainNumbersAndBinaryUnits) {
  EXPECT_EQ(detail::parse_byte_size("0"), 0u);
  EXPECT_EQ(detail::parse_byte_size("65536"), 65536u);
  EXPECT_EQ(detail::parse_byte_size("64KiB"), 64u * 1024);
  EXPECT_EQ(detail::parse_byte_size("16MiB"), 16u * 1024 * 1024);
  EXPECT_EQ(detail::parse_byte_size("1GiB"), 1024u * 1024 * 1024);
}

TEST(ConfigValues, ByteSizesRefuseDecimalUnitsAndOtherForms) {
  for (const std::string_view unit :
       {"64KB", "64kB", "64K", "64k", "16MB", "16M", "1GB", "1G", "64B"}) {
    const auto parsed = detail::parse_byte_size(unit);
    ASSERT_FALSE(parsed) << unit;
    EXPECT_NE(parsed.error().find("binary units KiB, MiB or GiB"), std::string::npos) << unit;
  }
  for (const std::string_view text : {"", "KiB", "-1", "1.5MiB", "64 KiB", "64kib", "64TiB",
                                      "99999999999999999999", "99999999999GiB"}) {
    EXPECT_FALSE(detail::parse_byte_size(text)) << text;
  }
}

TEST(ConfigValues, ByteSizesFormatWithTheLargestExactUnit) {
  EXPECT_EQ(detail::format_byte_size(0), "0");
  EXPECT_EQ(detail::format_byte_size(1000), "1000");
  EXPECT_EQ(detail::format_byte_size(65536), "64KiB");
  EXPECT_EQ(detail::format_byte_size(1536 * 1024), "1536KiB");
  EXPECT_EQ(detail::format_byte_size(16u << 20), "16MiB");
  EXPECT_EQ(detail::format_byte_size(std::uint64_t{3} << 30), "3GiB");
}

TEST(ConfigValues, ListenAcceptsIpv4Ipv6AndLocalhost) {
  for (const std::string_view text : {"0.0.0.0:8080", "127.0.0.1:80", "[::1]:8080", "[::]:0",
                                      "[2001:db8::1]:443", "localhost:0", "10.1.2.3:65535"}) {
    EXPECT_TRUE(detail::check_listen_address(text)) << text;
  }
}

TEST(ConfigValues, ListenRefusesEverythingElse) {
  for (const std::string_view text :
       {"", "8080", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:80x", "256.1.1.1:80", "1.2.3:80", "01.2.3.4:80", "example.com:80",
        "LOCALHOST:80", "::1:8080", "[::1]", "[::1]8080", "[::1:8080", "[zz::1]:80",
        "[127.0.0.1]:80"}) {
    EXPECT_FALSE(detail::check_listen_address(text)) << text;
  }
  EXPECT_NE(detail::check_listen_address("::1:8080").error().find("brackets"), std::string::npos);
}

TEST(ConfigValues, QuoteEscapesForToml) {
  EXPECT_EQ(detail::quote("plain"), "\"plain\"");
  EXPECT_EQ(detail::quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(detail::quote("tab\there\n"), "\"tab\\there\\n\"");
  EXPECT_EQ(detail::quote(std::string_view("\x01", 1)), "\"\\u0001\"");
}

// --- defaults ------------------------------------------------------------------------------------

TEST(ConfigLoad, DefaultsWhenNothingIsGiven) {
  const Result result = load({});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->action, Action::run);
  const Settings& s = result->settings;
  EXPECT_EQ(s, Settings{});
  EXPECT_EQ(s.listen, "0.0.0.0:8080");
  EXPECT_EQ(s.worker_threads, 0u);
  EXPECT_EQ(s.max_blocking_threads, 512u);
  EXPECT_EQ(s.blocking_queue_limit, 1024u);
  EXPECT_EQ(s.blocking_nice, 10u);
  EXPECT_EQ(s.max_connections, 10'000u);
  EXPECT_EQ(s.max_header_bytes, 64u * 1024);
  EXPECT_EQ(s.max_body_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(s.header_timeout, 10s);
  EXPECT_EQ(s.keep_alive_timeout, 60s);
  EXPECT_EQ(s.body_timeout, 30s);
  EXPECT_EQ(s.write_timeout, 30s);
  EXPECT_EQ(s.tls_handshake_timeout, 10s);
  EXPECT_EQ(s.grace_period, 30s);
  EXPECT_EQ(s.drain_delay, 0s);
  EXPECT_EQ(s.stall_threshold, 10ms);
  EXPECT_FALSE(s.tls_cert);
  EXPECT_FALSE(s.tls_key);
  EXPECT_EQ(s.data_dir, "./data");
  EXPECT_EQ(s.log_level, LogLevel::info);
  EXPECT_EQ(s.log_format, LogFormat::text);
  EXPECT_EQ(s.access_log, "off");
  EXPECT_EQ(s.access_log_queue, 8192u);
  EXPECT_EQ(s.hash_offload_threshold, 64u * 1024);
  EXPECT_FALSE(s.enable_block_endpoint);
  EXPECT_FALSE(s.admin_listen);
  EXPECT_EQ(s.max_cpu_work, 100'000u);
  EXPECT_EQ(s.max_fanout, 1'000u);
}

TEST(ConfigLoad, IgnoresVariablesWithoutThePrefixAndToolVariables) {
  const Result result = load(
      {}, {{"PATH", "/usr/bin"}, {"brigade_worker_threads", "9"}, {"BRIGADE_BIN", "/opt/brigade"}});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->settings, Settings{});
}

// --- every key from every source -----------------------------------------------------------------

using brigade::testing::allowed_cpus;  // blocking_cpus and worker_cpus are checked against them

// A text form of a non-default value for every key. The test fails when a key is added to the
// table without one, so every key is proven reachable from every source.
struct EveryKey {
  TempDir dir;
  fs::path cert = dir.write("cert.pem", "cert");
  fs::path key = dir.write("key.pem", "key");
  std::map<std::string, std::string> text{
      {"listen", "[::1]:9090"},
      {"worker_threads", "4"},
      {"max_blocking_threads", "64"},
      {"blocking_queue_limit", "unbounded"},
      {"blocking_nice", "3"},
      {"blocking_cpus", std::to_string(allowed_cpus().back())},
      {"worker_cpus", std::to_string(allowed_cpus().front())},
      {"max_connections", "123"},
      {"max_header_bytes", "8193"},
      {"max_body_bytes", "1GiB"},
      {"max_headers", "50"},
      {"max_buffered_body_bytes", "2GiB"},
      {"header_timeout", "1500ms"},
      {"keep_alive_timeout", "2m"},
      {"body_timeout", "1h"},
      {"write_timeout", "250ms"},
      {"tls_handshake_timeout", "3s"},
      {"grace_period", "45s"},
      {"drain_delay", "5s"},
      {"stall_threshold", "0s"},
      {"tls_cert", cert.string()},
      {"tls_key", key.string()},
      {"data_dir", "/srv/data dir"},
      {"log_level", "debug"},
      {"log_format", "json"},
      {"access_log", "stdout"},
      {"access_log_queue", "64"},
      {"hash_offload_threshold", "0"},
      {"enable_block_endpoint", "true"},
      {"admin_listen", "127.0.0.1:9901"},
      {"max_cpu_work", "500"},
      {"max_fanout", "10"},
  };

  Settings expected() const {
    Settings s;
    s.listen = "[::1]:9090";
    s.worker_threads = 4;
    s.max_blocking_threads = 64;
    s.blocking_queue_limit = std::nullopt;
    s.blocking_nice = 3;
    s.blocking_cpus = {allowed_cpus().back()};
    s.worker_cpus = {allowed_cpus().front()};
    s.max_connections = 123;
    s.max_header_bytes = 8193;
    s.max_body_bytes = std::size_t{1} << 30;
    s.max_headers = 50;
    s.max_buffered_body_bytes = std::size_t{2} << 30;
    s.header_timeout = 1500ms;
    s.keep_alive_timeout = 2min;
    s.body_timeout = 1h;
    s.write_timeout = 250ms;
    s.tls_handshake_timeout = 3s;
    s.grace_period = 45s;
    s.drain_delay = 5s;
    s.stall_threshold = 0ms;
    s.tls_cert = cert;
    s.tls_key = key;
    s.data_dir = "/srv/data dir";
    s.log_level = LogLevel::debug;
    s.log_format = LogFormat::json;
    s.access_log = "stdout";
    s.access_log_queue = 64;
    s.hash_offload_threshold = 0;
    s.enable_block_endpoint = true;
    s.admin_listen = "127.0.0.1:9901";
    s.max_cpu_work = 500;
    s.max_fanout = 10;
    return s;
  }
};

TEST(ConfigSources, TheTestCoversEveryKey) {
  const EveryKey every;
  EXPECT_EQ(every.text.size(), detail::key_table().size());
  for (const auto& key : detail::key_table()) {
    EXPECT_TRUE(every.text.contains(std::string(key.name))) << key.name;
  }
  EXPECT_NE(every.expected(), Settings{});
}

TEST(ConfigSources, EveryKeyFromTheEnvironment) {
  const EveryKey every;
  Environment env;
  for (const auto& [key, value] : every.text) env[detail::env_name(key)] = value;
  const Result result = load({}, env);
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->settings, every.expected());
}

TEST(ConfigSources, EveryKeyFromFlagsInBothForms) {
  const EveryKey every;
  std::vector<std::string> spaced;
  std::vector<std::string> joined;
  for (const auto& [key, value] : every.text) {
    spaced.push_back(detail::flag_name(key));
    // A boolean flag alone means true; it never takes the next argument.
    if (!detail::find_key(key)->is_boolean) spaced.push_back(value);
    joined.push_back(detail::flag_name(key) + "=" + value);
  }
  for (const auto* args : {&spaced, &joined}) {
    const std::vector<std::string_view> views(args->begin(), args->end());
    const Result result = load(views);
    ASSERT_TRUE(result) << to_string(result.error());
    EXPECT_EQ(result->settings, every.expected());
  }
}

TEST(ConfigSources, EveryKeyFromTomlNativeTypes) {
  const EveryKey every;
  std::string toml;
  for (const auto& [key, value] : every.text) {
    const bool native = key == "access_log_queue" || key == "enable_block_endpoint" ||
                        key == "worker_threads" || key == "max_blocking_threads" ||
                        key == "max_connections" || key == "max_header_bytes" ||
                        key == "max_headers" || key == "blocking_nice" || key == "blocking_cpus" ||
                        key == "worker_cpus" || key == "hash_offload_threshold" ||
                        key == "max_cpu_work" || key == "max_fanout";
    toml += key + " = " + (native ? value : detail::quote(value)) + "\n";
  }
  const fs::path file = every.dir.write("every.toml", toml);
  const Result result = load({"--config", file.string()});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->settings, every.expected());
}

TEST(ConfigSources, TomlTakesSizesAsIntegersOrStrings) {
  const TempDir dir;
  const fs::path file = dir.write("sizes.toml",
                                  "max_header_bytes = 2048\n"
                                  "max_body_bytes = \"2MiB\"\n"
                                  "hash_offload_threshold = \"1000\"\n"
                                  "blocking_queue_limit = 0\n");
  const Result result = load({"--config", file.string()});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->settings.max_header_bytes, 2048u);
  EXPECT_EQ(result->settings.max_body_bytes, 2u << 20);
  EXPECT_EQ(result->settings.hash_offload_threshold, 1000u);
  EXPECT_EQ(result->settings.blocking_queue_limit, 0u);
}

TEST(ConfigSources, BooleanFlagsStandAloneOrTakeAValue) {
  const auto block = [](const Result& result) { return result->settings.enable_block_endpoint; };
  EXPECT_TRUE(block(load({"--enable-block-endpoint"})));
  EXPECT_TRUE(block(load({"--enable-block-endpoint=true"})));
  EXPECT_FALSE(block(load({"--enable-block-endpoint=false"})));
  EXPECT_FALSE(
      block(load({"--enable-block-endpoint=0"}, {{"BRIGADE_ENABLE_BLOCK_ENDPOINT", "1"}})));
  EXPECT_TRUE(block(load({}, {{"BRIGADE_ENABLE_BLOCK_ENDPOINT", "1"}})));

  // A boolean flag never takes the next argument, so "false" here is a stray argument.
  const ConfigError error = error_of(load({"--enable-block-endpoint", "false"}));
  EXPECT_EQ(error.source, "command line");
  EXPECT_NE(error.reason.find("\"false\""), std::string::npos);

  const ConfigError bad = error_of(load({"--enable-block-endpoint=maybe"}));
  EXPECT_EQ(bad.key, "enable_block_endpoint");
  EXPECT_EQ(bad.source, "--enable-block-endpoint");
}

// access_log: off, stdout or a file that can be created; a leftover boolean, an empty value, a
// directory or a file in a missing directory is an error naming the key.
TEST(ConfigSources, AccessLogIsOffStdoutOrAWritablePath) {
  const TempDir dir;
  EXPECT_EQ(load({"--access-log", "stdout"})->settings.access_log, "stdout");
  EXPECT_EQ(load({}, {{"BRIGADE_ACCESS_LOG", "off"}})->settings.access_log, "off");
  const std::string file = (dir.path() / "access.log").string();
  EXPECT_EQ(load({"--access-log", file})->settings.access_log, file);
  for (const std::string& bad : {std::string("true"), std::string("0"), std::string(""),
                                 dir.path().string(), (dir.path() / "no/such.log").string()}) {
    const ConfigError error = error_of(load({"--access-log=" + bad}));
    EXPECT_EQ(error.key, "access_log") << bad;
    EXPECT_EQ(error.source, "--access-log") << bad;
  }
  const ConfigError small = error_of(load({"--access-log-queue", "1"}));
  EXPECT_EQ(small.key, "access_log_queue");
}

TEST(ConfigSources, EmptyPathUnsetsTls) {
  const TempDir dir;
  const fs::path file = dir.write("tls.toml",
                                  "tls_cert = \"/nowhere/cert.pem\"\n"
                                  "tls_key = \"/nowhere/key.pem\"\n");
  const Result result = load({"--config", file.string(), "--tls-key="}, {{"BRIGADE_TLS_CERT", ""}});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_FALSE(result->settings.tls_cert);
  EXPECT_FALSE(result->settings.tls_key);
}

// --- precedence ----------------------------------------------------------------------------------

TEST(ConfigPrecedence, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  const TempDir dir;
  const fs::path file = dir.write("brigade.toml",
                                  "worker_threads = 2\n"
                                  "max_connections = 200\n"
                                  "header_timeout = \"2s\"\n");
  const Environment env{{"BRIGADE_WORKER_THREADS", "3"}, {"BRIGADE_HEADER_TIMEOUT", "3s"}};

  const Result file_only = load({"--config", file.string()});
  ASSERT_TRUE(file_only) << to_string(file_only.error());
  EXPECT_EQ(file_only->settings.worker_threads, 2u);
  EXPECT_EQ(file_only->settings.header_timeout, 2s);

  const Result with_env = load({"--config", file.string()}, env);
  ASSERT_TRUE(with_env) << to_string(with_env.error());
  EXPECT_EQ(with_env->settings.worker_threads, 3u);
  EXPECT_EQ(with_env->settings.header_timeout, 3s);
  EXPECT_EQ(with_env->settings.max_connections, 200u);  // only the file set it

  // Flags win wherever they appear relative to --config, and the last repeat wins.
  const Result with_flag = load({"--worker-threads", "4", "--config", file.string(),
                                 "--header-timeout=5s", "--header-timeout=4s"},
                                env);
  ASSERT_TRUE(with_flag) << to_string(with_flag.error());
  EXPECT_EQ(with_flag->settings.worker_threads, 4u);
  EXPECT_EQ(with_flag->settings.header_timeout, 4s);
  EXPECT_EQ(with_flag->settings.max_connections, 200u);
  EXPECT_EQ(with_flag->settings.max_blocking_threads, 512u);  // nobody set it: the default
}

TEST(ConfigPrecedence, BrigadeConfigNamesTheFileWhenNoFlagDoes) {
  const TempDir dir;
  const fs::path named = dir.write("named.toml", "worker_threads = 2\nmax_connections = 200\n");
  const fs::path flagged = dir.write("flagged.toml", "worker_threads = 5\n");
  const Environment env{{"BRIGADE_CONFIG", named.string()}, {"BRIGADE_MAX_CONNECTIONS", "300"}};

  // The file sits below the environment, as --config's does.
  const Result from_env = load({}, env);
  ASSERT_TRUE(from_env) << to_string(from_env.error());
  EXPECT_EQ(from_env->settings.worker_threads, 2u);
  EXPECT_EQ(from_env->settings.max_connections, 300u);

  // --config wins over BRIGADE_CONFIG: only its file is read.
  const Result from_flag = load({"--config", flagged.string()}, env);
  ASSERT_TRUE(from_flag) << to_string(from_flag.error());
  EXPECT_EQ(from_flag->settings.worker_threads, 5u);

  const ConfigError missing = error_of(load({}, {{"BRIGADE_CONFIG", "/does/not/exist.toml"}}));
  EXPECT_NE(to_string(missing).find("/does/not/exist.toml"), std::string::npos);
}

TEST(ConfigValues, AdminListenTakesAnAddressOrNothing) {
  EXPECT_EQ(load({"--admin-listen", "[::1]:0"})->settings.admin_listen, "[::1]:0");
  EXPECT_FALSE(
      load({"--admin-listen="}, {{"BRIGADE_ADMIN_LISTEN", "0.0.0.0:9901"}})->settings.admin_listen);
  EXPECT_EQ(error_of(load({"--admin-listen", "nowhere"})).key, "admin_listen");
}

// --- refusals: each names the key and the source -------------------------------------------------

TEST(ConfigErrors, BareDurationInTheEnvironmentReadsAsDocumented) {
  const ConfigError error = error_of(load({}, {{"BRIGADE_HEADER_TIMEOUT", "10"}}));
  EXPECT_EQ(error.key, "header_timeout");
  EXPECT_EQ(error.source, "BRIGADE_HEADER_TIMEOUT");
  EXPECT_EQ(to_string(error),
            "config error: key \"header_timeout\" (from BRIGADE_HEADER_TIMEOUT): \"10\" is not a "
            "duration; use a unit: 500ms, 10s, 2m");
}

TEST(ConfigErrors, StallThresholdIsADurationOfAtMostAnHour) {
  const ConfigError bare = error_of(load({"--stall-threshold", "10"}));
  EXPECT_EQ(bare.key, "stall_threshold");
  EXPECT_NE(bare.reason.find("use a unit"), std::string::npos);
  const ConfigError long_one = error_of(load({}, {{"BRIGADE_STALL_THRESHOLD", "2h"}}));
  EXPECT_EQ(long_one.key, "stall_threshold");
  EXPECT_EQ(long_one.source, "BRIGADE_STALL_THRESHOLD");
}

TEST(ConfigErrors, BadValueInTheFileNamesKeyFileAndLine) {
  const TempDir dir;
  const fs::path file = dir.write("bad.toml",
                                  "# a comment\n"
                                  "worker_threads = 2\n"
                                  "\n"
                                  "keep_alive_timeout = \"forever\"\n");
  const ConfigError error = error_of(load({"--config", file.string()}));
  EXPECT_EQ(error.key, "keep_alive_timeout");
  EXPECT_EQ(error.source, file.string() + ":4");
  EXPECT_NE(error.reason.find("\"forever\""), std::string::npos);
}

TEST(ConfigErrors, BadFlagValuesNameKeyAndFlag) {
  for (const auto& args : std::vector<std::vector<std::string_view>>{{"--worker-threads", "many"},
                                                                     {"--worker-threads=many"}}) {
    const ConfigError error = error_of(load(args));
    EXPECT_EQ(error.key, "worker_threads");
    EXPECT_EQ(error.source, "--worker-threads");
    EXPECT_EQ(error.reason, "\"many\" is not a whole number");
  }
}

TEST(ConfigErrors, IntegersOutsideTheirRange) {
  struct Case {
    const char* variable;
    const char* value;
  };
  for (const Case c :
       {Case{"BRIGADE_WORKER_THREADS", "1025"}, Case{"BRIGADE_WORKER_THREADS", "-1"},
        Case{"BRIGADE_MAX_CONNECTIONS", "0"}, Case{"BRIGADE_MAX_BLOCKING_THREADS", "0"},
        Case{"BRIGADE_BLOCKING_QUEUE_LIMIT", "-5"}, Case{"BRIGADE_BLOCKING_QUEUE_LIMIT", "lots"},
        Case{"BRIGADE_MAX_HEADER_BYTES", "1000"}, Case{"BRIGADE_MAX_HEADER_BYTES", "32MiB"},
        Case{"BRIGADE_HEADER_TIMEOUT", "0s"}, Case{"BRIGADE_GRACE_PERIOD", "2h"},
        Case{"BRIGADE_WORKER_THREADS", "99999999999999999999"}}) {
    const ConfigError error = error_of(load({}, {{c.variable, c.value}}));
    EXPECT_EQ(error.source, c.variable);
    EXPECT_EQ(detail::env_name(error.key), c.variable);
  }
  EXPECT_EQ(error_of(load({"--worker-threads=1025"})).reason, "1025 is out of range 0..1024");
  EXPECT_EQ(error_of(load({"--blocking-nice=20"})).reason, "20 is out of range 0..19");
  EXPECT_NE(error_of(load({"--max-header-bytes=32MiB"})).reason.find("out of range 1KiB..16MiB"),
            std::string::npos);
}

TEST(ConfigValues, CpuListsAsLinuxWritesThem) {
  using List = std::vector<std::size_t>;
  EXPECT_EQ(detail::parse_cpu_list("1"), List{1});
  EXPECT_EQ(detail::parse_cpu_list("3,0-1,1"), (List{0, 1, 3}));
  EXPECT_EQ(detail::parse_cpu_list("2-4,7"), (List{2, 3, 4, 7}));
  EXPECT_EQ(detail::parse_cpu_list(""), List{});
  EXPECT_EQ(detail::format_cpu_list(List{0, 2, 3, 4, 7}), "0,2-4,7");
  EXPECT_EQ(detail::format_cpu_list(List{5}), "5");
  for (const std::string_view bad : {"x", "1,", ",1", "1,,2", "-1", "3-1", "1-", "1024", " 1"}) {
    EXPECT_FALSE(detail::parse_cpu_list(bad)) << bad;
  }
  EXPECT_EQ(detail::parse_cpu_list("3-1").error(), "\"3-1\" is a range that ends before it starts");
  EXPECT_EQ(detail::parse_cpu_list("1024").error(), "CPU 1024 is above 1023");
}

// A CPU the process may not run on (outside its cpuset or taskset mask) is refused by name,
// rather than silently dropped by Linux.
TEST(ConfigErrors, CpuListsMustBeOnesTheProcessMayRunOn) {
  const std::vector<std::size_t> allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  const std::string absent = std::to_string(allowed.back() + 1);
  for (const std::string key : {"blocking_cpus", "worker_cpus"}) {
    std::string variable = "BRIGADE_" + key;
    std::transform(variable.begin(), variable.end(), variable.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const ConfigError error =
        error_of(load({}, {{variable, std::to_string(allowed.front()) + "," + absent}}));
    EXPECT_EQ(error.key, key);
    EXPECT_EQ(error.source, variable);
    EXPECT_EQ(error.reason.rfind("CPU " + absent + " is not one this process may run on (", 0), 0u)
        << error.reason;
    const ConfigError malformed = error_of(load({flag + "=0-"}));
    EXPECT_EQ(malformed.key, key);
    EXPECT_EQ(malformed.source, flag);
  }
}

TEST(ConfigErrors, BodyLimitsAreBoundedAndConsistent) {
  EXPECT_NE(error_of(load({"--max-body-bytes=2GiB"})).reason.find("out of range"),
            std::string::npos);
  const ConfigError over =
      error_of(load({"--max-body-bytes=64MiB", "--max-buffered-body-bytes=32MiB"}));
  EXPECT_EQ(over.key, "max_body_bytes");
  EXPECT_NE(over.reason.find("max_buffered_body_bytes"), std::string::npos);
  EXPECT_EQ(error_of(load({"--max-headers=0"})).key, "max_headers");
}

TEST(ConfigErrors, ByteSizeRefusalsNameTheBinaryUnits) {
  const ConfigError error = error_of(load({}, {{"BRIGADE_MAX_BODY_BYTES", "16MB"}}));
  EXPECT_EQ(error.key, "max_body_bytes");
  EXPECT_NE(error.reason.find("KiB, MiB or GiB"), std::string::npos);
}

TEST(ConfigErrors, EnumsAndListen) {
  const ConfigError level = error_of(load({"--log-level", "verbose"}));
  EXPECT_EQ(level.key, "log_level");
  EXPECT_EQ(level.reason, "\"verbose\" is not one of trace|debug|info|warn|error");
  EXPECT_EQ(error_of(load({"--log-format=xml"})).key, "log_format");

  const ConfigError listen = error_of(load({}, {{"BRIGADE_LISTEN", "example.com:80"}}));
  EXPECT_EQ(listen.key, "listen");
  EXPECT_EQ(listen.source, "BRIGADE_LISTEN");
}

TEST(ConfigErrors, TomlValuesOfTheWrongType) {
  const TempDir dir;
  struct Case {
    const char* line;
    const char* reason_part;
  };
  for (const Case c :
       {Case{"worker_threads = \"4\"", "expected an integer, got a string"},
        Case{"enable_block_endpoint = \"true\"", "expected a boolean"},
        Case{"access_log = true", "expected a string"}, Case{"header_timeout = 10", "use a unit"},
        Case{"max_body_bytes = -1", "negative"},
        Case{"max_body_bytes = true", "expected an integer or a string"},
        Case{"listen = 8080", "expected a string"}, Case{"grace_period = 1.5", "got a float"},
        Case{"data_dir = [\"a\", \"b\"]", "got an array"},
        Case{"drain_delay = 07:32:00", "got a date or time"},
        Case{"[listen]\nport = 1", "is a table"}}) {
    const fs::path file = dir.write("typed.toml", c.line);
    const ConfigError error = error_of(load({"--config", file.string()}));
    EXPECT_FALSE(error.key.empty()) << c.line;
    EXPECT_EQ(error.source, file.string() + ":1") << c.line;
    EXPECT_NE(error.reason.find(c.reason_part), std::string::npos)
        << c.line << ": " << error.reason;
  }
}

TEST(ConfigErrors, UnknownKeyInTheFile) {
  const TempDir dir;
  const fs::path file = dir.write("unknown.toml", "worker_threads = 2\nworker_thread = 3\n");
  const ConfigError error = error_of(load({"--config", file.string()}));
  EXPECT_EQ(error.key, "worker_thread");
  EXPECT_EQ(error.source, file.string() + ":2");
  EXPECT_NE(error.reason.find("unknown key"), std::string::npos);

  // Sections are not settings: [server] is an unknown key, not a way in.
  const fs::path sectioned = dir.write("section.toml", "[server]\nworker_threads = 2\n");
  EXPECT_EQ(error_of(load({"--config", sectioned.string()})).key, "server");
}

TEST(ConfigErrors, UnknownKeyInTheEnvironment) {
  const ConfigError error = error_of(load({}, {{"BRIGADE_WORKER_THREAD", "3"}}));
  EXPECT_EQ(error.key, "worker_thread");
  EXPECT_EQ(error.source, "BRIGADE_WORKER_THREAD");
  EXPECT_EQ(to_string(error),
            "config error: key \"worker_thread\" (from BRIGADE_WORKER_THREAD): unknown key; "
            "variables are BRIGADE_ and a key in capitals (see --help)");

  // The variable must be in capitals.
  EXPECT_EQ(error_of(load({}, {{"BRIGADE_worker_threads", "3"}})).source, "BRIGADE_worker_threads");
}

TEST(ConfigErrors, UnknownFlag) {
  const ConfigError error = error_of(load({"--worker-thread", "3"}));
  EXPECT_EQ(error.key, "worker_thread");
  EXPECT_EQ(error.source, "--worker-thread");
  EXPECT_NE(error.reason.find("unknown flag"), std::string::npos);

  const ConfigError underscored = error_of(load({"--worker_threads=3"}));
  EXPECT_EQ(underscored.source, "--worker_threads");
  EXPECT_NE(underscored.reason.find("--worker-threads"), std::string::npos);
}

TEST(ConfigErrors, CommandLineSyntax) {
  const ConfigError missing = error_of(load({"--listen"}));
  EXPECT_EQ(missing.key, "listen");
  EXPECT_EQ(missing.source, "--listen");
  EXPECT_EQ(missing.reason, "needs a value");
  EXPECT_EQ(error_of(load({"--listen", "--access-log"})).reason, "needs a value");
  EXPECT_EQ(error_of(load({"--config"})).source, "--config");
  EXPECT_EQ(error_of(load({"--config", "a.toml", "--config=b.toml"})).source, "--config");
  EXPECT_EQ(error_of(load({"serve"})).source, "command line");
  EXPECT_EQ(error_of(load({"--"})).source, "command line");
  EXPECT_EQ(error_of(load({"-x"})).source, "command line");
}

TEST(ConfigErrors, MissingConfigFile) {
  const TempDir dir;
  const fs::path missing = dir.path() / "absent.toml";
  const ConfigError error = error_of(load({"--config", missing.string()}));
  EXPECT_TRUE(error.key.empty());
  EXPECT_EQ(error.source, missing.string());
  EXPECT_NE(error.reason.find("No such file"), std::string::npos) << error.reason;
  EXPECT_TRUE(to_string(error).starts_with("config error: " + missing.string() +
                                           ": cannot read the config file: "))
      << to_string(error);

  EXPECT_NE(error_of(load({"--config", dir.path().string()})).reason.find("directory"),
            std::string::npos);
}

TEST(ConfigErrors, MalformedTomlNamesFileAndLine) {
  const TempDir dir;
  const fs::path file = dir.write("broken.toml",
                                  "worker_threads = 2\n"
                                  "listen = \"0.0.0.0:8080\"\n"
                                  "max_connections = = 5\n");
  const ConfigError error = error_of(load({"--config", file.string()}));
  EXPECT_EQ(error.source, file.string() + ":3");
  EXPECT_TRUE(error.reason.starts_with("malformed TOML: ")) << error.reason;

  const fs::path duplicate =
      dir.write("duplicate.toml", "worker_threads = 2\nworker_threads = 3\n");
  EXPECT_EQ(error_of(load({"--config", duplicate.string()})).source, duplicate.string() + ":2");
}

TEST(ConfigErrors, UnquotedDurationNamesTheKeyAndSaysToQuote) {
  const TempDir dir;
  const fs::path file = dir.write("unquoted.toml",
                                  "worker_threads = 2\n"
                                  "  header_timeout = 5s\n");
  const ConfigError error = error_of(load({"--config", file.string()}));
  EXPECT_EQ(error.key, "header_timeout");
  EXPECT_EQ(error.source, file.string() + ":2");
  EXPECT_NE(error.reason.find("quoted strings"), std::string::npos) << error.reason;
  EXPECT_NE(error.reason.find("header_timeout = \"10s\""), std::string::npos) << error.reason;
  EXPECT_TRUE(to_string(error).starts_with("config error: key \"header_timeout\" (from " +
                                           file.string() + ":2): malformed TOML: "))
      << to_string(error);
}

TEST(ConfigErrors, UnquotedSizeNamesTheKeyAndSaysToQuote) {
  const TempDir dir;
  const fs::path file = dir.write("unquoted.toml", "max_body_bytes = 1MiB\n");
  const ConfigError error = error_of(load({"--config", file.string()}));
  EXPECT_EQ(error.key, "max_body_bytes");
  EXPECT_NE(error.reason.find("max_body_bytes = \"16MiB\""), std::string::npos) << error.reason;
}

TEST(ConfigErrors, MalformedLineOfNoKnownKeyNamesOnlyTheLine) {
  const TempDir dir;
  const fs::path file = dir.write("broken.toml", "no_such_key = 5s\n");
  const ConfigError error = error_of(load({"--config", file.string()}));
  EXPECT_EQ(error.key, "");
  EXPECT_EQ(error.source, file.string() + ":1");
}

// --- TLS -----------------------------------------------------------------------------------------

TEST(ConfigTls, CertWithoutKeyIsRefused) {
  const TempDir dir;
  const fs::path cert = dir.write("cert.pem", "cert");
  const ConfigError error = error_of(load({}, {{"BRIGADE_TLS_CERT", cert.string()}}));
  EXPECT_EQ(error.key, "tls_cert");
  EXPECT_EQ(error.source, "BRIGADE_TLS_CERT");
  EXPECT_NE(error.reason.find("tls_key is not"), std::string::npos);

  const ConfigError key_only = error_of(load({"--tls-key", cert.string()}));
  EXPECT_EQ(key_only.key, "tls_key");
  EXPECT_EQ(key_only.source, "--tls-key");
}

TEST(ConfigTls, BothReadableFilesAreAccepted) {
  const TempDir dir;
  const fs::path cert = dir.write("cert.pem", "cert");
  const fs::path key = dir.write("key.pem", "key");
  const Result result = load({"--tls-cert", cert.string(), "--tls-key", key.string()});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->settings.tls_cert, cert);
  EXPECT_EQ(result->settings.tls_key, key);
}

TEST(ConfigTls, FilesMustExistAndBeRegular) {
  const TempDir dir;
  const fs::path cert = dir.write("cert.pem", "cert");
  const fs::path toml =
      dir.write("tls.toml", "\ntls_key = " + detail::quote((dir.path() / "nokey.pem").string()));
  const ConfigError missing =
      error_of(load({"--config", toml.string(), "--tls-cert", cert.string()}));
  EXPECT_EQ(missing.key, "tls_key");
  EXPECT_EQ(missing.source, toml.string() + ":2");
  EXPECT_NE(missing.reason.find("No such file"), std::string::npos) << missing.reason;

  const ConfigError directory =
      error_of(load({"--tls-cert", dir.path().string(), "--tls-key", cert.string()}));
  EXPECT_EQ(directory.key, "tls_cert");
  EXPECT_NE(directory.reason.find("not a regular file"), std::string::npos);
}

TEST(ConfigTls, UnreadableFileIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const TempDir dir;
  const fs::path cert = dir.write("cert.pem", "cert");
  const fs::path key = dir.write("key.pem", "key");
  fs::permissions(key, fs::perms::none);
  const ConfigError error =
      error_of(load({"--tls-cert", cert.string(), "--tls-key", key.string()}));
  EXPECT_EQ(error.key, "tls_key");
  EXPECT_NE(error.reason.find("Permission denied"), std::string::npos) << error.reason;
}

// --- help and print-config -----------------------------------------------------------------------

TEST(ConfigHelp, ListsEveryKeyWithTypeDefaultAndDescription) {
  const std::string help = brigade::config::help_text();
  const Settings defaults;
  for (const auto& key : detail::key_table()) {
    const std::optional<std::string> value = key.to_toml(defaults);
    const std::string line = std::string(key.name) + (value ? " = " + *value : " (not set)");
    EXPECT_NE(help.find("  " + line + " "), std::string::npos) << line;
    EXPECT_NE(help.find(key.type), std::string::npos) << key.name;
    EXPECT_NE(help.find(std::string(key.description)), std::string::npos) << key.name;
  }
  EXPECT_NE(help.find("header_timeout = \"10s\""), std::string::npos);
  EXPECT_NE(help.find("BRIGADE_"), std::string::npos);
  EXPECT_NE(help.find("--print-config"), std::string::npos);
}

TEST(ConfigHelp, HelpIsAnsweredWithoutReadingAnything) {
  const Result result =
      load({"--config", "/does/not/exist.toml", "--worker-threads=oops", "--help"},
           {{"BRIGADE_NOT_A_KEY", "x"}});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->action, Action::help);
  EXPECT_EQ(load({"-h"})->action, Action::help);
}

TEST(ConfigPrintConfig, ReturnsThePrintAction) {
  const Result result = load({"--print-config", "--worker-threads=6"});
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->action, Action::print_config);
  EXPECT_EQ(result->settings.worker_threads, 6u);
  // The settings are still validated: what is printed is what would run.
  EXPECT_FALSE(load({"--print-config", "--worker-threads=oops"}));
}

// Writes settings with to_toml, reads them back with --config, and expects them unchanged.
void expect_round_trip(const Settings& settings) {
  const TempDir dir;
  const std::string toml = brigade::config::to_toml(settings);
  const fs::path file = dir.write("printed.toml", toml);
  const Result result = load({"--config", file.string()});
  ASSERT_TRUE(result) << to_string(result.error()) << "\n" << toml;
  EXPECT_EQ(result->settings, settings) << toml;
}

TEST(ConfigPrintConfig, DefaultsRoundTripThroughConfig) {
  const std::string toml = brigade::config::to_toml(Settings{});
  EXPECT_NE(toml.find("listen = \"0.0.0.0:8080\"\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("worker_threads = 0\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("max_header_bytes = \"64KiB\"\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("header_timeout = \"10s\"\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("# tls_cert is not set\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("access_log = \"off\"\n"), std::string::npos) << toml;
  expect_round_trip(Settings{});
}

TEST(ConfigPrintConfig, EveryKeyChangedRoundTripsThroughConfig) {
  const EveryKey every;
  expect_round_trip(every.expected());
}

TEST(ConfigPrintConfig, AwkwardValuesRoundTrip) {
  const TempDir dir;
  Settings settings;
  settings.tls_cert = dir.write("cert \"quoted\" \\ back.pem", "cert");
  settings.tls_key = dir.write("clé\tà onglet.pem", "key");
  settings.data_dir = "C:\\data\\\"dir\"";
  settings.max_body_bytes = 1000;  // not a whole unit: printed as a plain integer
  settings.hash_offload_threshold = 1536 * 1024;
  settings.drain_delay = 90s;
  settings.blocking_queue_limit = 0;
  expect_round_trip(settings);
}

TEST(ConfigPrintConfig, PrintedSettingsReloadToTheSameResultWhateverTheirSources) {
  const TempDir dir;
  const fs::path file = dir.write("mixed.toml", "max_connections = 7\nlog_format = \"json\"\n");
  const Result loaded =
      load({"--config", file.string(), "--print-config", "--keep-alive-timeout=5s"},
           {{"BRIGADE_MAX_BODY_BYTES", "3MiB"}});
  ASSERT_TRUE(loaded) << to_string(loaded.error());
  expect_round_trip(loaded->settings);
}

TEST(ConfigErrorText, RendersWithAndWithoutAKey) {
  EXPECT_EQ(to_string(ConfigError{.key = "k", .source = "--k", .reason = "bad"}),
            "config error: key \"k\" (from --k): bad");
  EXPECT_EQ(to_string(ConfigError{.key = "", .source = "f.toml:3", .reason = "malformed TOML: x"}),
            "config error: f.toml:3: malformed TOML: x");
  EXPECT_EQ(brigade::config::config_error_exit_code, 2);
}

TEST(ConfigEnvironment, ProcessEnvironmentIsRead) {
  ASSERT_EQ(setenv("BRIGADE_CONFIG_TEST_PROBE", "a=b", 1), 0);
  const Environment env = brigade::config::process_environment();
  unsetenv("BRIGADE_CONFIG_TEST_PROBE");
  ASSERT_TRUE(env.contains("BRIGADE_CONFIG_TEST_PROBE"));
  EXPECT_EQ(env.at("BRIGADE_CONFIG_TEST_PROBE"), "a=b");
}

TEST(ConfigLoad, ArgcArgvOverloadSkipsTheProgramName) {
  const char* argv[] = {"brigade", "--max-connections", "77", "--print-config"};
  const Result result = brigade::config::load(4, argv);
  ASSERT_TRUE(result) << to_string(result.error());
  EXPECT_EQ(result->action, Action::print_config);
  EXPECT_EQ(result->settings.max_connections, 77u);
}

}  // namespace
