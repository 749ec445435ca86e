#pragma once
// Helpers shared by the tests: build things from inline YAML, run the CLI, temporary files.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/op.hpp"
#include "anneal/spec.hpp"
#include "anneal/testing/gradient_check.hpp"

namespace anneal::test {

// The op test kit (installed as anneal::testing) provides these.
using testing::attrs_from;
using testing::forward_values;
using testing::make_op;
using testing::op_error;
using testing::shape_error;

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the anneal binary with the given argument string (shell-quoted by the caller).
CliResult run_cli(const std::string& args);

// A fresh temporary directory, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

std::string source_path(const std::string& relative);  // under the project root
std::string read_text(const std::string& path);

}  // namespace anneal::test


namespace anneal::test {

// LoadOptions with --set assignments and an optional schedule file.
// History CSV rows without the time_s column.
std::vector<std::string> rows_without_time(const std::string& path);
// Two runs ended identically: weights and state bit for bit, optimizer state, step, history.
void check_same_run(const std::string& a_ckpt, const std::string& b_ckpt, const std::string& a_hist, const std::string& b_hist);

LoadOptions load_with(std::vector<std::string> sets, std::optional<std::string> schedule_file = std::nullopt);

}  // namespace anneal::test
