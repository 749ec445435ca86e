// The compiler's passes one at a time, on a plan built by hand, and the plan's immutability: two
// executors over one plan never write each other's memory.
#include <catch2/catch.hpp>

#include <algorithm>

#include "anneal/executor.hpp"
#include "anneal/graph.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

ModelSpec spec(const TempDir& dir, const std::string& body) {
  return load_model_spec(dir.write("model.yaml", "version: 1\ninput: [4]\n" + body + "loss: mse\noptimizer: {type: sgd}\n"));
}

// A branchy model: a frozen dense, a batch_norm (state), a dropout (saved workspace), a residual add.
const char* kNodes = R"(nodes:
  - {name: a, op: dense, inputs: [input], units: 6, trainable: false}
  - {name: n, op: batch_norm, inputs: [a]}
  - {name: d, op: dropout, inputs: [n], rate: 0.5}
  - {name: b, op: dense, inputs: [d], units: 6, activation: gelu, lr_mult: {bias: 2}}
  - {name: s, op: add, inputs: [b, a]}
  - {name: out, op: dense, inputs: [s], units: 2}
)";

// Runs the passes up to and including infer_shapes, as compile() does.
void shaped(const ModelSpec& s, GraphBuilder b, ErrorList& errors) {
  passes::lower(s, b, errors);
  passes::order(s, b, errors);
  passes::infer_shapes(b, errors);
}

// The nodes whose gradient buffers backward clears before a reader adds to them, sorted.
std::vector<std::string> cleared_gradients(const CompiledGraph& g) {
  std::vector<std::string> names;
  for (const auto& step : g.zero_before_step())
    for (int node : step) names.push_back(g.nodes()[static_cast<size_t>(node)].name);
  std::sort(names.begin(), names.end());
  return names;
}

