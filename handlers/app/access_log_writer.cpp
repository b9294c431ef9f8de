#include "access_log_writer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <utility>
#include <vector>

namespace brigade::app {
namespace {

// Each write is at most PIPE_BUF bytes, after poll() said the destination takes some: a pipe then
// never blocks the writer (a blocking stdout is shared with whoever started us, so it is not made
// non-blocking here), and the writer keeps seeing close()'s deadline.
constexpr std::size_t kWriteSlice = PIPE_BUF;
constexpr int kPollSliceMs = 100;

}  // namespace

std::expected<std::unique_ptr<AccessLogWriter>, std::string> AccessLogWriter::open(
    std::string_view destination, std::size_t capacity) {
  if (destination == "stdout") {
    return std::make_unique<AccessLogWriter>(STDOUT_FILENO, false, capacity);
  }
  const std::string path(destination);
  // Non-blocking: this description is ours alone, and a FIFO without a reader fails at once
  // (ENXIO) instead of hanging the start-up.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
  return std::make_unique<AccessLogWriter>(fd, true, capacity);
}

AccessLogWriter::AccessLogWriter(int fd, bool owns_fd, std::size_t capacity)
    : queue_(capacity, capacity * kBytesPerLine),
      fd_(fd),
      owns_fd_(owns_fd),
      thread_([this] { run(); }) {}

AccessLogWriter::~AccessLogWriter() {
  close();
  if (owns_fd_) ::close(fd_);
}

void AccessLogWriter::submit(std::string&& line) {
  if (queue_.push(std::move(line)) == LineQueue::Pushed::dropped) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

void AccessLogWriter::close() {
  if (!thread_.joinable()) return;
  final_deadline_.store((Clock::now() + kFinalFlushLimit).time_since_epoch().count(),
                        std::memory_order_relaxed);
  queue_.close();
  thread_.join();
}

bool AccessLogWriter::past_final_deadline() const noexcept {
  return Clock::now().time_since_epoch().count() > final_deadline_.load(std::memory_order_relaxed);
}

void AccessLogWriter::run() {
  // A reader that went away is an error for this thread's write (EPIPE), not a SIGPIPE that
  // ends the process.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  pthread_setname_np(pthread_self(), "brigade-log");

  std::vector<std::string> batch;
  batch.reserve(queue_.capacity());
  std::string buffer;
  while (queue_.take(batch, kFlushInterval)) {
    buffer.clear();
    for (const std::string& line : batch) buffer += line;
    const bool written = write_out(buffer);
    (written ? written_ : dropped_).fetch_add(batch.size(), std::memory_order_relaxed);
    batch.clear();
  }
}

// False when the destination failed, or close()'s deadline passed before all was written.
bool AccessLogWriter::write_out(std::string_view data) {
  while (!data.empty()) {
    if (past_final_deadline()) return false;
    pollfd ready{.fd = fd_, .events = POLLOUT, .revents = 0};
    const int polled = ::poll(&ready, 1, kPollSliceMs);
    if (polled < 0 && errno != EINTR) return false;
    if (polled <= 0) continue;
    if ((ready.revents & (POLLERR | POLLNVAL)) != 0) return false;
    const ssize_t n = ::write(fd_, data.data(), std::min(data.size(), kWriteSlice));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace brigade::app
