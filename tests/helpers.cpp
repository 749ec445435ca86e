#include "helpers.hpp"

#include "anneal/rng.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace anneal::test {
namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliResult run_cli(const std::string& args) {
  TempDir dir;
  const std::string out = dir.path() + "/out", err = dir.path() + "/err";
  const std::string command = std::string(ANNEAL_CLI_PATH) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "anneal-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  const std::string path = path_ + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string source_path(const std::string& relative) { return std::string(ANNEAL_SOURCE_DIR) + "/" + relative; }

}  // namespace anneal::test

namespace anneal::test {

LoadOptions load_with(std::vector<std::string> sets, std::optional<std::string> schedule_file) {
  LoadOptions options;
  options.sets.assign(sets.begin(), sets.end());
  options.schedule_file = std::move(schedule_file);
  return options;
}

}  // namespace anneal::test
