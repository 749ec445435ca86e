// Whole runs: the compiler's two spec forms, gradients through a graph with fan-out, the
// scheduler callback's timing, determinism, no allocation per update, and the lesson's accuracy.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "anneal/callbacks.hpp"
#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

#include "allocation_counter.hpp"

namespace {

ModelSpec spec_from(const TempDir& dir, const std::string& yaml) {
  return load_model_spec(dir.write("model.yaml", yaml));
}

const char* kSequential = R"(version: 1
input: [3]
layers:
  - {type: dense, units: 4, activation: tanh}
  - {type: dense, units: 2, activation: softmax}
loss: categorical_crossentropy
optimizer: {type: sgd}
train: {seed: 5}
)";

const char* kExplicit = R"(version: 1
input: [3]
nodes:
  - {name: dense_1, op: dense, inputs: input, units: 4, activation: tanh}
  - {name: dense_2, op: dense, inputs: [dense_1], units: 2, activation: softmax}
loss: categorical_crossentropy
optimizer: {type: sgd}
train: {seed: 5}
)";

// input feeds two branches that meet again: gradients must accumulate at the fan-out.
const char* kFanOut = R"(version: 1
input: [3]
nodes:
  - {name: left, op: dense, inputs: input, units: 4, activation: tanh}
  - {name: right, op: dense, inputs: input, units: 4, activation: sigmoid}
  - {name: both, op: add, inputs: [left, right, left]}
  - {name: joined, op: concat, inputs: [both, left]}
  - {name: out, op: dense, inputs: joined, units: 1}
loss: mse
optimizer: {type: sgd}
train: {seed: 3}
)";

std::vector<std::string> history_rows_without_time(const std::string& path) {
  std::stringstream in(read_text(path));
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

// Relative error between the executor's parameter gradients (mse loss on `target`) and central
// differences of the loss, over every parameter of the graph.
double whole_graph_gradient_error(const CompiledGraph& g, Weights& w, const std::vector<float>& x,
                                  const std::vector<float>& target, int64_t batch) {
  Executor ex(g, w, 3);
  const int64_t width = g.output_shape().numel();
  AttrMap mse_attrs = attrs_from("mse", "loss");
  auto loss = create_from<LossRegistry>(mse_attrs, "loss");
  auto objective = [&](bool with_grad) {
    std::copy(x.begin(), x.end(), ex.input());
    ex.forward(batch, true);
    return loss->forward_backward(ex.output(), target.data(), batch, width, width, with_grad ? ex.output_grad() : nullptr);
  };
  objective(true);
  ex.backward(batch);
  const std::vector<float> analytic(ex.param_grads().begin(), ex.param_grads().end());
  double diff2 = 0, norm2 = 0;
  for (size_t i = 0; i < analytic.size(); ++i) {
    const float saved = w.params[i];
    w.params[i] = saved + 1e-3f;
    const double up = objective(false);
    w.params[i] = saved - 1e-3f;
    const double down = objective(false);
    w.params[i] = saved;
    const double numeric = (up - down) / (static_cast<double>(saved + 1e-3f) - static_cast<double>(saved - 1e-3f));
    diff2 += (numeric - analytic[i]) * (numeric - analytic[i]);
    norm2 += numeric * numeric;
  }
  return norm2 > 0 ? std::sqrt(diff2 / norm2) : 1.0;
}

}  // namespace

TEST_CASE("layers: and nodes: lower to the same graph and the same weights", "[compiler]") {
  TempDir dir;
  const auto a = compile(spec_from(dir, kSequential), 4);
  const auto b = compile(spec_from(dir, kExplicit), 4);
  REQUIRE(a.nodes().size() == b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    CHECK(a.nodes()[i].name == b.nodes()[i].name);
    CHECK(a.nodes()[i].shape == b.nodes()[i].shape);
    CHECK(a.nodes()[i].inputs == b.nodes()[i].inputs);
  }
  CHECK(initialize_weights(a, 5).params == initialize_weights(b, 5).params);
  CHECK(a.order() == b.order());
  std::ostringstream dot;
  write_dot(a, dot);
  CHECK_THAT(dot.str(), Contains("1->2"));
  CHECK_THAT(dot.str(), Contains("dense_2\\ndense [B, 2]"));
}

