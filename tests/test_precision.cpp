// mixed_bfloat16: rounding to bfloat16, the products' numbers, the refusal on CPUs without
// bfloat16 support (naming what is missing), and training in it (emulated where the CPU has no
// bfloat16 units, natively where it has).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "anneal/executor.hpp"
#include "anneal/experiment.hpp"
#include "anneal/gemm.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

const char* kModel = R"(version: 1
data: {synthetic: {rows: 600, features: 40, classes: 3, seed: 7}}
input: [40]
layers:
  - {type: dense, units: 64, activation: relu}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
metrics: [accuracy]
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 6, batch_size: 64, validation_split: 0.25, seed: 2, precision: PRECISION}
)";

std::string model(const TempDir& d, const std::string& precision) {
  std::string text = kModel;
  text.replace(text.find("PRECISION"), 9, precision);
  return d.write(precision + ".yaml", text);
}

RunResult train(const std::string& path, bool emulate, bool reuse = true, std::vector<float>* weights = nullptr) {
  BuildOptions build;
  build.gemm.emulate_bfloat16 = emulate;
  build.gemm.reuse_conversions = reuse;
  Experiment ex = build_experiment(load_model_spec(path), true, build);
  RunOptions quiet;
  quiet.verbose = false;
  RunResult r = run_experiment(ex, quiet);
  if (weights) *weights = ex.weights.params;
  return r;
}

// mixed_bfloat16 where this CPU runs it: natively, or emulated.
bool emulated() { return !bfloat16_unsupported_reason().empty(); }

GemmPlan bfloat16_plan(std::initializer_list<GemmShape> shapes, bool reuse = true) {
  GemmPlan plan;
  for (const auto& s : shapes) plan.add(s);
  GemmOptions options;
  options.bfloat16 = true;
  options.emulate_bfloat16 = emulated();
  options.reuse_conversions = reuse;
  plan.choose(options);
  return plan;
}

bool same_bits(const std::vector<float>& p, const std::vector<float>& q) {
  return p.size() == q.size() && std::memcmp(p.data(), q.data(), p.size() * sizeof(float)) == 0;
}

std::vector<float> ramp(size_t n, float step, int period, float offset) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = step * static_cast<float>(static_cast<int>(i) % period) + offset + 1e-3f * static_cast<float>(i);
  return v;
}

// The runner's conversion counts after each of `steps` training steps of the model at `path` on
// fixed inputs and output gradients (ramps), with or without reusing converted copies.
std::vector<GemmRunner::Conversions> conversions_per_step(const std::string& path, bool reuse, int64_t batch, int steps,
                                                           bool direct_convolutions = true) {
  BuildOptions build;
  build.gemm.emulate_bfloat16 = emulated();
  build.gemm.reuse_conversions = reuse;
  build.gemm.direct_convolutions = direct_convolutions;
  Experiment ex = build_experiment(load_model_spec(path), true, build);
  Executor exec(ex.graph, ex.weights, 1, ExecutorMode::kTraining);
  const auto inputs = static_cast<size_t>(batch * ex.graph.input_shape().numel());
  const auto outputs = static_cast<size_t>(batch * ex.graph.output_shape().numel());
  const std::vector<float> x = ramp(inputs, 0.1f, 13, -0.5f), dy = ramp(outputs, 0.05f, 3, -0.05f);
  std::copy(x.begin(), x.end(), exec.input());
  std::vector<GemmRunner::Conversions> counts;
  for (int s = 0; s < steps; ++s) {
    exec.forward(batch, true);
    std::copy(dy.begin(), dy.end(), exec.output_grad());
    exec.backward(batch);
    counts.push_back(exec.gemm_runner().conversions());
  }
  return counts;
}

}  // namespace

