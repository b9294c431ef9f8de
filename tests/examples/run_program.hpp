// Runs an example program as a child process and captures what it prints, so a test can check
// the evidence the example shows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace brigade::test {

struct ProgramOutput {
  int exit_code = -1;  // -1 when the program did not exit normally
  std::string out;
};

// Runs `argv` (argv[0] a path) to completion.
ProgramOutput run_program(const std::vector<std::string>& argv);

// The first number printed after `label` in `text`; NaN when the label or a number is missing.
double number_after(std::string_view text, std::string_view label);

// The whitespace-delimited word printed right after `label`; empty when the label is missing.
std::string word_after(std::string_view text, std::string_view label);

}  // namespace brigade::test