TEST_CASE("the needs-gradient pass skips the model input and plans buffers once", "[compiler]") {
  TempDir dir;
  const auto g = compile(spec_from(dir, kFanOut), 8);
  CHECK_FALSE(g.nodes()[0].requires_grad);
  CHECK(g.nodes()[0].gradient_offset == -1);
  for (size_t i = 1; i < g.nodes().size(); ++i) CHECK(g.nodes()[i].requires_grad);
  // Parameters: 3*4+4 twice, then 8*1+1.
  CHECK(g.sizes().params == 16 + 16 + 9);
  CHECK(g.sizes().trainable == g.sizes().params);
  // Topological: every node after its inputs.
  std::vector<size_t> position(g.nodes().size());
  for (size_t k = 0; k < g.order().size(); ++k) position[static_cast<size_t>(g.order()[k])] = k;
  for (size_t i = 0; i < g.nodes().size(); ++i)
    for (int in : g.nodes()[i].inputs) CHECK(position[static_cast<size_t>(in)] < position[i]);
}

TEST_CASE("executor gradients through fan-out match central differences", "[compiler][gradient]") {
  TempDir dir;
  const auto g = compile(spec_from(dir, kFanOut), 2);
  Weights w = initialize_weights(g, 3);
  CHECK(whole_graph_gradient_error(g, w, {0.3f, -0.7f, 0.5f, 0.9f, 0.1f, -0.4f}, {0.25f, -0.5f}, 2) < 1e-2);
}

TEST_CASE("the scheduler sets per-epoch rates at epoch start and per-step rates before each update",
          "[training][schedules]") {
  auto spec = load_model_spec(source_path("models/ionosphere.yaml"), load_with({"train.epochs=12"}, source_path("schedules/step_decay.yaml")));
  Experiment ex = build_experiment(std::move(spec));
  RunOptions quiet;
  quiet.verbose = false;
  const History h = run_experiment(ex, quiet).history;
  REQUIRE(h.epochs.size() == 12);
  for (size_t e = 0; e < 12; ++e) {
    INFO("epoch " << e);
    CHECK(h.epochs[e].logs.get("lr", -1) == Approx(0.1 * std::pow(0.5, std::floor((1.0 + static_cast<double>(e)) / 10))));
  }
  auto tb = load_model_spec(source_path("models/ionosphere.yaml"), load_with({"train.epochs=3"}, source_path("schedules/time_based.yaml")));
  Experiment ex2 = build_experiment(std::move(tb));
  const History h2 = run_experiment(ex2, quiet).history;
  // The last update of epoch e is t = 9e + 8.
  for (size_t e = 0; e < 3; ++e) CHECK(h2.epochs[e].logs.get("lr", -1) == Approx(0.1 / (1 + 0.002 * (9.0 * static_cast<double>(e) + 8))));
}

TEST_CASE("no allocation happens across training updates", "[training][memory]") {
  auto spec = load_model_spec(source_path("models/ionosphere.yaml"), load_with({"train.validation_split=0"}, source_path("schedules/time_based.yaml")));
  Experiment ex = build_experiment(std::move(spec));
  CountDuringBatches counter;
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, {3, 28, true, 1});
  LrScheduler scheduler(std::move(ex.schedule));
  trainer.add_callback(&counter);   // first: counting starts before the scheduler runs
  trainer.add_callback(&scheduler);
  trainer.fit(*ex.train, nullptr);
  CHECK(counter.batches == 3 * 13);  // 351 rows, batch 28
  CHECK(counter.during == 0);
}