TEST_CASE("rounding to bfloat16 keeps 8 significant bits, ties to even, and NaN", "[precision]") {
  CHECK(round_to_bfloat16(1.0f) == 1.0f);
  CHECK(round_to_bfloat16(1.0f + 0x1p-8f) == 1.0f);                 // halfway: to even (down)
  CHECK(round_to_bfloat16(1.0f + 0x1p-7f + 0x1p-8f) == 1.0f + 0x1p-6f);  // halfway: to even (up)
  CHECK(round_to_bfloat16(1.0f + 0x1p-8f + 0x1p-12f) == 1.0f + 0x1p-7f);  // above halfway
  CHECK(round_to_bfloat16(-3.0f) == -3.0f);
  CHECK(round_to_bfloat16(0.1f) == 0.10009765625f);
  CHECK((bits(round_to_bfloat16(0.3f)) & 0xffffu) == 0);
  CHECK(std::isnan(round_to_bfloat16(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isinf(round_to_bfloat16(std::numeric_limits<float>::max())));  // rounds past bfloat16's largest
  CHECK(round_to_bfloat16(std::numeric_limits<float>::infinity()) == std::numeric_limits<float>::infinity());
  // A NaN whose payload lies only in the low half: cutting that half would leave an infinity, so
  // it comes out a quiet NaN of the same sign that bfloat16 can hold.
  for (const uint32_t nan : {0x7f800001u, 0xff80ffffu, 0x7fc00000u}) {
    float x;
    std::memcpy(&x, &nan, sizeof x);
    const float r = round_to_bfloat16(x);
    INFO(nan);
    CHECK(std::isnan(r));
    CHECK((bits(r) & 0xffffu) == 0);
    CHECK((bits(r) >> 31) == (nan >> 31));
  }
}

TEST_CASE("mixed_bfloat16: the weights' converted copy is made once per pass and reused until the next",
          "[precision][gemm]") {
  // Forward (x W) and input gradient (dY W^T) read the same weights W (7 x 5).
  const GemmShape forward{false, false, 4, 5, 7, 7, 5, 5, false}, input_grad{false, true, 4, 7, 5, 5, 5, 7, false};
  GemmPlan plan;
  plan.add(forward);
  plan.add(input_grad);
  GemmOptions options;
  options.bfloat16 = true;
  options.emulate_bfloat16 = bfloat16_unsupported_reason().size() > 0;
  plan.choose(options);
  std::vector<float> weights(3 + 35), x(28), dy(20), c(28), c_kept(28);
  float* w = weights.data() + 3;  // not at the start of the range
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.37f * static_cast<float>(i % 11) - 1.3f + 1e-3f * static_cast<float>(i);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.21f * static_cast<float>(i % 7) - 0.6f + 1e-3f * static_cast<float>(i);
  for (size_t i = 0; i < dy.size(); ++i) dy[i] = 0.13f * static_cast<float>(i % 5) - 0.3f + 1e-3f * static_cast<float>(i);
  GemmRunner plain(&plan), kept(&plan);
  kept.keep_converted(weights.data(), weights.data() + weights.size());
  // What a runner allocates, as the plan reports it for the memory figures: the rounded operands
  // (the largest A is x, 28 floats; the largest B is W, 35), the kept copy of the 38 weights and
  // room to hold an operand as large as the largest A (28).
  if (options.emulate_bfloat16)
    CHECK(plan.runner_bytes(38) == 1 + (28 + 35) * 4 + (38 + 28) * 4);
  else
    CHECK(plan.runner_bytes(38) >= (28 + 35) * 6 + (38 + 28) * 2);
  const auto same = [](const std::vector<float>& p, const std::vector<float>& q) {
    return std::memcmp(p.data(), q.data(), p.size() * sizeof(float)) == 0;
  };
  // The same bits as converting on every product, for both products of a pass.
  kept.new_pass();
  plain.run(forward, x.data(), w, c.data());
  kept.run(forward, x.data(), w, c_kept.data());
  CHECK(same(c, c_kept));
  plain.run(input_grad, dy.data(), w, c.data());
  kept.run(input_grad, dy.data(), w, c_kept.data());
  CHECK(same(c, c_kept));
  // Within a pass the copy is not made again: a change to the weights is not seen...
  const std::vector<float> before = c_kept;
  for (int i = 0; i < 35; ++i) w[i] *= 2.0f;
  kept.run(input_grad, dy.data(), w, c_kept.data());
  CHECK(same(c_kept, before));
  // ...until the next pass, which converts them again.
  kept.new_pass();
  kept.run(input_grad, dy.data(), w, c_kept.data());
  plain.run(input_grad, dy.data(), w, c.data());
  CHECK(same(c, c_kept));
  CHECK(!same(c_kept, before));
  // An operand outside the range is converted on every product.
  std::vector<float> other(w, w + 35);
  kept.run(forward, x.data(), other.data(), c_kept.data());
  plain.run(forward, x.data(), other.data(), c.data());
  CHECK(same(c, c_kept));
  for (auto& v : other) v *= 0.5f;
  kept.run(forward, x.data(), other.data(), c_kept.data());
  plain.run(forward, x.data(), other.data(), c.data());
  CHECK(same(c, c_kept));
}

TEST_CASE("mixed_bfloat16: an op's output converted as it is written, and an operand held for one op, give the same bits",
          "[precision][gemm]") {
  // A dense layer's forward (X W) and kernel gradient (X^T dZ) read X; its input gradient
  // (dZ W^T) and kernel gradient read dZ. X (4 x 7) lies in a kept range (a training executor's
  // activations), dZ (4 x 5) outside it (an op's scratch).
  const GemmShape forward{false, false, 4, 5, 7, 7, 5, 5, false}, kernel_grad{true, false, 7, 5, 4, 7, 5, 5, false},
      input_grad{false, true, 4, 7, 5, 5, 5, 7, false};
  const GemmPlan plan = bfloat16_plan({forward, kernel_grad, input_grad});
  std::vector<float> activations = ramp(2 + 28, 0.21f, 7, -0.6f), w = ramp(35, 0.37f, 11, -1.3f), dz = ramp(20, 0.13f, 5, -0.3f);
  float* x = activations.data() + 2;
  std::vector<float> c(35), c_plain(35);
  GemmRunner plain(&plan), runner(&plan);
  runner.keep_converted(activations.data(), activations.data() + activations.size());
  runner.new_pass();
  // X is written in two blocks (rows 0-2, then row 3), each converted right after.
  using For = GemmRunner::ConvertedFor;
  REQUIRE(runner.begin_converted(x, 28, For::kLaterOps));
  runner.convert_block(x, 21);
  runner.convert_block(x + 21, 7);
  runner.end_op();
  runner.run(forward, x, w.data(), c.data());
  plain.run(forward, x, w.data(), c_plain.data());
  CHECK(same_bits(c, c_plain));
  // The copy is current for the pass: a product later in the pass reads it, not X's values now.
  const std::vector<float> x_before(x, x + 28);
  for (int i = 0; i < 28; ++i) x[i] += 0.25f;
  runner.run(kernel_grad, x, dz.data(), c.data());
  plain.run(kernel_grad, x_before.data(), dz.data(), c_plain.data());
  CHECK(same_bits(c, c_plain));
  runner.new_pass();  // the next pass sees the new values
  runner.run(kernel_grad, x, dz.data(), c.data());
  plain.run(kernel_grad, x, dz.data(), c_plain.data());
  CHECK(same_bits(c, c_plain));
  // Outside the kept ranges an output for later ops is not converted ahead (nothing would keep
  // the copy); an operand of the op's own products is held until the op ends.
  CHECK(!runner.begin_converted(dz.data(), 20, For::kLaterOps));
  REQUIRE(runner.begin_converted(dz.data(), 20, For::kThisOp));
  runner.convert_block(dz.data(), 20);
  const std::vector<float> dz_before = dz;
  for (auto& v : dz) v *= -2.0f;  // an op breaking its promise, to see which values are read
  runner.run(input_grad, dz.data(), w.data(), c.data());
  plain.run(input_grad, dz_before.data(), w.data(), c_plain.data());
  CHECK(same_bits(c, c_plain));
  runner.end_op();
  runner.run(input_grad, dz.data(), w.data(), c.data());
  plain.run(input_grad, dz.data(), w.data(), c_plain.data());
  CHECK(same_bits(c, c_plain));
  // A block outside what begin_converted named is a programming error, reported.
  REQUIRE(runner.begin_converted(dz.data(), 8, For::kThisOp));
  CHECK_THROWS_AS(runner.convert_block(dz.data() + 4, 8), RuntimeFailure);
  runner.end_op();
  // An operand larger than every declared A has no room to be held.
  std::vector<float> big(29);
  CHECK(!runner.begin_converted(big.data(), big.size(), For::kThisOp));
}

TEST_CASE("mixed_bfloat16 with reuse_conversions off converts every operand of every product", "[precision][gemm]") {
  const GemmShape forward{false, false, 4, 5, 7, 7, 5, 5, false};
  const GemmPlan off = bfloat16_plan({forward}, false), on = bfloat16_plan({forward});
  std::vector<float> weights = ramp(35, 0.37f, 11, -1.3f), x = ramp(28, 0.21f, 7, -0.6f), c(20), c_plain(20);
  GemmRunner runner(&off);
  runner.keep_converted(weights.data(), weights.data() + weights.size());
  CHECK(!runner.begin_converted(x.data(), 28, GemmRunner::ConvertedFor::kThisOp));
  runner.new_pass();
  runner.run(forward, x.data(), weights.data(), c.data());
  const std::vector<float> first = c;
  for (auto& v : weights) v *= 2.0f;  // seen at once: no copy is kept
  runner.run(forward, x.data(), weights.data(), c.data());
  GemmRunner fresh(&off);
  fresh.run(forward, x.data(), weights.data(), c_plain.data());
  CHECK(same_bits(c, c_plain));
  CHECK(!same_bits(c, first));
  // Memory: no kept copies and no room to hold (A is 28 floats, B 35; emulated: rounded floats).
  if (emulated()) {
    CHECK(off.runner_bytes(1000) == 1 + (28 + 35) * 4);
    CHECK(on.runner_bytes(1000) == 1 + (28 + 35) * 4 + (1000 + 28) * 4);
  }
}

TEST_CASE("mixed_bfloat16: a training step converts each weight, activation and gradient once", "[precision][gemm]") {
  TempDir d;
  const std::string text = R"(version: 1
data: {synthetic: {rows: 40, features: 20, classes: 3, seed: 7}}
input: [20]
layers:
  - {type: dense, units: 16, activation: relu}
  - {type: dense, units: 8}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
optimizer: {type: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 10, seed: 2, precision: mixed_bfloat16}
)";
  for (const bool reuse : {true, false}) {
    const auto counts = conversions_per_step(d.write("m.yaml", text), reuse, 10, 2);
    const auto& first = counts[0];
    INFO("reuse " << reuse);
    if (reuse) {
      // By products: the weights (20x16 + 16x8 + 8x3 = 472) and the model's input (10x20), once
      // each; the first layer's kernel gradient reuses the input's copy. As they are written:
      // the hidden layers' outputs (10x16, 10x8; the next layer's forward and kernel gradient
      // reuse them; the last layer's output feeds no product and is not converted) and each
      // layer's dZ (10x3, 10x8, 10x16; its two products share it).
      CHECK(first.by_products == 472 + 200);
      CHECK(first.while_written == (160 + 80) + (30 + 80 + 160));
    } else {
      // Every product converts both operands: forward (200+320) + (160+128) + (80+24); backward
      // kernel and input gradients (80+30) + (30+24), (160+80) + (80+128), and (200+160) for the
      // first layer, whose input needs no gradient.
      CHECK(first.by_products == 912 + 972);
      CHECK(first.while_written == 0);
    }
    // The next step converts the updated weights again, and nothing more.
    CHECK(counts[1].by_products == 2 * first.by_products);
    CHECK(counts[1].while_written == 2 * first.while_written);
  }
}

TEST_CASE("mixed_bfloat16: a convolution on im2col converts its columns once, as im2col writes them, for both products, and run direct "
          "it converts nothing through the runner",
          "[precision][gemm]") {
  TempDir d;
  // conv2d: K = 2x3x3 = 18 rows of columns, N = 5 samples x 4x4 positions = 80, 4 filters.
  const std::string text = R"(version: 1
data: {synthetic: {rows: 20, shape: [2, 6, 6], classes: 3, seed: 7}}
input: [2, 6, 6]
layers:
  - {type: conv2d, filters: 4, kernel_size: 3, activation: relu}
  - {type: flatten}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
optimizer: {type: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 5, seed: 2, precision: mixed_bfloat16}
)";
  const std::string path = d.write("m.yaml", text);
  for (const bool reuse : {true, false}) {
    const auto c = conversions_per_step(path, reuse, 5, 1, false)[0];
    INFO("reuse " << reuse);
    if (reuse) {
      // By products: the kernels (4x18 + 64x3) and the dense layer's input (5x64, reused by its
      // kernel gradient). As written: the columns (18x80, read by the forward product and the
      // kernel gradient's, a pass apart), the dense layer's dZ (5x3) and the convolution's dZ
      // (4x80, gathered for its kernel gradient; the first layer's input needs no gradient).
      CHECK(c.by_products == (72 + 192) + 320);
      CHECK(c.while_written == 1440 + 15 + 320);
    } else {
      // Both operands of every product: conv forward (72+1440), dense forward (320+192), dense
      // kernel and input gradients (320+15) + (15+192), conv kernel gradient (320+1440).
      CHECK(c.by_products == 1512 + 512 + 335 + 207 + 1760);
      CHECK(c.while_written == 0);
    }
  }
  if (emulated()) return;  // emulated mixed_bfloat16 keeps im2col
  // Direct (oneDNN converts inside its reorders): only the dense layer's operands, its kernel and
  // input by products, its dZ as written.
  const auto c = conversions_per_step(path, true, 5, 1)[0];
  CHECK(c.by_products == 192 + 320);
  CHECK(c.while_written == 15);
}

