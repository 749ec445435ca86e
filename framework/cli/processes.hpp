#pragma once
// Child `anneal` processes for the commands that run many trainings (sweep, tune): each run is a
// process of its own (a crash or a leak stays in it), its output goes to a log file, and at most
// `jobs` run at once.

#include <functional>
#include <string>
#include <vector>

namespace anneal::cli {

struct ChildProcess {
  std::vector<std::string> argv;  // argv[0]: the program
  std::string log;                // stdout and stderr
};

struct ChildExit {
  int exit_code = -1;  // 128 + signal when one ended it
  double wall_s = 0;
};

// Starts `children` in order, at most `jobs` at once, and calls `done(i, exit)` as child i ends.
void run_children(const std::vector<ChildProcess>& children, int jobs,
                  const std::function<void(size_t, const ChildExit&)>& done);

// This executable, for children that run `anneal` again.
std::string self_executable();

// A file's whole text; empty when it cannot be read (a child that failed before writing it).
std::string file_text(const std::string& path);

// The last non-empty line of a file (a child's error message).
std::string last_line(const std::string& path);

}  // namespace anneal::cli
