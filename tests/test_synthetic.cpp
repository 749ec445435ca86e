// The synthetic data source: reproducible from its seed, shaped as asked, learnable labels.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "anneal/data.hpp"
#include "anneal/encoding.hpp"
#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {
// Every feature of a dataset, stored or generated, one row after another.
std::vector<float> all_features(const Dataset& data) {
  std::vector<float> out(static_cast<size_t>(data.rows() * data.feature_width()));
  data.read_features(0, data.rows(), out.data());
  return out;
}

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
  CHECK(all_features(*a.train) == all_features(*b.train));
  CHECK(a.train->targets.values() == b.train->targets.values());
  Experiment other = build_experiment(load_model_spec(path, load_with({"data.synthetic.seed=5"})));
  CHECK(all_features(*a.train) != all_features(*other.train));
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

TEST_CASE("synthetic rows are generated when read, never stored, and read the same in any order", "[data][synthetic]") {
  TempDir d;
  const std::string path = d.write("s.yaml", spec_text("features: 8", "[8]"));
  Experiment ex = build_experiment(load_model_spec(path));
  const Dataset& train = *ex.train;
  const Dataset& validation = *ex.validation;
  // Nothing but the labels is held: the features are a generator and 8 bytes of index a row.
  REQUIRE(train.generator);
  CHECK(train.features.size() == 0);
  CHECK(validation.features.size() == 0);
  CHECK(train.feature_width() == 8);
  // The split keeps the rows' places: validation row i is row 240 + i of the whole data.
  const DataSpec& data_spec = *ex.spec.data;
  const Dataset whole = make_synthetic(data_spec);
  CHECK(whole.features.size() == 0);
  std::vector<float> a(8), b(8);
  for (int64_t i = 0; i < validation.rows(); ++i) {
    validation.read_features(i, a.data());
    whole.read_features(240 + i, b.data());
    CHECK(a == b);
    CHECK(validation.targets[static_cast<size_t>(i)] == whole.targets[static_cast<size_t>(240 + i)]);
  }
  // Any order, any chunk: row by row backwards gives what one read of all rows gives.
  const std::vector<float> all = all_features(train);
  for (int64_t r = train.rows() - 1; r >= 0; --r) {
    train.read_features(r, a.data());
    CHECK(std::equal(a.begin(), a.end(), all.begin() + r * 8));
  }
  // A subset keeps generating: rows 7, 3, 7.
  const Dataset picked = subset(train, {7, 3, 7});
  CHECK(picked.features.size() == 0);
  const std::vector<float> p = all_features(picked);
  CHECK(std::equal(p.begin(), p.begin() + 8, all.begin() + 7 * 8));
  CHECK(std::equal(p.begin() + 8, p.begin() + 16, all.begin() + 3 * 8));
  CHECK(std::equal(p.begin() + 16, p.end(), all.begin() + 7 * 8));
}

TEST_CASE("synthetic features are close to standard normal and independent of their neighbours", "[data][synthetic]") {
  DataSpec spec;
  spec.synthetic = SyntheticSpec{4000, {50}, 3, 11};
  const Dataset data = make_synthetic(spec);
  const std::vector<float> x = all_features(data);
  double sum = 0, squares = 0, fourth = 0, lag = 0, lo = 0, hi = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    sum += v, squares += v * v, fourth += v * v * v * v;
    lo = std::min(lo, v), hi = std::max(hi, v);
    if (i + 1 < x.size()) lag += v * x[i + 1];
  }
  const auto n = static_cast<double>(x.size());
  const double mean = sum / n, variance = squares / n - mean * mean;
  CHECK(std::abs(mean) < 0.01);  // 200 000 values: the mean's standard error is 0.0022
  CHECK(variance == Approx(1.0).margin(0.02));
  CHECK(fourth / n == Approx(2.7).margin(0.1));  // the sum of four uniforms: kurtosis 3 - 1.2 / 4
  CHECK(std::abs(lag / n) < 0.01);               // neighbours (within a row and across rows) uncorrelated
  CHECK(lo > -3.47);
  CHECK(hi < 3.47);
  CHECK(lo < -3.0);
  CHECK(hi > 3.0);
  // Every class occurs.
  std::vector<int> counts(3, 0);
  for (float label : data.targets.values()) ++counts[static_cast<size_t>(label)];
  for (int c : counts) CHECK(c > 400);
}

TEST_CASE("normalising generated rows encodes them as they are generated, as the stored rows would be", "[data][synthetic]") {
  DataSpec spec;
  spec.synthetic = SyntheticSpec{500, {6}, 2, 3};
  spec.normalize = "minmax";
  const Dataset raw = make_synthetic(spec);
  const Dataset rows = stored(raw);  // the same rows, stored
  REQUIRE_FALSE(rows.generator);
  CHECK(rows.features.values() == all_features(raw));
  for (const char* normalize : {"minmax", "standard"}) {
    spec.normalize = normalize;
    const FeatureEncoding from_generated = fit_encoding(raw, spec), from_stored = fit_encoding(rows, spec);
    CHECK(from_generated.offset == from_stored.offset);
    CHECK(from_generated.scale == from_stored.scale);
    const Dataset encoded = encode(from_generated, raw);
    CHECK(encoded.generator);
    CHECK(encoded.features.size() == 0);
    const std::vector<float> e = all_features(encoded);
    CHECK(e == encode(from_stored, rows).features.values());
    const auto [lo, hi] = std::minmax_element(e.begin(), e.end());
    if (std::string(normalize) == "minmax") CHECK((*lo == 0.0f && *hi == 1.0f));
  }
}