TEST_CASE("mixed_bfloat16 inference: copies kept in an arena shared by liveness are dropped when their place is rewritten",
          "[precision][gemm]") {
  // Forward only, the arena shares places: tanh's output takes the place of an earlier value of
  // its size that was converted (the model input, or the first layer's output), and the dense
  // layer after it reads it through a product. That earlier copy must not stand in for it.
  TempDir d;
  const std::string text = R"(version: 1
data: {synthetic: {rows: 40, features: 8, classes: 3, seed: 7}}
input: [8]
layers:
  - {type: dense, units: 8, activation: relu, name: d1}
  - {type: dense, units: 8, activation: relu, name: d2}
  - {type: tanh, name: t}
  - {type: dense, units: 8, use_bias: false, name: d3}
  - {type: dense, units: 3, name: d4}
loss: sparse_categorical_crossentropy
optimizer: {type: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 10, seed: 2, precision: mixed_bfloat16}
)";
  const auto path = d.write("m.yaml", text);
  std::vector<std::vector<float>> outputs;
  std::vector<GemmRunner::Conversions> counts;
  for (const bool reuse : {true, false}) {
    BuildOptions build;
    build.gemm.emulate_bfloat16 = emulated();
    build.gemm.reuse_conversions = reuse;
    Experiment ex = build_experiment(load_model_spec(path), true, build);
    const auto offset = [&](const std::string& name) {
      for (const auto& n : ex.graph.nodes())
        if (n.name == name) return n.inference_offset;
      FAIL("no node " << name);
      return int64_t{-1};
    };
    const auto& input = ex.graph.nodes()[CompiledGraph::kInputNode];
    REQUIRE((offset("t") == input.inference_offset || offset("t") == offset("d1")));
    Executor exec(ex.graph, ex.weights, 1, ExecutorMode::kInference);
    for (const float scale : {1.0f, -0.5f}) {  // two passes, different inputs
      const std::vector<float> x = ramp(80, 0.3f * scale, 7, -0.9f * scale);
      std::copy(x.begin(), x.end(), exec.input());
      exec.forward(10, false);
      outputs.emplace_back(exec.output(), exec.output() + 30);
    }
    counts.push_back(exec.gemm_runner().conversions());
  }
  CHECK(same_bits(outputs[0], outputs[2]));
  CHECK(same_bits(outputs[1], outputs[3]));
  CHECK(!same_bits(outputs[0], outputs[1]));
  // Per pass, with reuse: by products the weights (64 x 3 + 24), the input, tanh's output and
  // d3's (which has no elementwise pass to convert it in); as written, d1's output, which d2's
  // product reads (d2's feeds tanh and d4's nothing: neither is converted). Without: every
  // operand of every product, (80 + 64) x 3 + 80 + 24.
  CHECK(counts[0].by_products == 2 * (216 + 80 + 80 + 80));
  CHECK(counts[0].while_written == 2 * 80);
  CHECK(counts[1].by_products == 2 * 536);
  CHECK(counts[1].while_written == 0);
}

