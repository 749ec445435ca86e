// Forward-only passes over a dataset (anneal predict): executors side by side give the outputs of
// one executor, bit for bit, over generated and stored rows, and leave BLAS's threads as found.
#include <catch2/catch.hpp>

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