int index_of(const CompiledGraph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes().size(); ++i)
    if (g.nodes()[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string error_text(const ErrorList& errors) {
  try {
    errors.throw_if_any();
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("pass lower: ops built, inputs resolved, training options read, mistakes collected", "[compiler][passes]") {
  TempDir dir;
  const ModelSpec s = spec(dir, kNodes);
  CompiledGraph g;
  ErrorList errors;
  passes::lower(s, GraphBuilder{g}, errors);
  CHECK(errors.empty());
  REQUIRE(g.nodes().size() == 7);
  const auto& b = g.nodes()[static_cast<size_t>(index_of(g, "b"))];
  CHECK(b.op != nullptr);
  CHECK(b.inputs == std::vector<int>{index_of(g, "d")});
  CHECK(b.training.lr_mult_of.at("bias") == 2);
  CHECK_FALSE(g.nodes()[static_cast<size_t>(index_of(g, "a"))].training.trainable);
  CHECK(g.output() == index_of(g, "out"));

  CompiledGraph bad;
  ErrorList bad_errors;
  passes::lower(spec(dir, "nodes:\n  - {name: x, op: add, inputs: [input]}\n  - {name: y, op: dense, inputs: [nowhere], units: 2}\n"),
                GraphBuilder{bad}, bad_errors);
  const std::string text = error_text(bad_errors);
  CHECK_THAT(text, Contains("op 'add' takes two or more inputs, got 1"));
  CHECK_THAT(text, Contains("input 'nowhere' is not defined"));
}

TEST_CASE("pass order: inputs before consumers, cycles and dead nodes are errors", "[compiler][passes]") {
  TempDir dir;
  CompiledGraph g;
  ErrorList errors;
  const ModelSpec s = spec(dir, kNodes);
  passes::lower(s, GraphBuilder{g}, errors);
  passes::order(s, GraphBuilder{g}, errors);
  CHECK(errors.empty());
  std::vector<size_t> position(g.nodes().size());
  for (size_t k = 0; k < g.order().size(); ++k) position[static_cast<size_t>(g.order()[k])] = k;
  for (size_t i = 0; i < g.nodes().size(); ++i)
    for (int in : g.nodes()[i].inputs) CHECK(position[static_cast<size_t>(in)] < position[i]);

  CompiledGraph dead;
  ErrorList dead_errors;
  const ModelSpec d = spec(dir, "nodes:\n  - {name: x, op: relu, inputs: [input]}\n  - {name: y, op: relu, inputs: [input]}\noutput: y\n");
  passes::lower(d, GraphBuilder{dead}, dead_errors);
  passes::order(d, GraphBuilder{dead}, dead_errors);
  CHECK_THAT(error_text(dead_errors), Contains("node 'x' does not lead to the output 'y'"));
}

TEST_CASE("passes infer_shapes, mark_gradients, plan_weights: shapes, frozen first-class, state apart", "[compiler][passes]") {
  TempDir dir;
  const ModelSpec s = spec(dir, kNodes);
  CompiledGraph g;
  GraphBuilder b{g};
  b.max_batch() = 5;
  ErrorList errors;
  shaped(s, b, errors);
  REQUIRE(errors.empty());
  CHECK(g.nodes()[static_cast<size_t>(index_of(g, "s"))].shape == Shape{6});
  CHECK(g.nodes()[static_cast<size_t>(index_of(g, "out"))].shape == Shape{2});
  const auto& bn = g.nodes()[static_cast<size_t>(index_of(g, "n"))];
  REQUIRE(bn.state.size() == 2);
  CHECK(bn.state[1].initial == 1.0f);
  const auto& dense_b = g.nodes()[static_cast<size_t>(index_of(g, "b"))];
  CHECK(dense_b.params[1].training.lr_mult == 2);
  CHECK(dense_b.params[0].training.lr_mult == 1);
  CHECK(dense_b.workspace.saved == 5 * 6);  // gelu keeps its pre-activation

  passes::mark_gradients(b);
  CHECK_FALSE(g.nodes()[static_cast<size_t>(index_of(g, "a"))].requires_grad);  // frozen, fed by the input
  CHECK(g.nodes()[static_cast<size_t>(index_of(g, "n"))].requires_grad);        // batch_norm's gamma and beta train
  CHECK(g.nodes()[static_cast<size_t>(index_of(g, "s"))].requires_grad);

  passes::plan_weights(b);
  // Trainable first: n (6 + 6), b (36 + 6), out (12 + 2) = 68; then a (24 + 6) frozen.
  CHECK(g.sizes().trainable == 68);
  CHECK(g.sizes().params == 98);
  CHECK(g.sizes().state == 12);
  CHECK(g.nodes()[static_cast<size_t>(index_of(g, "a"))].params[0].offset == 68);
}

TEST_CASE("passes plan_activations, plan_workspaces, plan buffers, check_initializers", "[compiler][passes]") {
  TempDir dir;
  const ModelSpec s = spec(dir, kNodes);
  CompiledGraph g;
  GraphBuilder b{g};
  b.max_batch() = 5;
  ErrorList errors;
  shaped(s, b, errors);
  passes::mark_gradients(b);
  passes::plan_weights(b);
  passes::plan_activations(b);
  passes::plan_workspaces(b);
  passes::plan_gradient_buffers(b);
  passes::plan_inference_buffers(b);
  passes::check_initializers(b, errors);
  CHECK(errors.empty());
  // Every activation kept for backward: 4 + 6 * 5 + 2 values per sample.
  CHECK(g.sizes().activations == 5 * (4 + 6 * 5 + 2));
  // Saved workspaces add up (batch_norm: x_hat and 6 inverse deviations; dropout: its mask;
  // dense b: its pre-activation); scratch is the largest single request (dense b's dZ and its
  // bias gradient's one group of column sums).
  CHECK(g.sizes().saved == (30 + 6) + 30 + 30);
  CHECK(g.sizes().scratch == 30 + 6);
  CHECK(g.sizes().gradients < g.sizes().unshared_gradients);
  // A gradient one dense alone produces (d's, s's) is written by it and not cleared first; one
  // whose one reader adds (n's by dropout, b's by add) is cleared just before that reader's
  // backward (a, frozen on the input, needs no gradient).
  CHECK(cleared_gradients(g) == std::vector<std::string>{"b", "n"});
  for (const char* name : {"d", "s"}) CHECK(g.nodes()[static_cast<size_t>(index_of(g, name))].gradient_written);
  for (const char* name : {"a", "b", "n", "out"}) CHECK_FALSE(g.nodes()[static_cast<size_t>(index_of(g, name))].gradient_written);
  // A value two nodes read (h) has its gradient cleared for both to add to, even when both are
  // dense layers.
  const CompiledGraph two = compile(spec(dir, R"(nodes:
  - {name: h, op: dense, inputs: [input], units: 3}
  - {name: p, op: dense, inputs: [h], units: 3}
  - {name: q, op: dense, inputs: [h], units: 3, activation: relu}
  - {name: s, op: add, inputs: [p, q]}
  - {name: out, op: dense, inputs: [s], units: 2}
)"), 4);
  CHECK(cleared_gradients(two) == std::vector<std::string>{"h", "p", "q"});
  CHECK(two.nodes()[static_cast<size_t>(index_of(two, "s"))].gradient_written);
  CHECK(g.sizes().inference < g.sizes().activations);

  CompiledGraph bad;
  GraphBuilder bb{bad};
  ErrorList bad_errors;
  const ModelSpec u = spec(dir, "layers:\n  - {type: dense, units: 2, kernel_initializer: glorot_unifrom}\n");
  shaped(u, bb, bad_errors);
  passes::check_initializers(bb, bad_errors);
  CHECK_THAT(error_text(bad_errors), Contains("did you mean 'glorot_uniform'"));
}

TEST_CASE("the plan is immutable: two executors over one plan keep their own buffers", "[compiler][executor]") {
  TempDir dir;
  const CompiledGraph g = compile(spec(dir, kNodes), 3);
  Weights w = initialize_weights(g, 7);
  Executor training(g, w, 1);
  Executor evaluation(g, w, 1, ExecutorMode::kInference);
  std::vector<float> x1(12), x2(12);
  for (size_t i = 0; i < 12; ++i) {
    x1[i] = 0.1f * static_cast<float>(i) - 0.5f;
    x2[i] = 0.3f - 0.05f * static_cast<float>(i);
  }
  std::copy(x1.begin(), x1.end(), training.input());
  training.forward(3, false);
  const std::vector<float> first(training.output(), training.output() + 6);
  std::copy(x2.begin(), x2.end(), evaluation.input());
  evaluation.forward(3, false);
  // The evaluation's run left the training executor's output alone...
  CHECK(std::vector<float>(training.output(), training.output() + 6) == first);
  // ...and gives the same answer on the same rows.
  std::copy(x1.begin(), x1.end(), evaluation.input());
  evaluation.forward(3, false);
  CHECK(std::vector<float>(evaluation.output(), evaluation.output() + 6) == first);
  CHECK_THROWS_WITH(evaluation.forward(3, true), Contains("training pass on an inference executor"));
}