TEST_CASE("the memory limit counts mixed_bfloat16's converted copies, known once the products are chosen",
          "[precision][hardening]") {
  TempDir d;
  const auto planned = [&](const std::string& precision, int64_t limit) {
    BuildOptions build;
    build.memory_limit = limit;
    build.gemm.emulate_bfloat16 = emulated();
    return training_memory(build_experiment(load_model_spec(model(d, precision)), true, build).graph);
  };
  const int64_t f32 = planned("float32", 0), bf16 = planned("mixed_bfloat16", 0);
  // The copies of the weights and activations, and room for the operands: more than float32's plan.
  REQUIRE(bf16 > f32);
  const int64_t between = (f32 + bf16) / 2;
  CHECK(planned("float32", between) == f32);
  try {
    planned("mixed_bfloat16", between);
    FAIL("a mixed_bfloat16 plan above the limit was built");
  } catch (const MemoryLimitExceeded& e) {
    CHECK_THAT(e.what(), Contains("the matrix products' buffers"));
  }
  CHECK(planned("mixed_bfloat16", bf16) == bf16);
}

TEST_CASE("mixed_bfloat16 training: reusing converted copies changes no bit of the history or the weights",
          "[precision][training]") {
  // Fused activations with and without bias, one that keeps its pre-activation (gelu), a
  // separate activation layer, a layer with no input gradient, a convolution, and a short last
  // batch (450 training rows in batches of 200: its products are not the declared ones).
  const char* models[] = {
      R"(version: 1
data: {synthetic: {rows: 600, features: 40, classes: 3, seed: 7}}
input: [40]
layers:
  - {type: dense, units: 64, activation: relu}
  - {type: dense, units: 48, activation: gelu, use_bias: false}
  - {type: dense, units: 32}
  - {type: tanh}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
metrics: [accuracy]
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 3, batch_size: 200, validation_split: 0.25, seed: 2, precision: mixed_bfloat16}
)",
      R"(version: 1
