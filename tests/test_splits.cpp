// train.split: last (Keras), shuffled and stratified validation rows, seeded by split_seed; and
// image inputs filled from data rows.
#include <catch2/catch.hpp>

#include <map>

#include "anneal/experiment.hpp"
#include "anneal/folds.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

// 100 rows: feature = row number, label 0 for 70 rows and 1 for 30 (every 10 rows: 7 then 3).
Dataset hundred(const TempDir& dir) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += std::to_string(i) + "," + (i % 10 < 7 ? "0" : "1") + "\n";
  DataSpec spec;
  spec.path = dir.write("hundred.csv", text);
  spec.label_index = -1;
  return read_csv(spec);
}

std::map<int, int> class_counts(const Dataset& d) {
  std::map<int, int> out;
  for (int64_t r = 0; r < d.rows(); ++r) ++out[static_cast<int>(d.targets.row(r)[0])];
  return out;
}

}  // namespace

TEST_CASE("split: shuffled and stratified take exact counts, keep file order, and follow split_seed", "[data][split]") {
  TempDir dir;
  const Dataset data = hundred(dir);
  for (SplitKind kind : {SplitKind::kShuffled, SplitKind::kStratified}) {
    const auto a = split_rows(data, 0.25, kind, 0);
    CHECK(a.train.rows() == 75);
    CHECK(a.validation.rows() == 25);
    // File order on both sides; together every row once.
    std::vector<float> all;
    for (const auto* side : {&a.train, &a.validation})
      for (int64_t r = 1; r < side->rows(); ++r) CHECK(side->features.row(r)[0] > side->features.row(r - 1)[0]);
    for (const auto* side : {&a.train, &a.validation})
      for (int64_t r = 0; r < side->rows(); ++r) all.push_back(side->features.row(r)[0]);
    std::sort(all.begin(), all.end());
    for (int i = 0; i < 100; ++i) CHECK(all[static_cast<size_t>(i)] == static_cast<float>(i));
    // Not the last rows, and the same again for the same seed, another for another.
    CHECK(a.validation.features.values() != split_validation(data, 0.25).validation.features.values());
    CHECK(split_rows(data, 0.25, kind, 0).validation.features.values() == a.validation.features.values());
    CHECK(split_rows(data, 0.25, kind, 1).validation.features.values() != a.validation.features.values());
  }
  // Stratified: 25 validation rows in the classes' 70:30 shares (17.5 : 7.5, the larger
  // remainder first), for every seed.
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const auto s = split_rows(data, 0.25, SplitKind::kStratified, seed);
    const auto counts = class_counts(s.validation);
    CHECK(counts.at(0) + counts.at(1) == 25);
    CHECK(std::abs(counts.at(0) - 17.5) <= 0.5);
  }
  CHECK(split_rows(data, 0.25, SplitKind::kLast, 9).validation.features.values() == split_validation(data, 0.25).validation.features.values());
}

TEST_CASE("split in specs: the name is checked, regression targets cannot be stratified, train.seed leaves the rows alone", "[data][split][cli]") {
  TempDir dir;
  const auto spec = [&](const std::string& train, const std::string& data = "data/ionosphere.csv") {
    return dir.write("s.yaml", "version: 1\ndata: {path: " + source_path(data) + ", label: -1}\ninput: [34]\n"
                               "layers: [{type: dense, units: 1, activation: sigmoid}]\nloss: binary_crossentropy\n"
                               "optimizer: {type: sgd}\ntrain: {" + train + "}\n");
  };
  auto r = run_cli("check " + spec("validation_split: 0.2, split: random"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("s.yaml:7:39: error: model spec: 'train': 'split' is 'random', expected last, shuffled or stratified"));
  // The same validation rows whatever train.seed is; another split_seed moves them.
  auto validation_of = [&](const std::string& train) {
    Experiment ex = build_experiment(load_model_spec(spec(train)));
    return ex.validation->features.values();
  };
  const auto base = validation_of("validation_split: 0.2, split: stratified, seed: 1");
  CHECK(validation_of("validation_split: 0.2, split: stratified, seed: 2") == base);
  CHECK(validation_of("validation_split: 0.2, split: stratified, seed: 1, split_seed: 3") != base);
  // A regression target (not a class index) cannot be stratified.
  std::string text;
  for (int i = 0; i < 20; ++i) text += "1,2,0." + std::to_string(i) + "\n";
  const auto reg = dir.write("reg.yaml", "version: 1\ndata: {path: " + dir.write("reg.csv", text) + ", label: -1}\ninput: [2]\n"
                                         "layers: [{type: dense, units: 1}]\nloss: mse\noptimizer: {type: sgd}\n"
                                         "train: {validation_split: 0.2, split: stratified}\n");
  r = run_cli("check " + reg);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("a stratified split needs class labels, but row 2 has the target 0.1"));
}

TEST_CASE("image inputs: a row's feature columns fill [C, H, W], a count mismatch names both numbers", "[data][images][cli]") {
  TempDir dir;
  const auto spec = [&](const std::string& input) {
    return dir.write("img.yaml", "version: 1\ndata: {path: " + source_path("data/digits.csv") + ", label: -1}\ninput: " + input +
                                 "\nlayers:\n  - {type: conv2d, filters: 2, kernel_size: 3}\n  - {type: flatten}\n"
                                 "  - {type: dense, units: 10, activation: softmax}\nloss: sparse_categorical_crossentropy\n"
                                 "optimizer: {type: sgd}\n");
  };
  Experiment ex = build_experiment(load_model_spec(spec("[1, 8, 8]")));
  REQUIRE(ex.train->features.sample_shape() == Shape{1, 8, 8});
  // Row 1 of digits.csv: 0,0,0.3125,0.8125,0.5625,0.0625,0,0 | 0,0,0.8125,0.9375,... (rows of 8 pixels).
  CHECK(ex.train->features.row(0)[2] == 0.3125f);
  CHECK(ex.train->features.row(0)[8 + 2] == 0.8125f);
  CHECK(ex.train->features.row(0)[8 + 3] == 0.9375f);
  const auto r = run_cli("check " + spec("[1, 8, 9]"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("img.yaml:3:8: error: input [1, 8, 9] has 72 values per sample, but"));
  CHECK_THAT(r.err, Contains("digits.csv has 64 feature columns"));
}
