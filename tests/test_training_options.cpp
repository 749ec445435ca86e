// Per-layer training options (trainable, lr_mult / decay_mult, regularizers) and batch_norm's
// state through training, checkpoints and resume.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "anneal/checkpoint.hpp"
#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::string spec_with(const TempDir& dir, const std::string& name, const std::string& layers,
                      const std::string& optimizer = "{type: sgd, lr: 0.1, momentum: 0.9}", int epochs = 4) {
  return dir.write(name, "version: 1\nname: " + name.substr(0, name.find('.')) + "\ndata: {path: " +
                             source_path("data/ionosphere.csv") + ", label: -1}\ninput: [34]\nlayers:\n" + layers +
                             "loss: binary_crossentropy\nmetrics: [accuracy]\noptimizer: " + optimizer +
                             "\ntrain: {epochs: " + std::to_string(epochs) +
                             ", batch_size: 28, validation_split: 0.33, seed: 3}\n");
}

const ParamSlot& slot(const CompiledGraph& g, const std::string& node, const std::string& param) {
  for (const auto& n : g.nodes())
    if (n.name == node)
      for (const auto& p : n.params)
        if (p.name == param) return p;
  throw std::runtime_error("no " + node + "." + param);
}

std::vector<float> values(const Weights& w, const ParamSlot& p) {
  return {w.params.begin() + p.offset, w.params.begin() + p.offset + p.size()};
}

}  // namespace

TEST_CASE("trainable: false freezes a layer: no gradient, no optimizer state, weights unchanged", "[training][trainable]") {
  TempDir d;
  const auto path = spec_with(d, "frozen.yaml",
                              "  - {type: dense, units: 8, activation: relu, trainable: false}\n"
                              "  - {type: dense, units: 1, activation: sigmoid}\n");
  Experiment ex = build_experiment(load_model_spec(path));
  const auto& g = ex.graph;
  CHECK(g.sizes().params == 34 * 8 + 8 + 8 + 1);
  CHECK(g.sizes().trainable == 8 + 1);
  CHECK_FALSE(g.nodes()[1].requires_grad);  // frozen, and its input needs no gradient
  const auto before_frozen = values(ex.weights, slot(g, "dense_1", "kernel"));
  const auto before_trained = values(ex.weights, slot(g, "dense_2", "kernel"));
  RunOptions quiet;
  quiet.verbose = false;
  run_experiment(ex, quiet);
  CHECK(values(ex.weights, slot(g, "dense_1", "kernel")) == before_frozen);
  CHECK(values(ex.weights, slot(g, "dense_2", "kernel")) != before_trained);
  for (const auto& buffer : ex.optimizer->state()) CHECK(buffer.size() == 9);
}

TEST_CASE("lr_mult: {bias: 0} keeps the biases and trains the kernel", "[training][multipliers]") {
  TempDir d;
  const auto path = spec_with(d, "mult.yaml",
                              "  - {type: dense, units: 8, activation: relu, bias_initializer: ones, lr_mult: {bias: 0}}\n"
                              "  - {type: dense, units: 1, activation: sigmoid, lr_mult: 2, decay_mult: {kernel: 0}}\n");
  Experiment ex = build_experiment(load_model_spec(path));
  CHECK(slot(ex.graph, "dense_1", "bias").training.lr_mult == 0);
  CHECK(slot(ex.graph, "dense_1", "kernel").training.lr_mult == 1);
  CHECK(slot(ex.graph, "dense_2", "bias").training.lr_mult == 2);
  CHECK(slot(ex.graph, "dense_2", "kernel").training.decay_mult == 0);
  CHECK(slot(ex.graph, "dense_2", "bias").training.decay_mult == 1);
  const auto bias = values(ex.weights, slot(ex.graph, "dense_1", "bias"));
  const auto kernel = values(ex.weights, slot(ex.graph, "dense_1", "kernel"));
  RunOptions quiet;
  quiet.verbose = false;
  run_experiment(ex, quiet);
  CHECK(values(ex.weights, slot(ex.graph, "dense_1", "bias")) == bias);
  CHECK(values(ex.weights, slot(ex.graph, "dense_1", "kernel")) != kernel);
}

TEST_CASE("training options name real parameters, mistakes point at the key", "[training][spec]") {
  TempDir d;
  auto error = [&](const std::string& layer) {
    const auto r = run_cli("check --no-data " + spec_with(d, "bad.yaml", layer + "  - {type: dense, units: 1}\n"));
    CHECK(r.exit_code == 2);
    return r.err;
  };
  CHECK_THAT(error("  - {type: dense, units: 4, lr_mult: {bais: 2}}\n"),
             Contains("bad.yaml:6:39: error: node 'dense_1' (dense) has no parameter 'bais' (parameters: kernel, bias)"));
  CHECK_THAT(error("  - {type: dense, units: 4, gamma_regularizer: l2}\n"), Contains("has no parameter 'gamma'"));
  CHECK_THAT(error("  - {type: relu, kernel_regularizer: l2}\n"), Contains("it has no parameters"));
  CHECK_THAT(error("  - {type: dense, units: 4, kernel_regularizer: l3}\n"),
             Contains("layer 'dense_1' (dense): kernel_regularizer: 'type' is 'l3', expected l1, l2 or l1_l2"));
  CHECK_THAT(error("  - {type: dense, units: 4, kernel_regularizer: {type: l2, l1: 0.1}}\n"), Contains("unknown key 'l1'"));
  CHECK_THAT(error("  - {type: dense, units: 4, lr_mult: -1}\n"), Contains("'lr_mult' must be a finite number >= 0"));
  CHECK_THAT(error("  - {type: dense, units: 4, trainable: maybe}\n"), Contains("trainable"));
}

