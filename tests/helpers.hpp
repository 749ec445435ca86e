#pragma once
// Helpers shared by the tests: build things from inline YAML, run the CLI, temporary files.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/op.hpp"
#include "anneal/spec.hpp"

namespace anneal::test {

// An AttrMap over inline YAML, as if read from a file called "test.yaml".
AttrMap attrs_from(const std::string& yaml, const std::string& what = "test");

std::unique_ptr<Op> make_op(const std::string& yaml);

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

// Runs one op's forward on the given values (row-major, batch first) and returns its output.
std::vector<float> forward_values(const std::string& yaml, const std::vector<Shape>& shapes, int64_t batch,
                                  const std::vector<std::vector<float>>& inputs,
                                  const std::vector<std::vector<float>>& params = {}, bool training = false);

// The message of the SpecError that building the op throws ("" if none).
std::string op_error(const std::string& yaml);

}  // namespace anneal::test

namespace anneal::test {

// LoadOptions with --set assignments and an optional schedule file.
LoadOptions load_with(std::vector<std::string> sets, std::optional<std::string> schedule_file = std::nullopt);

}  // namespace anneal::test
