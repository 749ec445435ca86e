// Malformed specs through the real CLI: each fails with exit code 2 and a message
// "file:line:col: error: ..." pointing at the offending line. Never a crash.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

// A valid spec to break: line numbers below refer to this text.
const char* kValid = R"(version: 1
name: tiny
data: {path: DATA, header: false, label: -1}
input: [2]
layers:
  - {type: dense, units: 3, activation: relu}
  - {type: dense, units: 1, activation: sigmoid}
loss: binary_crossentropy
metrics: [accuracy]
optimizer: {type: sgd, lr: 0.1}
train: {epochs: 2, batch_size: 4, validation_split: 0.25, seed: 1}
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

struct Case {
  const char* title;
  const char* from;
  const char* to;
  int line;               // expected line in the message
  const char* expected;   // expected text after "error: "
};

const Case kCases[] = {
    {"unknown layer type", "type: dense, units: 3", "type: dence, units: 3", 6, "unknown op 'dence' (did you mean 'dense'?"},
    {"misspelled key", "units: 1,", "unitz: 1,", 7, "unknown key 'unitz' (did you mean 'units'?"},
    {"misspelled optional key", "activation: relu", "activatoin: relu", 6, "unknown key 'activatoin' (did you mean 'activation'?"},
    {"wrong value type", "units: 3", "units: three", 6, "'units': expected an integer, got 'three'"},
    {"missing field", "  - {type: dense, units: 1, activation: sigmoid}", "  - {type: dense, activation: sigmoid}", 7,
     "missing required key 'units'"},
    {"negative units", "units: 3", "units: -3", 6, "'units' must be a positive integer, got -3"},
    {"shape mismatch with the data", "input: [2]", "input: [5]", 4, "input [5] has 5 values per sample, but"},
    {"unknown loss", "loss: binary_crossentropy", "loss: binary_crossentropi", 8, "unknown loss 'binary_crossentropi'"},
    {"unknown optimizer", "type: sgd", "type: sgdd", 10, "unknown optimizer 'sgdd' (did you mean 'sgd'?"},
    {"unknown metric", "metrics: [accuracy]", "metrics: [acuracy]", 9, "unknown metric 'acuracy' (did you mean 'accuracy'?"},
    {"unsupported version", "version: 1", "version: 7", 1, "unsupported spec version"},
    {"YAML syntax error", "layers:", "layers: [", 6, "invalid YAML"},
    {"bad activation", "activation: relu", "activation: rellu", 6, "'activation' is 'rellu', expected an activation (did you mean 'relu'?"},
    {"bad validation_split", "validation_split: 0.25", "validation_split: 1.5", 11, "'validation_split' must be in [0, 1)"},
    {"unknown top-level key", "name: tiny", "nmae: tiny", 2, "unknown key 'nmae' (did you mean 'name'?"},
    {"unknown initializer", "activation: relu}", "activation: relu, kernel_initializer: gaussian}", 6,
     "unknown initializer 'gaussian'"},
    {"batch size of zero", "batch_size: 4", "batch_size: 0", 11, "'batch_size' must be at least 1"},
    {"missing data file", "path: DATA", "path: nowhere.csv", 3, "nowhere.csv' does not exist"},
    {"loss that does not fit the output", "units: 1, activation: sigmoid", "units: 2, activation: sigmoid", 8,
     "needs one target column per output"},
};

const char* kGraph = R"(version: 1
input: [2]
nodes:
  - {name: a, op: dense, inputs: [input, c], units: 2}
  - {name: b, op: dense, inputs: a, units: 2}
  - {name: c, op: add, inputs: [b, input]}
loss: mse
optimizer: {type: sgd}
)";

}  // namespace

TEST_CASE("malformed model specs fail with file:line:col and exit code 2", "[spec][cli]") {
  TempDir dir;
  const std::string data = dir.write("d.csv", "0,1,g\n1,0,b\n1,1,g\n0,0,b\n0.5,0.5,g\n0.2,0.1,b\n");
  REQUIRE(run_cli("check " + dir.write("valid.yaml", replace(kValid, "DATA", data))).exit_code == 0);
  for (const auto& c : kCases) {
    DYNAMIC_SECTION(c.title) {
      const std::string text = replace(kValid, c.from, c.to);
      const std::string path = dir.write("bad.yaml", text.find("DATA") == std::string::npos ? text : replace(text, "DATA", data));
      const auto result = run_cli("train --quiet " + path);
      INFO(result.err);
      CHECK(result.exit_code == 2);
      CHECK_THAT(result.err, Contains(path + ":" + std::to_string(c.line) + ":"));
      CHECK_THAT(result.err, Contains(": error: "));
      CHECK_THAT(result.err, Contains(c.expected));
    }
  }
}