data: {synthetic: {rows: 192, shape: [2, 10, 10], classes: 3, seed: 5}}
input: [2, 10, 10]
layers:
  - {type: conv2d, filters: 6, kernel_size: 3, activation: relu}
  - {type: flatten}
  - {type: dense, units: 16, activation: silu}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
metrics: [accuracy]
optimizer: {type: adam, lr: 0.01}
train: {epochs: 2, batch_size: 40, validation_split: 0.25, seed: 3, precision: mixed_bfloat16}
)"};
  TempDir d;
  for (const char* text : models) {
    const std::string path = d.write("m.yaml", text);
    std::vector<float> w_reuse, w_plain;
    const RunResult reuse = train(path, emulated(), true, &w_reuse);
    const RunResult plain = train(path, emulated(), false, &w_plain);
    REQUIRE(reuse.history.epochs.size() == plain.history.epochs.size());
    for (size_t e = 0; e < reuse.history.epochs.size(); ++e)
      CHECK(reuse.history.epochs[e].logs.values == plain.history.epochs[e].logs.values);
    CHECK(same_bits(w_reuse, w_plain));
    // ...and the float32 run differs: the products really were in bfloat16.
    std::string f32 = text;
    f32.replace(f32.find("mixed_bfloat16"), 14, "float32");
    std::vector<float> w_f32;
    train(d.write("f32.yaml", f32), false, true, &w_f32);
    CHECK(!same_bits(w_reuse, w_f32));
  }
}

