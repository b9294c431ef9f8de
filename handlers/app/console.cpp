#include "console.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <expected>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "brigade/config/config.hpp"
#include "console_view.hpp"
#include "exit_status.hpp"
#include "http_get.hpp"
#include "local_target.hpp"

namespace brigade::app {
namespace {

using Clock = std::chrono::steady_clock;
using runtime::net::SocketAddr;

constexpr std::string_view kUsage =
    "usage: brigade console [URL] [--interval SECONDS] [--config FILE] [settings...]\n"
    "A live view of a running server's runtime (GET /debug/runtime and /debug/tasks), refreshed\n"
    "every --interval seconds (default 1). URL is http://HOST:PORT; without it, admin_listen\n"
    "(else listen) of the same settings as the server. q or Ctrl-C quits.\n";
constexpr double kMinInterval = 0.1;
constexpr double kMaxInterval = 3600;

volatile std::sig_atomic_t stop_requested = 0;
volatile std::sig_atomic_t resized = 0;

struct Options {
  std::optional<std::string_view> url;
  double interval_seconds = 1;
  std::vector<std::string_view> settings;  // for config::load, when there is no URL
  bool help = false;
};

std::expected<Options, std::string> parse_options(std::span<const std::string_view> args) {
  Options options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
    } else if (arg == "--interval" || arg.starts_with("--interval=")) {
      std::string_view value =
          arg.substr(std::min(arg.size(), std::string_view("--interval=").size()));
      if (arg == "--interval") {
        if (++i == args.size()) return std::unexpected(std::string("--interval needs a value"));
        value = args[i];
      }
      const auto [end, error] =
          std::from_chars(value.data(), value.data() + value.size(), options.interval_seconds);
      if (error != std::errc() || end != value.data() + value.size() ||
          !(options.interval_seconds >= kMinInterval && options.interval_seconds <= kMaxInterval)) {
        return std::unexpected("--interval: \"" + std::string(value) +
                               "\" is not a number of seconds from 0.1 to 3600");
      }
    } else if (arg.starts_with("http://") || arg.starts_with("https://")) {
      options.url = arg;
    } else {
      options.settings.push_back(arg);
    }
  }
  return options;
}

// http://HOST:PORT[/...] with a literal address (or localhost), as SocketAddr::parse takes it.
std::expected<SocketAddr, std::string> address_of(std::string_view url) {
  if (url.starts_with("https://")) {
    return std::unexpected(
        std::string("https is not supported: give the admin port's http:// URL"));
  }
  const std::string_view authority = url.substr(7, url.find('/', 7) - 7);
  const auto address = SocketAddr::parse(authority);
  if (!address) {
    return std::unexpected("cannot use \"" + std::string(url) + "\": want http://HOST:PORT");
  }
  return *address;
}

// The terminal in the alternate screen, keys read one at a time without echo (Ctrl-C as a key,
// so quitting always goes through the restore below), the cursor hidden; all undone on scope
// exit, whatever ends the loop.
class TerminalSession {
 public:
  TerminalSession() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      raw_ = true;
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG);
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    }
    write_all("\x1b[?1049h\x1b[?25l");
  }
  TerminalSession(const TerminalSession&) = delete;
  TerminalSession& operator=(const TerminalSession&) = delete;
  ~TerminalSession() {
    write_all("\x1b[?25h\x1b[?1049l");
    if (raw_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }

  static void write_all(std::string_view text) {
    while (!text.empty()) {
      const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  termios saved_{};
  bool raw_ = false;
};

// SIGTERM, SIGHUP (the terminal closed) and SIGINT (stdin not a terminal) stop the loop, and
// SIGWINCH redraws; without SA_RESTART, so they interrupt the wait for a key.
void install_signal_handlers() {
  struct sigaction stop {};
  stop.sa_handler = [](int) { stop_requested = 1; };
  sigemptyset(&stop.sa_mask);
  for (const int signo : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signo, &stop, nullptr);
  struct sigaction resize {};
  resize.sa_handler = [](int) { resized = 1; };
  sigemptyset(&resize.sa_mask);
  ::sigaction(SIGWINCH, &resize, nullptr);
}

std::pair<std::size_t, std::size_t> terminal_size() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) {
    return {80, 24};
  }
  return {size.ws_col, size.ws_row};
}

enum class Wake { refresh, redraw, quit };

// Waits until `deadline` for q, Q or Ctrl-C on stdin, or a signal.
Wake wait_for_key(Clock::time_point deadline, bool& stdin_open) {
  for (;;) {
    if (stop_requested) return Wake::quit;
    if (resized) {
      resized = 0;
      return Wake::redraw;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Wake::refresh;
    pollfd key{.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN, .revents = 0};
    if (::poll(&key, 1, static_cast<int>(left.count())) <= 0) continue;  // timeout or signal
    char buffer[64];
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n <= 0) {
      stdin_open = n < 0 && errno == EINTR;
      continue;
    }
    for (const char c : std::string_view(buffer, static_cast<std::size_t>(n))) {
      if (c == 'q' || c == 'Q' || c == '\x03') return Wake::quit;
    }
  }
}