TEST_CASE("same seed, same history, another seed, another history", "[training][determinism][cli]") {
  TempDir dir;
  const std::string model = source_path("models/ionosphere.yaml");
  const std::string schedule = source_path("schedules/step_decay.yaml");
  const std::pair<const char*, const char*> runs[] = {{"3", "h3"}, {"3", "h3b"}, {"4", "h4"}};
  for (const auto& [seed, name] : runs) {
    const auto r = run_cli("train --quiet " + model + " --schedule " + schedule + " --epochs 8 --seed " + seed +
                           " --history " + dir.path() + "/" + name + ".csv");
    REQUIRE(r.exit_code == 0);
  }
  const auto first = history_rows_without_time(dir.path() + "/h3.csv");
  const auto second = history_rows_without_time(dir.path() + "/h3b.csv");
  const auto other = history_rows_without_time(dir.path() + "/h4.csv");
  REQUIRE(first.size() == 9);
  CHECK(first[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr");
  CHECK(first == second);
  CHECK(first != other);
}

TEST_CASE("the lesson's three setups reach its accuracy band", "[training][lesson][cli]") {
  // Median final val_accuracy over seeds 1-5 for each schedule must be at least 0.93.
  for (const char* schedule : {"constant", "time_based", "step_decay"}) {
    std::vector<double> accuracies;
    for (int seed = 1; seed <= 5; ++seed) {
      const auto r = run_cli("train " + source_path("models/ionosphere.yaml") + " --schedule " +
                             source_path(std::string("schedules/") + schedule + ".yaml") + " --seed " +
                             std::to_string(seed));
      REQUIRE(r.exit_code == 0);
      const auto at = r.out.find("final val_accuracy: ");
      REQUIRE(at != std::string::npos);
      accuracies.push_back(std::stod(r.out.substr(at + 20)));
      CHECK_THAT(r.out, Contains("Epoch 50/50"));
      CHECK_THAT(r.out, Contains("Train on 235 samples, validate on 116 samples"));
    }
    std::sort(accuracies.begin(), accuracies.end());
    INFO(schedule);
    CHECK(accuracies[2] >= 0.93);
  }
}

TEST_CASE("the allocation counter sees allocations made inside libanneal", "[memory]") {
  Dataset two;
  two.features = Tensor(2, Shape{1});
  two.targets = Tensor(2, Shape{1});
  start_counting_allocations();
  const Dataset one = take_rows(two, 0, 1);  // allocates inside libanneal
  CHECK(stop_counting_allocations() > 0);
  CHECK(one.rows() == 1);
}

TEST_CASE("gradient buffers whose lifetimes do not overlap share memory, and gradients stay exact", "[compiler][memory][gradient]") {
  TempDir dir;
  // A chain of equal widths: the output's gradient and the 2nd layer's never live at once, nor
  // the 3rd's and the 1st's, so four buffers fit in two.
  const char* chain = R"(version: 1
input: [5]
layers:
  - {type: dense, units: 6, activation: tanh}
  - {type: dense, units: 6, activation: tanh}
  - {type: dense, units: 6, activation: sigmoid}
  - {type: dense, units: 6}
loss: mse
optimizer: {type: sgd}
train: {seed: 2}
)";
  const auto g = compile(spec_from(dir, chain), 3);
  Weights w = initialize_weights(g, 2);
  CHECK(g.sizes().gradients == 2 * 3 * 6);
  CHECK(g.sizes().unshared_gradients == 4 * 3 * 6);
  const std::vector<float> x{0.3f, -0.7f, 0.5f, 0.9f, 0.1f, -0.4f, 0.2f, 0.8f, -0.6f, 0.05f, -0.3f, 0.7f, 0.45f, -0.15f, 0.6f};
  std::vector<float> target(18);
  for (size_t i = 0; i < target.size(); ++i) target[i] = 0.1f * static_cast<float>(i % 5) - 0.2f;
  CHECK(whole_graph_gradient_error(g, w, x, target, 3) < 1e-2);
}

TEST_CASE("forward-only runs share activation buffers by liveness and compute the same outputs", "[compiler][memory]") {
  TempDir dir;
  const char* chain = R"(version: 1
input: [6]
layers:
  - {type: dense, units: 6, activation: tanh}
  - {type: dense, units: 6, activation: relu}
  - {type: dense, units: 6, activation: sigmoid}
  - {type: dense, units: 6}
loss: mse
optimizer: {type: sgd}
train: {seed: 4}
)";
  const auto g = compile(spec_from(dir, chain), 4);
  Weights w = initialize_weights(g, 4);
  // Five activations of [4, 6] (input included) fit in two: each lives from its step to its consumer's.
  CHECK(g.sizes().inference == 2 * 4 * 6);
  CHECK(g.sizes().activations == 5 * 4 * 6);
  Executor train(g, w, 1);
  Executor infer(g, w, 1, ExecutorMode::kInference);
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  std::copy(x.begin(), x.end(), train.input());
  std::copy(x.begin(), x.end(), infer.input());
  train.forward(4, false);
  infer.forward(4, false);
  CHECK(std::vector<float>(train.output(), train.output() + 24) == std::vector<float>(infer.output(), infer.output() + 24));
  CHECK_THROWS_WITH(infer.backward(4), Contains("inference executor"));
}