TEST_CASE("mixed_bfloat16 products equal float32 products of the rounded inputs", "[precision][gemm]") {
  const GemmShape shapes[] = {{false, false, 9, 7, 33, 33, 7, 7, false}, {true, false, 33, 7, 9, 33, 7, 7, false},
                              {false, true, 9, 33, 7, 7, 7, 33, true}};
  GemmPlan plan;
  for (const auto& s : shapes) plan.add(s);
  GemmOptions options;
  options.bfloat16 = true;
  options.emulate_bfloat16 = bfloat16_unsupported_reason().size() > 0;
  plan.choose(options);
  CHECK(plan.bfloat16());
  GemmRunner runner(&plan);
  uint32_t seed = 11;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(seed >> 8) / 16777216.0f * 2 - 1;
  };
  GemmShape undeclared = shapes[0];
  undeclared.m = 4;  // a short last batch: rounded as well
  for (const GemmShape& s : {shapes[0], shapes[1], shapes[2], undeclared}) {
    INFO(s.str());
    std::vector<float> a(static_cast<size_t>((s.trans_a ? s.k : s.m) * s.lda)), b(static_cast<size_t>((s.trans_b ? s.n : s.k) * s.ldb)),
        c(static_cast<size_t>(s.m * s.ldc));
    for (auto& x : a) x = next();
    for (auto& x : b) x = next();
    for (auto& x : c) x = next();
    std::vector<double> want(c.size()), unrounded(c.size());
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        double sum = s.accumulate ? c[static_cast<size_t>(i * s.ldc + j)] : 0.0, raw = sum;
        for (int64_t p = 0; p < s.k; ++p) {
          const float x = s.trans_a ? a[static_cast<size_t>(p * s.lda + i)] : a[static_cast<size_t>(i * s.lda + p)];
          const float y = s.trans_b ? b[static_cast<size_t>(j * s.ldb + p)] : b[static_cast<size_t>(p * s.ldb + j)];
          sum += static_cast<double>(round_to_bfloat16(x)) * round_to_bfloat16(y);
          raw += static_cast<double>(x) * y;
        }
        want[static_cast<size_t>(i * s.ldc + j)] = sum;
        unrounded[static_cast<size_t>(i * s.ldc + j)] = raw;
      }
    runner.run(s, a.data(), b.data(), c.data());
    double off_float32 = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      REQUIRE(std::fabs(c[i] - want[i]) <= 1e-5 * (1 + std::fabs(want[i])));
      off_float32 = std::max(off_float32, std::fabs(c[i] - unrounded[i]));
    }
    CHECK(off_float32 > 1e-4);  // the inputs really were rounded
  }
}