TEST_CASE("graph errors: undefined input and a cycle, both reported by name", "[spec][cli]") {
  TempDir dir;
  const auto undefined = dir.write("undefined.yaml", replace(kGraph, "inputs: [b, input]", "inputs: [b, act9]"));
  auto result = run_cli("check " + undefined);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Contains(undefined + ":6:"));
  CHECK_THAT(result.err, Contains("node 'c': input 'act9' is not defined (known: a, b, c, input)"));

  const auto cycle = dir.write("cycle.yaml", kGraph);
  result = run_cli("check " + cycle);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Contains("the graph has a cycle: "));
  CHECK_THAT(result.err, Contains("a -> b -> c -> a"));
}

TEST_CASE("schedule file errors", "[spec][cli]") {
  TempDir dir;
  const std::string model = anneal::test::source_path("models/ionosphere.yaml");
  const auto unknown = dir.write("s.yaml", "version: 1\nschedule: {type: step_decai, lr: 0.1}\n");
  auto result = run_cli("train --quiet " + model + " --schedule " + unknown);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Contains(unknown + ":2:18: error: schedule: unknown schedule 'step_decai' (did you mean 'step_decay'?"));

  const auto bad_momentum = dir.write("m.yaml", "version: 1\nschedule: {type: constant}\noptimizer: {momentum: high}\n");
  result = run_cli("train --quiet " + model + " --schedule " + bad_momentum);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Contains(bad_momentum + ":3:23: error:"));
  CHECK_THAT(result.err, Contains("'momentum': expected a number, got 'high'"));
}

TEST_CASE("command-line errors exit with 2 and say what was expected", "[cli]") {
  CHECK(run_cli("").exit_code == 2);
  CHECK(run_cli("fly").exit_code == 2);
  auto r = run_cli("train");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("model"));
  r = run_cli("list gadgets");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("known: ops, schedules"));
  r = run_cli("train " + source_path("models/ionosphere.yaml") + " --set train.epochs=many");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--set train.epochs=many"));
  CHECK_THAT(r.err, Contains("expected an integer"));
  r = run_cli("train " + source_path("models/nowhere.yaml"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("nowhere.yaml' does not exist"));
  CHECK(run_cli("train --help").exit_code == 0);
}

// The loader names text from outside the file by the words its caller gives (the CLI: the flag as
// typed); a library caller that gives none gets the text itself, never a command-line flag.
TEST_CASE("overrides and callbacks from outside the file are named by their source, and the core names no flag",
          "[spec]") {
  const std::string model = source_path("models/ionosphere.yaml");
  const auto message = [&](const anneal::LoadOptions& load) -> std::string {
    try {
      anneal::load_model_spec(model, load);
    } catch (const anneal::InputError& e) {
      return e.what();
    }
    FAIL("the spec loaded");
    return "";
  };
  anneal::LoadOptions load;
  load.sets = {"train.epochs=many"};
  std::string m = message(load);
  CHECK_THAT(m, Contains("override train.epochs=many: error:") && Contains("expected an integer"));
  CHECK(m.find("--") == std::string::npos);
  load.sets = {anneal::ExternalInput{"train.epochs=many", "trial 3's epochs"}};
  CHECK_THAT(message(load), Contains("trial 3's epochs: error:"));
  load.sets = {"layers.x.units=3"};
  CHECK_THAT(message(load), Contains("override layers.x.units=3: 'x' is not a list index (the list has"));
  load.sets = {"layers.7.units=3"};
  CHECK_THAT(message(load), Contains("override layers.7.units=3: index 7 is past the end of the list"));
  load.sets = {"no_equals_sign"};
  CHECK_THAT(message(load), Contains("override no_equals_sign: expected dotted.key=value"));
  load.sets.clear();
  load.callbacks = {"{type: early_stopping, patience: [}"};
  m = message(load);
  CHECK_THAT(m, Contains("callback {type: early_stopping, patience: [}: invalid YAML"));
  CHECK(m.find("--") == std::string::npos);

  // A spec that loads plugins, read by a caller that does not allow it: a typed error at the list.
  TempDir dir;
  const std::string with_plugins = dir.write("p.yaml", replace(kValid, "version: 1\n", "version: 1\nplugins: [libnothing.so]\n"));
  try {
    anneal::load_model_spec(with_plugins, {});
    FAIL("a spec with plugins loaded without permission");
  } catch (const anneal::PluginsNotAllowed& e) {
    CHECK_THAT(e.what(), Contains("p.yaml:2:10: error:") && Contains("loads native code (libnothing.so)"));
    CHECK(std::string(e.what()).find("--") == std::string::npos);
  }

  // Through the CLI each message names the flag the user typed.
  auto r = run_cli("train " + model + " --epochs 0 --quiet");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--epochs 0: error:"));
  r = run_cli("train " + model + " --precision half --quiet");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--precision half: error:"));
  r = run_cli("train " + model + " --quiet --callback '{type: early_stopping, patience: many}'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--callback {type: early_stopping, patience: many}:1:"));
  r = run_cli("check " + with_plugins);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("p.yaml:2:10: error:") && Contains("run with --allow-plugins to let it"));
}