TEST_CASE("regularizers add Keras' penalty to the loss, its gradient to the update, and a reg_loss column", "[training][regularizers]") {
  TempDir d;
  const auto path = spec_with(d, "reg.yaml",
                              "  - {type: dense, units: 8, activation: relu, kernel_regularizer: {type: l2, l2: 0.001}}\n"
                              "  - {type: dense, units: 1, activation: sigmoid, kernel_regularizer: l1_l2, bias_regularizer: {type: l1, l1: 0.5}}\n");
  Experiment ex = build_experiment(load_model_spec(path));
  REQUIRE(ex.graph.has_regularizers());
  // The penalty by hand: 0.001 sum w1^2 + 0.01 (sum |w2| + sum w2^2) + 0.5 |b2|.
  double expected = 0;
  for (float w : values(ex.weights, slot(ex.graph, "dense_1", "kernel"))) expected += 0.001 * w * w;
  for (float w : values(ex.weights, slot(ex.graph, "dense_2", "kernel"))) expected += 0.01 * (std::abs(w) + w * w);
  for (float w : values(ex.weights, slot(ex.graph, "dense_2", "bias"))) expected += 0.5 * std::abs(w);
  CHECK(regularization(ex.graph, ex.weights.params) == Approx(expected));
  // Its gradient against central differences (away from the l1 kink: weights are non-zero).
  std::vector<float> grads(static_cast<size_t>(ex.graph.sizes().trainable), 0.0f);
  regularization(ex.graph, ex.weights.params, grads);
  Weights w = ex.weights;
  double worst = 0;
  for (size_t i = 0; i < grads.size(); i += 7) {
    const float saved = w.params[i];
    w.params[i] = saved + 1e-3f;
    const double up = regularization(ex.graph, w.params);
    w.params[i] = saved - 1e-3f;
    const double down = regularization(ex.graph, w.params);
    w.params[i] = saved;
    worst = std::max(worst, std::abs((up - down) / (static_cast<double>(saved + 1e-3f) - (saved - 1e-3f)) - grads[i]));
  }
  CHECK(worst < 1e-3);
  const auto r = run_cli("train --quiet " + path + " --history " + d.path() + "/h.csv");
  REQUIRE(r.exit_code == 0);
  const auto rows = rows_without_time(d.path() + "/h.csv");
  CHECK(rows[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr,reg_loss");
  // Without regularizers the columns stay as they were.
  const auto plain = spec_with(d, "plain.yaml", "  - {type: dense, units: 8, activation: relu}\n  - {type: dense, units: 1, activation: sigmoid}\n");
  REQUIRE(run_cli("train --quiet " + plain + " --history " + d.path() + "/p.csv").exit_code == 0);
  CHECK(rows_without_time(d.path() + "/p.csv")[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr");
}

TEST_CASE("batch_norm: 50 epochs equal 20 then a resume for 30, weights and moving statistics bit for bit", "[training][batch_norm][resume]") {
  TempDir d;
  const auto spec = spec_with(d, "bn.yaml",
                              "  - {type: dense, units: 16}\n"
                              "  - {type: batch_norm}\n"
                              "  - {type: relu}\n"
                              "  - {type: dense, units: 1, activation: sigmoid}\n",
                              "{type: adam, lr: 0.01}", 50);
  const std::string p = d.path();
  REQUIRE(run_cli("train --quiet " + spec + " --save " + p + "/full.ckpt --history " + p + "/full.csv").exit_code == 0);
  REQUIRE(run_cli("train --quiet " + spec + " --epochs 20 --save " + p + "/part.ckpt").exit_code == 0);
  REQUIRE(run_cli("train --quiet " + spec + " --resume " + p + "/part.ckpt --save " + p + "/resumed.ckpt --history " + p +
                  "/resumed.csv").exit_code == 0);
  check_same_run(p + "/full.ckpt", p + "/resumed.ckpt", p + "/full.csv", p + "/resumed.csv");
  const Checkpoint full = load_checkpoint(p + "/full.ckpt");
  REQUIRE(full.state.size() == 32);
  // The moving statistics moved away from their initial 0 and 1, and are not parameters.
  CHECK(full.state[0] != 0.0f);
  CHECK(full.state[16] != 1.0f);
  for (const auto& buffer : full.optimizer_state) CHECK(buffer.size() == full.params.size());
  // evaluate uses the saved moving statistics: its val_accuracy is the run's last.
  const auto eval = run_cli("evaluate " + spec + " --weights " + p + "/full.ckpt");
  REQUIRE(eval.exit_code == 0);
  // epoch,loss,accuracy,val_loss,val_accuracy,lr
  std::stringstream last(rows_without_time(p + "/full.csv").back());
  std::vector<double> cells;
  for (std::string cell; std::getline(last, cell, ',');) cells.push_back(std::stod(cell));
  char expected[96];
  std::snprintf(expected, sizeof expected, "validation rows: 116 rows - loss: %.4f - accuracy: %.4f", cells[3], cells[4]);
  CHECK_THAT(eval.out, Contains(expected));
}