TEST_CASE("mixed_bfloat16 on a CPU without bfloat16 support is refused at the spec, naming what is missing",
          "[precision][cli]") {
  TempDir d;
  const std::string path = model(d, "mixed_bfloat16");
  const std::string missing = bfloat16_unsupported_reason();
  if (missing.empty()) {  // a CPU with bfloat16 support: it builds, every product on oneDNN in bfloat16
    Experiment ex = build_experiment(load_model_spec(path));
    for (const auto& c : ex.graph.gemm_plan().choices()) CHECK(c.backend == GemmBackend::kOneDnnBf16);
    return;
  }
  try {
    build_experiment(load_model_spec(path));
    FAIL("mixed_bfloat16 was not refused");
  } catch (const Bfloat16Unsupported& e) {
    CHECK_THAT(e.what(), Contains(path + ":10:"));
    CHECK_THAT(e.what(), Contains("lacks"));
  }
  const auto r = run_cli("train " + model(d, "float32") + " --precision mixed_bfloat16");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("has no bfloat16 support for oneDNN"));
  CHECK_THAT(r.err, Contains("avx512"));
  CHECK_THAT(r.err, Contains("(--emulate-bf16 does, with no speed-up)"));
  const auto bad = run_cli("train " + model(d, "half"));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("half.yaml:10:"));
  CHECK_THAT(bad.err, Contains("'precision' is 'half', expected float32 or mixed_bfloat16"));
}

TEST_CASE("training in mixed_bfloat16 reaches float32's accuracy, differs from it, and repeats itself", "[precision][training]") {
  TempDir d;
  const bool emulate = !bfloat16_unsupported_reason().empty();
  const RunResult f32 = train(model(d, "float32"), false);
  const RunResult bf16 = train(model(d, "mixed_bfloat16"), emulate);
  const RunResult again = train(model(d, "mixed_bfloat16"), emulate);
  const auto& a = f32.history.epochs.back().logs;
  const auto& b = bf16.history.epochs.back().logs;
  CHECK(a.get("val_loss", 0) != b.get("val_loss", 0));  // the products really changed
  CHECK(std::fabs(a.get("val_accuracy", 0) - b.get("val_accuracy", 0)) <= 0.03);
  CHECK(b.get("val_accuracy", 0) > 0.7);  // it learns (3 classes: chance is 0.33)
  CHECK(std::fabs(a.get("val_loss", 0) - b.get("val_loss", 0)) < 0.05 * a.get("val_loss", 0) + 0.01);
  CHECK(b.get("val_loss", 0) == again.history.epochs.back().logs.get("val_loss", 0));
}

TEST_CASE("anneal check shows mixed_bfloat16's products, and --emulate-bf16 trains where the CPU cannot", "[precision][cli]") {
  TempDir d;
  const std::string path = model(d, "float32");
  const auto r = run_cli("check " + path + " --precision mixed_bfloat16 --emulate-bf16");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("bf16-emulated"));
  CHECK_THAT(r.out, Contains("decided by: mixed_bfloat16, emulated"));
  const auto t = run_cli("train " + path + " --precision mixed_bfloat16 --emulate-bf16 --epochs 2 --quiet");
  CHECK(t.exit_code == 0);
  const auto alone = run_cli("train " + path + " --emulate-bf16 --epochs 1 --quiet");
  CHECK(alone.exit_code == 0);
  CHECK_THAT(alone.err, Contains("bfloat16 emulation was asked for, but train.precision is float32: it changes nothing"));
}
