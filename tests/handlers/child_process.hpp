#pragma once

// A child process for end-to-end tests: started with posix_spawn, its stdout and stderr read
// through pipes by a thread of their own, signalled and reaped by the test. The pipes are read
// all the time, not only while the test waits for a line: a child that logs a lot (a stall
// warning per slow poll, on a loaded machine) would otherwise fill a pipe and block in write(),
// and the test would hang on a server that no longer answers. The destructor kills (SIGKILL)
// and reaps a child still running, so a failing test leaves no server behind.

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace brigade::testing {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Runs `path` with `args`. The environment is this process's without any BRIGADE_* variable
  // (so the developer's shell cannot change what is tested), plus `env` ("NAME=value"). The
  // working directory is this process's, or `working_directory` when given.
  ChildProcess(std::string path, std::vector<std::string> args, std::vector<std::string> env = {},
               const std::string& working_directory = {}) {
    Pipe out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
    if (!working_directory.empty()) {
      posix_spawn_file_actions_addchdir_np(&actions, working_directory.c_str());
    }

    std::vector<std::string> argv_text{path};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
      if (!std::string_view(*e).starts_with("BRIGADE_")) env_text.emplace_back(*e);
    }
    env_text.insert(env_text.end(), env.begin(), env.end());

    const int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr, pointers(argv_text).data(),
                               pointers(env_text).data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + path);
    out_fd_ = out.take_read();
    err_fd_ = err.take_read();
    reader_ = std::jthread([this](const std::stop_token& stop) { read_output(stop); });
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  ~ChildProcess() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    reader_.request_stop();
    reader_.join();
    ::close(out_fd_);
    ::close(err_fd_);
  }

  pid_t pid() const noexcept { return pid_; }
  // Whether the child has exited (and was reaped by wait() or wait_for_stderr_line()).
  bool exited() const noexcept { return status_.has_value(); }
  void signal(int signo) const { ::kill(pid_, signo); }

  // The first complete stderr line containing `needle`, once it has appeared; nullopt if the
  // child exits or `timeout` passes first.
  std::optional<std::string> wait_for_stderr_line(std::string_view needle,
                                                  std::chrono::milliseconds timeout) {
    return wait_for_line(stderr_, needle, timeout);
  }
  // The same on stdout.
  std::optional<std::string> wait_for_stdout_line(std::string_view needle,
                                                  std::chrono::milliseconds timeout) {
    return wait_for_line(stdout_, needle, timeout);
  }

  // Waits for the child to exit: the wait status, or nullopt if it is still running after
  // `timeout`. Once it has exited, what it wrote before is all in stdout_text()/stderr_text().
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!reap() && Clock::now() < deadline) std::this_thread::sleep_for(kReapInterval);
    if (status_) wait_for_end_of_output();
    return status_;
  }

  // The exit code of a child that exited normally, -1 otherwise (killed, still running).
  std::optional<int> wait_exit_code(std::chrono::milliseconds timeout) {
    const auto status = wait(timeout);
    if (!status) return std::nullopt;
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  std::string stdout_text() const {
    const std::lock_guard lock(mutex_);
    return stdout_;
  }
  std::string stderr_text() const {
    const std::lock_guard lock(mutex_);
    return stderr_;
  }

 private:
  static constexpr std::chrono::milliseconds kReapInterval{10};
  // How long an exited child's pipes may take to reach end of file (a grandchild it left behind
  // could hold them open for ever).
  static constexpr std::chrono::seconds kEndOfOutputLimit{2};

  // A pipe whose ends close on exec; posix_spawn's dup2 gives the child inheritable copies.
  struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
      read = fds[0];
      write = fds[1];
    }
    ~Pipe() {
      if (read >= 0) ::close(read);
      if (write >= 0) ::close(write);
    }
    int take_read() {
      ::fcntl(read, F_SETFL, O_NONBLOCK);
      return std::exchange(read, -1);
    }
  };

  static std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (std::string& s : strings) result.push_back(s.data());
    result.push_back(nullptr);
    return result;
  }

  std::optional<std::string> wait_for_line(const std::string& text, std::string_view needle,
                                           std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (reap()) wait_for_end_of_output();
      std::unique_lock lock(mutex_);
      if (auto line = find_line(text, needle)) return line;
      if (status_ || Clock::now() >= deadline) return std::nullopt;
      output_arrived_.wait_for(lock, kReapInterval);
    }
  }

  static std::optional<std::string> find_line(const std::string& text, std::string_view needle) {
    for (std::size_t start = 0; start < text.size();) {
      const std::size_t end = text.find('\n', start);
      if (end == std::string::npos) break;  // incomplete line: wait for the rest
      const std::string_view line(text.data() + start, end - start);
      if (line.find(needle) != std::string_view::npos) return std::string(line);
      start = end + 1;
    }
    return std::nullopt;
  }

  // The reader thread: appends what the pipes bring until both reach end of file or the
  // destructor stops it.
  void read_output(const std::stop_token& stop) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    std::string* const into[2] = {&stdout_, &stderr_};
    while (!stop.stop_requested() && (fds[0].fd >= 0 || fds[1].fd >= 0)) {
      if (::poll(fds, 2, 20) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd >= 0 && fds[i].revents != 0 && !drain(fds[i].fd, *into[i])) {
          fds[i].fd = -1;  // end of file: poll skips it from now on
        }
      }
      const std::lock_guard lock(mutex_);
      output_ended_ = fds[0].fd < 0 && fds[1].fd < 0;
      output_arrived_.notify_all();
    }
  }

  // Appends what `fd` holds now; false at end of file or on an error.
  bool drain(int fd, std::string& into) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        const std::lock_guard lock(mutex_);
        into.append(buffer, static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return n < 0 && errno == EAGAIN;
      }
    }
  }

  void wait_for_end_of_output() {
    std::unique_lock lock(mutex_);
    output_arrived_.wait_for(lock, kEndOfOutputLimit, [this] { return output_ended_; });
  }

  // Whether the child has exited (recording its status).
  bool reap() {
    if (status_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return status_.has_value();
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::optional<int> status_;  // the test's thread only

  mutable std::mutex mutex_;
  std::condition_variable output_arrived_;
  std::string stdout_;         // guarded by mutex_
  std::string stderr_;         // guarded by mutex_
  bool output_ended_ = false;  // guarded by mutex_
  std::jthread reader_;        // last: it stops before the members it uses go
};

}  // namespace brigade::testing
