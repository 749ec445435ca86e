// The bad-input catalogue (tests/bad_inputs/catalogue.json): hostile or careless model specs,
// schedule specs, data files, checkpoints, plugins and command lines. Each case writes its files
// into a fresh folder (a model is the catalogue's base model with text replacements, or a file of
// its own; "hex:" contents are raw bytes), runs an optional set-up command, then runs the CLI under
// a 30-second kill timer and checks the exit code and a fragment of the message. A crash, a hang
// or a silent exit 0 fails its case.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include "helpers.hpp"

using namespace anneal::test;
namespace fs = std::filesystem;

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

std::string expand(const std::string& text, const std::string& dir) {
  return replace_all(replace_all(replace_all(text, "{root}", source_path("")), "{dir}", dir), "{anneal}", ANNEAL_CLI_PATH);
}

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::string bytes = content;
  if (content.rfind("hex:", 0) == 0) {
    bytes.clear();
    for (size_t i = 4; i + 1 < content.size(); i += 2) bytes += static_cast<char>(std::stoi(content.substr(i, 2), nullptr, 16));
  }
  std::ofstream(path, std::ios::binary) << bytes;
}

struct Outcome {
  int exit_code = -1;
  std::string output;
};

Outcome run_case(const YAML::Node& c, const std::string& base_model, const TempDir& dir) {
  if (c["edit"]) {
    std::string model = base_model;
    for (const auto& edit : c["edit"]) model = replace_all(model, edit[0].as<std::string>(), edit[1].as<std::string>());
    write_file(dir.path() + "/model.yaml", model);
  }
  if (c["files"])
    for (const auto& f : c["files"]) write_file(dir.path() + "/" + f.first.as<std::string>(), f.second.as<std::string>());
  const std::string cd = "cd '" + dir.path() + "' && ";
  if (c["setup"]) {
    const int status = std::system((cd + expand(c["setup"].as<std::string>(), dir.path()) + " >/dev/null 2>&1").c_str());
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }
  const std::string log = dir.path() + "/.output";
  const std::string command = cd + "timeout -s KILL 30 " + ANNEAL_CLI_PATH + " " + expand(c["args"].as<std::string>(), dir.path()) +
                              " </dev/null >'" + log + "' 2>&1";
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(log)};
}

}  // namespace

TEST_CASE("the bad-input catalogue: every case ends with its exit code and message, never a crash or a hang", "[hardening][catalogue]") {
  const YAML::Node catalogue = YAML::LoadFile(source_path("tests/bad_inputs/catalogue.json"));
  const std::string base_model = catalogue["base_model"].as<std::string>();
  int cases = 0;
  for (const auto& c : catalogue["cases"]) {
    ++cases;
    DYNAMIC_SECTION(c["name"].as<std::string>()) {
      TempDir dir;
      const Outcome outcome = run_case(c, base_model, dir);
      INFO("anneal " << c["args"].as<std::string>() << "\n" << outcome.output);
      CHECK(outcome.exit_code == c["exit"].as<int>());  // 137: killed by the 30 s timer
      CHECK_THAT(outcome.output, Catch::Matchers::Contains(c["message"].as<std::string>()));
      CHECK(outcome.output.find("internal error") == std::string::npos);
    }
  }
  CHECK(cases >= 100);
}
