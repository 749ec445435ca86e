// The synthetic data source: reproducible from its seed, shaped as asked, learnable labels.
#include <catch2/catch.hpp>

#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {
const char* kSpec = R"(version: 1
data: {synthetic: {rows: 300, SHAPE, classes: 3, seed: 4}}
input: INPUT
layers:
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
metrics: [accuracy]
optimizer: {type: sgd, lr: 0.5, momentum: 0.5}
train: {epochs: 20, batch_size: 30, validation_split: 0.2}
)";

std::string spec_text(const std::string& shape, const std::string& input) {
  std::string s = kSpec;
  s.replace(s.find("SHAPE"), 5, shape);
  s.replace(s.find("INPUT"), 5, input);
  return s;
}
}  // namespace

TEST_CASE("synthetic data: same seed same rows, shapes, and a learnable teacher", "[data][synthetic]") {
  TempDir d;
  const std::string path = d.write("s.yaml", spec_text("features: 8", "[8]"));
  Experiment a = build_experiment(load_model_spec(path));
  Experiment b = build_experiment(load_model_spec(path));
  CHECK(a.train->rows() == 240);
  CHECK(a.validation->rows() == 60);
  CHECK(a.train->features.values() == b.train->features.values());
  CHECK(a.train->targets.values() == b.train->targets.values());
  Experiment other = build_experiment(load_model_spec(path, load_with({"data.synthetic.seed=5"})));
  CHECK(a.train->features.values() != other.train->features.values());
  for (float label : a.train->targets.values()) CHECK((label == 0 || label == 1 || label == 2));
  RunOptions quiet;
  quiet.verbose = false;
  const RunResult r = run_experiment(a, quiet);
  CHECK(r.history.epochs.back().logs.get("val_accuracy", 0) > 0.8);  // a linear teacher is learnable

  const std::string image = d.write("i.yaml", spec_text("shape: [1, 4, 4]", "[1, 4, 4]"));
  Experiment c = build_experiment(load_model_spec(image, load_with({"layers.0.units=3"})));
  CHECK(c.train->features.sample_shape() == Shape{1, 4, 4});

  const auto both = run_cli("check " + d.write("bad.yaml", spec_text("features: 8, shape: [8]", "[8]")));
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Contains("give either 'features' (a count) or 'shape' (a list), not both"));
  std::string one_class = spec_text("features: 8", "[8]");
  one_class.replace(one_class.find("classes: 3"), 10, "classes: 1");
  const auto classes = run_cli("check " + d.write("bad2.yaml", one_class));
  CHECK(classes.exit_code == 2);
  CHECK_THAT(classes.err, Contains("bad2.yaml:2:"));
  CHECK_THAT(classes.err, Contains("'classes' must be at least 2"));
  const auto wrong = run_cli("check " + d.write("bad3.yaml", spec_text("features: 8", "[9]")));
  CHECK(wrong.exit_code == 2);
  CHECK_THAT(wrong.err, Contains("but the synthetic data has 8 feature columns"));
}
