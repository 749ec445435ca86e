// Forward-only passes over a dataset (anneal predict): executors side by side give the outputs of
// one executor, bit for bit, over generated and stored rows, and leave BLAS's threads as found.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "anneal/blas.hpp"
#include "anneal/experiment.hpp"
#include "anneal/predict.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;

namespace {

// 1 000 rows at batch 96: ten full chunks and one of 40 rows.
const char* kSpec = R"(version: 1
data: {synthetic: {rows: 1000, features: 20, classes: 3, seed: 9}}
input: [20]
layers:
  - {type: dense, units: 64, activation: relu}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
optimizer: sgd
train: {epochs: 1, batch_size: 96}
)";

// The model's output for one row, in double precision from the weights (dense: x W + b).
std::vector<double> by_hand(const Experiment& ex, const float* x) {
  std::vector<double> h(x, x + 20);
  for (int index : ex.graph.order()) {
    const CompiledNode& node = ex.graph.nodes()[static_cast<size_t>(index)];
    if (node.op_type != "dense") continue;
    const float* w = ex.weights.params.data() + node.params[0].offset;
    const float* b = ex.weights.params.data() + node.params[1].offset;
    const int64_t in = node.params[0].shape[0], units = node.params[0].shape[1];
    std::vector<double> y(static_cast<size_t>(units));
    for (int64_t j = 0; j < units; ++j) {
      double sum = b[j];
      for (int64_t i = 0; i < in; ++i) sum += h[static_cast<size_t>(i)] * w[i * units + j];
      y[static_cast<size_t>(j)] = sum;
    }
    h = y;
    if (units == 64)
      for (double& v : h) v = std::max(v, 0.0);
  }
  double top = h[0], total = 0;
  for (double v : h) top = std::max(top, v);
  for (double& v : h) total += (v = std::exp(v - top));
  for (double& v : h) v /= total;
  return h;
}

}  // namespace

TEST_CASE("predict: executors side by side give one executor's outputs bit for bit, and restore BLAS's threads", "[predict]") {
  TempDir d;
  Experiment ex = build_experiment(load_model_spec(d.write("m.yaml", kSpec), load_with({"train.validation_split=0"})));
  RunOptions quiet;
  quiet.verbose = false;
  run_experiment(ex, quiet);  // trained weights, not just initial ones
  const Dataset& rows = *ex.train;
  REQUIRE(rows.generator);
  REQUIRE(rows.rows() == 1000);

  const int threads = blas::threads();
  blas::set_threads(2);
  PredictOptions one;
  one.workers = 1;
  const std::vector<float> reference = predict_outputs(ex.graph, ex.weights, rows, one);
  REQUIRE(reference.size() == 3000);
  for (int workers : {0, 2, 3, 11, 40}) {
    INFO("workers " << workers);
    PredictOptions side_by_side;
    side_by_side.workers = workers;
    CHECK(predict_outputs(ex.graph, ex.weights, rows, side_by_side) == reference);
    CHECK(blas::threads() == 2);
  }
  // Generated rows and the same rows stored give the same outputs.
  CHECK(predict_outputs(ex.graph, ex.weights, stored(rows)) == reference);
  // And they are the model's: rows 0, 95, 96 (the second chunk) and 999 (the short last one).
  std::vector<float> x(20);
  for (int64_t r : {0, 95, 96, 999}) {
    rows.read_features(r, x.data());
    const std::vector<double> expected = by_hand(ex, x.data());
    for (int64_t j = 0; j < 3; ++j) CHECK(reference[static_cast<size_t>(r * 3 + j)] == Approx(expected[static_cast<size_t>(j)]).margin(1e-5));
  }
  // Fewer rows than a batch: one chunk, whatever the workers.
  const Dataset few = take_rows(rows, 0, 10);
  PredictOptions many;
  many.workers = 4;
  const std::vector<float> head = predict_outputs(ex.graph, ex.weights, few, many);
  // (To rounding: a 10-row product may take another OpenBLAS kernel than a 96-row one.)
  REQUIRE(head.size() == 30);
  for (size_t i = 0; i < head.size(); ++i) CHECK(head[i] == Approx(reference[i]).margin(1e-6));
  blas::set_threads(threads);
}

TEST_CASE("anneal predict --threads: the same output file on one core and on two, and a negative count refused", "[predict][cli]") {
  TempDir d;
  const std::string spec = d.write("m.yaml", kSpec);
  const std::string ckpt = d.path() + "/m.ckpt";
  REQUIRE(run_cli("train " + spec + " --quiet --save " + ckpt).exit_code == 0);
  // 500 rows of 20 features: five full chunks of 96 and one of 20.
  std::string csv;
  for (int r = 0; r < 500; ++r) {
    for (int c = 0; c < 20; ++c) csv += (c ? "," : "") + std::to_string(std::sin(r * 20 + c));
    csv += "\n";
  }
  const std::string input = d.write("rows.csv", csv);
  std::string outputs[2];
  for (int threads : {1, 2}) {
    const std::string out = d.path() + "/p" + std::to_string(threads) + ".csv";
    const auto run = run_cli("predict " + spec + " --weights " + ckpt + " --input " + input + " -o " + out + " --threads " +
                             std::to_string(threads));
    REQUIRE(run.exit_code == 0);
    outputs[threads - 1] = read_text(out);
  }
  CHECK(std::count(outputs[0].begin(), outputs[0].end(), '\n') == 501);  // a header and a line per row
  CHECK(outputs[0] == outputs[1]);
  const auto negative = run_cli("predict " + spec + " --weights " + ckpt + " --input " + input + " -o " + d.path() + "/n.csv --threads -1");
  CHECK(negative.exit_code == 2);
  CHECK_THAT(negative.err, Catch::Matchers::Contains("--threads must be >= 0"));
}