std::expected<std::string, std::string> get_json(const SocketAddr& address,
                                                 std::string_view target) {
  auto answer = http_get(address, target, "brigade-console");
  if (!answer) return std::unexpected(answer.error());
  if (answer->status != 200) {
    return std::unexpected("GET " + std::string(target) + " answered " +
                           std::to_string(answer->status));
  }
  return std::move(answer->body);
}

// GET `target`, parsed by `parse` (GCC 12's std::expected has no and_then).
template <class Parse>
auto read_json(const SocketAddr& address, std::string_view target, Parse parse)
    -> decltype(parse(std::string_view())) {
  const auto body = get_json(address, target);
  if (!body) return std::unexpected(body.error());
  return parse(*body);
}

// The snapshots on screen: the latest two of the runtime (for rates) and the latest task dump.
class Readings {
 public:
  void refresh(const SocketAddr& address) {
    error_.clear();
    auto runtime = read_json(address, "/debug/runtime", console_view::parse_runtime);
    const Clock::time_point now = Clock::now();
    if (!runtime) {
      // Stale figures would pass for live ones: the screen keeps only the error.
      error_ = "GET /debug/runtime: " + runtime.error();
      current_.reset();
      previous_.reset();
      sites_.reset();
      return;
    }
    previous_ = std::move(current_);
    elapsed_seconds_ = std::chrono::duration<double>(now - taken_).count();
    current_ = std::move(*runtime);
    taken_ = now;
    auto sites = read_json(address, "/debug/tasks?format=json", console_view::parse_tasks);
    if (sites) {
      sites_ = std::move(*sites);
    } else {
      error_ = sites.error();
      sites_.reset();
    }
  }

  // The frame for `target`, refreshed every `interval_seconds`.
  console_view::Frame frame(std::string_view target, double interval_seconds) const {
    console_view::Frame frame;
    frame.target = target;
    frame.interval_seconds = interval_seconds;
    frame.runtime = current_ ? &*current_ : nullptr;
    frame.previous = previous_ ? &*previous_ : nullptr;
    frame.elapsed_seconds = elapsed_seconds_;
    frame.sites = sites_ ? &*sites_ : nullptr;
    frame.error = error_;
    return frame;
  }

 private:
  std::optional<console_view::RuntimeFigures> current_;
  std::optional<console_view::RuntimeFigures> previous_;
  std::optional<std::vector<console_view::SpawnSite>> sites_;
  Clock::time_point taken_;
  double elapsed_seconds_ = 0;
  std::string error_;
};

void draw(console_view::Frame frame) {
  std::tie(frame.width, frame.height) = terminal_size();
  std::string screen = "\x1b[H";  // home; each line then clears its rest, and \x1b[J the rest
  const std::vector<std::string> lines = console_view::render(frame);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) screen += "\r\n";
    screen += lines[i];
    screen += "\x1b[K";
  }
  screen += "\x1b[J";
  TerminalSession::write_all(screen);
}

int run(const SocketAddr& address, std::string_view url, double interval_seconds) {
  install_signal_handlers();
  const TerminalSession terminal;
  const auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_seconds));
  Readings readings;
  bool stdin_open = true;
  for (Clock::time_point next = Clock::now();;) {
    readings.refresh(address);
    next += interval;
    if (next < Clock::now()) next = Clock::now() + interval;  // a slow server: no catching up
    for (;;) {
      draw(readings.frame(url, interval_seconds));
      const Wake wake = wait_for_key(next, stdin_open);
      if (wake == Wake::quit) return exit_status::ok;
      if (wake == Wake::refresh) break;
    }
  }
}

}  // namespace

int console(std::span<const std::string_view> args) {
  const auto options = parse_options(args);
  if (!options) {
    std::cerr << "console: " << options.error() << '\n' << kUsage;
    return exit_status::bad_setting;
  }
  if (options->help) {
    std::cout << kUsage;
    return exit_status::ok;
  }

  std::expected<SocketAddr, std::string> address;
  std::string url;
  if (options->url) {
    if (!options->settings.empty()) {
      std::cerr
          << "console: settings are for finding the server without a URL; give one or the other\n";
      return exit_status::bad_setting;
    }
    address = address_of(*options->url);
    url = *options->url;
  } else {
    const auto loaded = config::load(options->settings, config::process_environment());
    if (!loaded) {
      std::cerr << config::to_string(loaded.error()) << '\n';
      return exit_status::bad_setting;
    }
    address = local_target(loaded->settings);
    if (address) url = "http://" + address->to_string();
  }
  if (!address) {
    std::cerr << "console: " << address.error() << '\n';
    return exit_status::bad_setting;
  }
  if (::isatty(STDOUT_FILENO) == 0) {
    std::cerr << "console: stdout is not a terminal (for a script: GET /debug/runtime)\n";
    return exit_status::failure;
  }
  return run(*address, url, options->interval_seconds);
}

}  // namespace brigade::app
