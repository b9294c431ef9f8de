#include "run_program.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace brigade::test {

ProgramOutput run_program(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ProgramOutput result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    result.out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

double number_after(std::string_view text, std::string_view label) {
  const auto at = text.find(label);
  if (at == std::string_view::npos) return NAN;
  auto pos = at + label.size();
  while (pos < text.size() && !std::isdigit(static_cast<unsigned char>(text[pos]))) {
    if (text[pos] == '\n') return NAN;  // a number on the label's own line only
    ++pos;
  }
  if (pos == text.size()) return NAN;
  const std::string number(text.substr(pos, text.find_first_not_of("0123456789.", pos) - pos));
  return std::strtod(number.c_str(), nullptr);
}

std::string word_after(std::string_view text, std::string_view label) {
  const auto at = text.find(label);
  if (at == std::string_view::npos) return {};
  const auto begin = text.find_first_not_of(' ', at + label.size());
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_first_of(" \n(", begin);
  return std::string(text.substr(begin, end - begin));
}

}  // namespace brigade::test
