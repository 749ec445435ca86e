// The compiler's passes one at a time, on a plan built by hand, and the plan's immutability: two
// executors over one plan never write each other's memory.
#include <catch2/catch.hpp>

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
  // dense b: its pre-activation); scratch is the largest single request (dense b's dZ).
  CHECK(g.sizes().saved == (30 + 6) + 30 + 30);
  CHECK(g.sizes().scratch == 30);
  CHECK(g.sizes().gradients < g.sizes().unshared_gradients);
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

namespace {
// A sum of its inputs that offers to write each input's gradient (Op::writes_fresh_input_gradient),
// to plan a node that reads one value through two inputs.
class FreshSumOp : public Op {
 public:
  explicit FreshSumOp(AttrMap&) {}
  int arity() const override { return kVariadic; }
  Shape infer_shape(const std::vector<Shape>& in) const override { return common_shape(in); }
  bool writes_fresh_input_gradient(size_t) const override { return true; }
  void forward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    std::fill(ctx.output.data, ctx.output.data + n, 0.0f);
    for (const auto& in : ctx.inputs)
      for (int64_t k = 0; k < n; ++k) ctx.output.data[k] += in.data[k];
  }
  void backward(const OpContext& ctx) const override {
    const int64_t n = ctx.batch * ctx.output.sample_size();
    for (size_t i = 0; i < ctx.input_grads.size(); ++i) {
      float* dx = ctx.input_grads[i].data;
      if (!dx) continue;
      for (int64_t k = 0; k < n; ++k) dx[k] = ctx.fresh_input_grad(i) ? ctx.output_grad.data[k] : dx[k] + ctx.output_grad.data[k];
    }
  }
};
ANNEAL_REGISTER(OpRegistry, "test_fresh_sum", FreshSumOp);

// conv -> pool, the pooled value read by two flattens, summed, then summed with itself.
const char* kFreshNodes = R"(nodes:
  - {name: c, op: conv2d, inputs: [input], filters: 2, kernel_size: 3, padding: same, activation: relu}
  - {name: p, op: max_pool2d, inputs: [c]}
  - {name: f1, op: flatten, inputs: [p]}
  - {name: f2, op: flatten, inputs: [p]}
  - {name: s, op: test_fresh_sum, inputs: [f1, f2]}
  - {name: t, op: test_fresh_sum, inputs: [s, s]}
  - {name: out, op: dense, inputs: [t], units: 2}
)";

ModelSpec image_spec(const TempDir& dir, const std::string& body) {
  return load_model_spec(dir.write("model.yaml", "version: 1\ninput: [1, 6, 6]\n" + body + "loss: mse\noptimizer: {type: sgd}\n"));
}
}  // namespace
ANNEAL_GRADIENT_CASE("test_fresh_sum", "{type: test_fresh_sum}", {Shape{3}, Shape{3}}, testing::InputFill::kSigned);

TEST_CASE("plan_gradient_buffers: a buffer's first contributor writes it where its op offers to", "[compiler][passes]") {
  TempDir dir;
  const CompiledGraph g = compile(image_spec(dir, kFreshNodes), 4);
  auto node = [&](const std::string& name) -> const CompiledNode& { return g.nodes()[static_cast<size_t>(index_of(g, name))]; };
  using Flags = std::vector<uint8_t>;
  // The pool writes the convolution's gradient, the sum both flattens' ones; t reads s twice, so
  // s's buffer is cleared and added to; dense (out) adds into t's.
  CHECK(node("p").fresh_input_grads == Flags{1});
  CHECK(node("s").fresh_input_grads == Flags{1, 1});
  CHECK(node("t").fresh_input_grads == Flags{0, 0});
  CHECK(node("out").fresh_input_grads == Flags{0});
  CHECK(node("c").gradient_written_first);
  CHECK(node("f1").gradient_written_first);
  CHECK(node("f2").gradient_written_first);
  CHECK_FALSE(node("s").gradient_written_first);
  CHECK_FALSE(node("t").gradient_written_first);
  // Of the pool's two readers, the one whose backward runs first writes; the other adds.
  auto position = [&](const std::string& name) { return std::find(g.order().begin(), g.order().end(), index_of(g, name)) - g.order().begin(); };
  const bool f2_first = position("f2") > position("f1");  // backward runs the order in reverse
  CHECK(node("f2").fresh_input_grads == Flags{static_cast<uint8_t>(f2_first)});
  CHECK(node("f1").fresh_input_grads == Flags{static_cast<uint8_t>(!f2_first)});
  CHECK(node("p").gradient_written_first);
  // Every buffer is still listed for clearing, for an executor that does not let ops write.
  size_t listed = 0;
  for (const auto& step : g.zero_before_step()) listed += step.size();
  CHECK(listed == 6);  // c, p, f1, f2, s, t (the loss writes out's)
}

TEST_CASE("an executor whose ops write fresh gradients gives the same gradients as one clearing every buffer", "[compiler][executor]") {
  TempDir dir;
  const CompiledGraph g = compile(image_spec(dir, kFreshNodes), 4);
  Weights w = initialize_weights(g, 3);
  Executor writing(g, w, 1), adding(g, w, 1);
  adding.set_fresh_gradient_writes(false);
  Rng rng(5, 1);
  // Two steps, the second with a short batch: its buffers hold the first step's gradients, which
  // an op told to write must not add to.
  for (const int64_t batch : {4, 3}) {
    for (int64_t k = 0; k < batch * 36; ++k) writing.input()[k] = adding.input()[k] = static_cast<float>(rng.uniform(-1.0, 1.0));
    writing.forward(batch, true);
    adding.forward(batch, true);
    for (int64_t k = 0; k < batch * 2; ++k) writing.output_grad()[k] = adding.output_grad()[k] = static_cast<float>(rng.uniform(-1.0, 1.0));
    writing.backward(batch);
    adding.backward(batch);
    const std::vector<float> written(writing.param_grads().begin(), writing.param_grads().end());
    const std::vector<float> added(adding.param_grads().begin(), adding.param_grads().end());
    CHECK(written == added);
    // The convolution's kernel gradient depends on what the pool wrote into its buffer.
    CHECK(std::any_of(written.begin(), written.begin() + 18, [](float v) { return v != 0.0f; }));
  }
}
