// conv2d: attributes, Keras' output sizes and padding, golden values (by hand, and against a
// direct convolution in double), gradient checks across strides, padding, dilation, activations.
#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"
#include "anneal/rng.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("conv2d", "{type: conv2d, filters: 2, kernel_size: 3}", {Shape{2, 5, 5}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("conv2d", "{type: conv2d, filters: 3, kernel_size: [2, 3], padding: same, strides: 2}", {Shape{2, 5, 6}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("conv2d", "{type: conv2d, filters: 2, kernel_size: 2, dilation_rate: 2, padding: same, activation: tanh}", {Shape{1, 5, 5}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("conv2d", "{type: conv2d, filters: 2, kernel_size: 3, padding: same, activation: gelu, use_bias: false}", {Shape{2, 4, 4}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("conv2d", "{type: conv2d, filters: 2, kernel_size: 1, activation: relu}", {Shape{3, 3, 3}}, InputFill::kAwayFromZero, 2);

namespace {

struct ConvCase {
  int64_t c, h, w, f, kh, kw, sh, sw, dh, dw;
  bool same;
};

// A direct convolution in double, written from the definition (TensorFlow's padding rule).
std::vector<double> direct(const ConvCase& k, int64_t batch, const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>& b, int64_t& oh, int64_t& ow) {
  auto out_size = [&](int64_t in, int64_t ks, int64_t s, int64_t d, int64_t& pad) {
    const int64_t eff = (ks - 1) * d + 1;
    if (!k.same) {
      pad = 0;
      return (in - eff) / s + 1;
    }
    const int64_t out = (in + s - 1) / s;
    pad = std::max<int64_t>((out - 1) * s + eff - in, 0) / 2;
    return out;
  };
  int64_t pt, pl;
  oh = out_size(k.h, k.kh, k.sh, k.dh, pt);
  ow = out_size(k.w, k.kw, k.sw, k.dw, pl);
  std::vector<double> y(static_cast<size_t>(batch * k.f * oh * ow));
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t f = 0; f < k.f; ++f)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double s = b[static_cast<size_t>(f)];
          for (int64_t c = 0; c < k.c; ++c)
            for (int64_t u = 0; u < k.kh; ++u)
              for (int64_t v = 0; v < k.kw; ++v) {
                const int64_t r = i * k.sh - pt + u * k.dh, q = j * k.sw - pl + v * k.dw;
                if (r < 0 || r >= k.h || q < 0 || q >= k.w) continue;
                s += static_cast<double>(x[static_cast<size_t>(((n * k.c + c) * k.h + r) * k.w + q)]) *
                     w[static_cast<size_t>(((f * k.c + c) * k.kh + u) * k.kw + v)];
              }
          y[static_cast<size_t>(((n * k.f + f) * oh + i) * ow + j)] = s;
        }
  return y;
}

}  // namespace

TEST_CASE("conv2d rejects bad attributes and shapes", "[ops][conv2d]") {
  CHECK_THAT(op_error("{type: conv2d, kernel_size: 3}"), Contains("missing required key 'filters'"));
  CHECK_THAT(op_error("{type: conv2d, filters: 4}"), Contains("missing required key 'kernel_size'"));
  CHECK_THAT(op_error("{type: conv2d, filters: 4, kernel_size: [3, 3, 3]}"), Contains("'kernel_size' must be an integer or a pair"));
  CHECK_THAT(op_error("{type: conv2d, filters: 4, kernel_size: 0}"), Contains("'kernel_size' must be positive"));
  CHECK_THAT(op_error("{type: conv2d, filters: 4, kernel_size: 3, padding: full}"), Contains("expected valid or same"));
  CHECK_THAT(op_error("{type: conv2d, filters: 4, kernel_size: 3, strides: 2, dilation_rate: 2}"), Contains("cannot be combined with strides"));
  CHECK_THAT(op_error("{type: conv2d, filters: 4, kernel_size: 3, activation: dense}"), Contains("an op that is not an activation; expected one of"));
  CHECK_THAT(shape_error("{type: conv2d, filters: 4, kernel_size: 3}", {Shape{28}}), Contains("images [channels, height, width], got [28]"));
  CHECK_THAT(shape_error("{type: conv2d, filters: 4, kernel_size: 5}", {Shape{1, 4, 8}}), Contains("larger than the input (4)"));
}

TEST_CASE("conv2d infers Keras' output sizes and a [filters, C, kh, kw] kernel with Keras' fans", "[ops][conv2d]") {
  auto op = make_op("{type: conv2d, filters: 8, kernel_size: 3}");
  CHECK(op->infer_shape({Shape{3, 28, 28}}) == Shape{8, 26, 26});
  CHECK(make_op("{type: conv2d, filters: 8, kernel_size: 3, padding: same}")->infer_shape({Shape{3, 28, 28}}) == Shape{8, 28, 28});
  CHECK(make_op("{type: conv2d, filters: 8, kernel_size: 3, padding: same, strides: 2}")->infer_shape({Shape{3, 7, 8}}) == Shape{8, 4, 4});
  CHECK(make_op("{type: conv2d, filters: 8, kernel_size: 3, strides: 2}")->infer_shape({Shape{3, 7, 8}}) == Shape{8, 3, 3});
  CHECK(make_op("{type: conv2d, filters: 8, kernel_size: 3, dilation_rate: 2}")->infer_shape({Shape{3, 9, 9}}) == Shape{8, 5, 5});
  const auto params = op->param_specs({Shape{3, 28, 28}});
  REQUIRE(params.size() == 2);
  CHECK(params[0].shape == Shape{8, 3, 3, 3});
  REQUIRE(params[0].fans.has_value());
  CHECK(params[0].fans->in == 27);
  CHECK(params[0].fans->out == 72);
  CHECK(params[1].shape == Shape{8});
}

TEST_CASE("conv2d: a worked example by hand", "[ops][conv2d]") {
  // One 3x3 image, one 2x2 filter [[1, 0], [0, -1]], bias 0.5, valid: y = x[i][j] - x[i+1][j+1] + 0.5.
  const std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 10}, w{1, 0, 0, -1}, b{0.5f};
  const auto y = forward_values("{type: conv2d, filters: 1, kernel_size: 2}", {Shape{1, 3, 3}}, 1, {x}, {w, b});
  REQUIRE(y.size() == 4);
  CHECK(y[0] == Approx(1 - 5 + 0.5));
  CHECK(y[1] == Approx(2 - 6 + 0.5));
  CHECK(y[2] == Approx(4 - 8 + 0.5));
  CHECK(y[3] == Approx(5 - 10 + 0.5));
  // same padding pads bottom/right by one here (total 1, the smaller half before).
  const auto s = forward_values("{type: conv2d, filters: 1, kernel_size: 2, padding: same}", {Shape{1, 3, 3}}, 1, {x}, {w, b});
  REQUIRE(s.size() == 9);
  CHECK(s[2] == Approx(3 + 0.5));    // x[0][2] - (outside)
  CHECK(s[8] == Approx(10 + 0.5));   // x[2][2] only
}

TEST_CASE("conv2d matches a direct convolution in every geometry", "[ops][conv2d]") {
  const std::vector<ConvCase> cases{{1, 6, 6, 2, 3, 3, 1, 1, 1, 1, false}, {2, 7, 5, 3, 3, 2, 2, 1, 1, 1, true},
                                    {3, 8, 8, 2, 3, 3, 1, 1, 2, 2, true},  {2, 6, 7, 4, 1, 1, 2, 2, 1, 1, false},
                                    {1, 5, 5, 1, 5, 5, 1, 1, 1, 1, true},  {2, 9, 4, 2, 4, 2, 3, 2, 1, 1, true}};
  Rng rng(5, 0);
  for (const auto& k : cases) {
    const int64_t batch = 3;
    std::vector<float> x(static_cast<size_t>(batch * k.c * k.h * k.w)), w(static_cast<size_t>(k.f * k.c * k.kh * k.kw)),
        b(static_cast<size_t>(k.f));
    for (auto* v : {&x, &w, &b})
      for (auto& e : *v) e = static_cast<float>(rng.uniform(-1, 1));
    const std::string yaml = "{type: conv2d, filters: " + std::to_string(k.f) + ", kernel_size: [" + std::to_string(k.kh) +
                             ", " + std::to_string(k.kw) + "], strides: [" + std::to_string(k.sh) + ", " + std::to_string(k.sw) +
                             "], dilation_rate: [" + std::to_string(k.dh) + ", " + std::to_string(k.dw) + "], padding: " +
                             (k.same ? "same" : "valid") + "}";
    INFO(yaml);
    int64_t oh = 0, ow = 0;
    const auto expected = direct(k, batch, x, w, b, oh, ow);
    const auto y = forward_values(yaml, {Shape{k.c, k.h, k.w}}, batch, {x}, {w, b});
    CHECK(make_op(yaml)->infer_shape({Shape{k.c, k.h, k.w}}) == Shape{k.f, oh, ow});
    REQUIRE(y.size() == expected.size());
    for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(expected[i]).margin(1e-5));
  }
}

namespace {

// The largest difference between two lists of values, each measured against 1 + |expected|.
double worst_relative(const std::vector<float>& got, const std::vector<float>& expected) {
  REQUIRE(got.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(double(got[i]) - expected[i]) / (1.0 + std::fabs(double(expected[i]))));
  return worst;
}

// n values drawn uniformly from [-1, 1).
std::vector<float> random_values(Rng& rng, int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& e : x) e = static_cast<float>(rng.uniform(-1, 1));
  return x;
}

// A plan holding the op's convolution at `batch`, as the compiler declares it, chosen with `options`.
GemmPlan conv_plan(const Op& op, int64_t batch, const GemmOptions& options) {
  GemmPlan plan;
  for (const ConvShape& c : op.convolutions(batch)) plan.add(c, op.gemms(batch));
  plan.choose(options);
  return plan;
}

}  // namespace

TEST_CASE("conv2d run direct on oneDNN gives its im2col path's values in every geometry, in float32 and mixed_bfloat16",
          "[ops][conv2d][gemm]") {
  if (!onednn_available()) {
    WARN("no oneDNN in this build: conv2d has only its im2col path");
    return;
  }
  const std::vector<ConvCase> cases{{1, 6, 6, 2, 3, 3, 1, 1, 1, 1, false}, {2, 7, 5, 3, 3, 2, 2, 1, 1, 1, true},
                                    {3, 8, 8, 2, 3, 3, 1, 1, 2, 2, true},  {2, 6, 7, 4, 1, 1, 2, 2, 1, 1, false},
                                    {1, 5, 5, 1, 5, 5, 1, 1, 1, 1, true},  {2, 9, 4, 2, 4, 2, 3, 2, 1, 1, true},
                                    {3, 10, 9, 17, 3, 3, 2, 2, 1, 1, false},
                                    // The bench net's layers (channels in whole blocks of 16), and a
                                    // partial block: their outputs and gradients are converted to
                                    // and from oneDNN's layouts in the op's passes.
                                    {1, 28, 28, 32, 3, 3, 1, 1, 1, 1, true}, {32, 14, 14, 64, 3, 3, 1, 1, 1, 1, true},
                                    {3, 9, 11, 20, 3, 3, 1, 1, 1, 1, true}};
  const bool bfloat16 = bfloat16_unsupported_reason().empty();
  const char* activations[] = {"relu", "tanh", "linear", "gelu"};
  Rng rng(11, 0);
  int run = 0;
  for (const auto& k : cases) {
    const int64_t batch = 3;
    const std::string activation = activations[run % 4];
    const std::string yaml = "{type: conv2d, filters: " + std::to_string(k.f) + ", kernel_size: [" + std::to_string(k.kh) + ", " +
                             std::to_string(k.kw) + "], strides: [" + std::to_string(k.sh) + ", " + std::to_string(k.sw) +
                             "], dilation_rate: [" + std::to_string(k.dh) + ", " + std::to_string(k.dw) + "], padding: " +
                             (k.same ? "same" : "valid") + ", activation: " + activation + ", use_bias: " + (run % 2 ? "false" : "true") + "}";
    ++run;
    INFO(yaml);
    auto op = make_op(yaml);
    const std::vector<Shape> shapes{Shape{k.c, k.h, k.w}};
    const Shape out = op->infer_shape(shapes);
    op->prepare(shapes);
    PassValues v;
    v.inputs = {random_values(rng, batch * shapes[0].numel())};
    for (const auto& p : op->param_specs(shapes)) v.params.push_back(random_values(rng, p.shape.numel()));
    v.input_grads = {random_values(rng, batch * shapes[0].numel())};  // backward adds to what is there
    v.output_grad = random_values(rng, batch * out.numel());

    for (const bool bf16 : {false, true}) {
      if (bf16 && !bfloat16) continue;
      INFO((bf16 ? "mixed_bfloat16" : "float32"));
      GemmOptions direct_options, reference_options;
      direct_options.policy = GemmPolicy::kOneDnn;
      direct_options.bfloat16 = bf16;
      // The reference: the im2col path with the same roundings (mixed_bfloat16's emulation rounds
      // each product's inputs to bfloat16, as oneDNN's kernels read them).
      reference_options.bfloat16 = reference_options.emulate_bfloat16 = bf16;
      const GemmPlan direct = conv_plan(*op, batch, direct_options), reference = conv_plan(*op, batch, reference_options);
      REQUIRE(direct.convolutions().size() == 1);
      REQUIRE(direct.convolutions()[0].direct);
      CHECK_FALSE(reference.convolutions()[0].direct);
      // Only the products the op runs: none left for a convolution that runs direct.
      CHECK(direct.choices().empty());
      CHECK(reference.choices().size() == 3);
      GemmRunner on_direct(&direct), on_reference(&reference);
      const PassResult want = run_pass(*op, shapes, batch, v, bf16 ? &on_reference : nullptr);
      const PassResult got = run_pass(*op, shapes, batch, v, &on_direct);
      const double tolerance = bf16 ? 1e-4 : 1e-5;
      CHECK(worst_relative(got.output, want.output) < tolerance);
      for (size_t i = 0; i < want.param_grads.size(); ++i) CHECK(worst_relative(got.param_grads[i], want.param_grads[i]) < tolerance);
      CHECK(worst_relative(got.input_grads[0], want.input_grads[0]) < tolerance);
      // The same bits every time, and on two threads (the passes split the planes, each
      // filter's bias sum stays in sample order).
      const PassResult again = run_pass(*op, shapes, batch, v, &on_direct);
      CHECK(again.output == got.output);
      CHECK(again.param_grads == got.param_grads);
      CHECK(again.input_grads == got.input_grads);
      const PassResult split = run_pass(*op, shapes, batch, v, &on_direct, 2);
      CHECK(split.output == got.output);
      CHECK(split.param_grads == got.param_grads);
      CHECK(split.input_grads == got.input_grads);
      if (k.f >= 16) CHECK_THAT(direct.convolutions()[0].implementation, Contains("converted in the op's passes"));
      // The differences are the summation order's, not a lost rounding: mixed_bfloat16 direct is
      // far from float32's im2col.
      if (bf16) CHECK(worst_relative(got.output, run_pass(*op, shapes, batch, v, nullptr).output) > 1e-4);
    }
  }
}

TEST_CASE("conv2d takes its im2col path at a batch its direct convolution was not planned for, and without a runner",
          "[ops][conv2d][gemm]") {
  if (!onednn_available()) {
    WARN("no oneDNN in this build: conv2d has only its im2col path");
    return;
  }
  auto op = make_op("{type: conv2d, filters: 4, kernel_size: 3, padding: same, activation: relu}");
  const std::vector<Shape> shapes{Shape{2, 6, 6}};
  const Shape out = op->infer_shape(shapes);
  op->prepare(shapes);
  GemmOptions options;
  options.policy = GemmPolicy::kOneDnn;
  const GemmPlan plan = conv_plan(*op, 8, options);  // planned for batch 8
  REQUIRE(plan.convolutions()[0].direct);
  GemmRunner runner(&plan);
  const int64_t batch = 5;  // a short last batch
  Rng rng(3, 0);
  PassValues v;
  v.inputs = {random_values(rng, batch * shapes[0].numel())};
  v.params = {random_values(rng, 4 * 2 * 9), random_values(rng, 4)};
  v.input_grads = {random_values(rng, batch * shapes[0].numel())};
  v.output_grad = random_values(rng, batch * out.numel());
  // Its products are not planned either (the plan dropped them): they run on OpenBLAS, the same
  // bits as without a runner.
  const PassResult short_batch = run_pass(*op, shapes, batch, v, &runner), no_runner = run_pass(*op, shapes, batch, v, nullptr);
  CHECK(short_batch.output == no_runner.output);
  CHECK(short_batch.param_grads == no_runner.param_grads);
  CHECK(short_batch.input_grads == no_runner.input_grads);
  // Asking the runner for a convolution it has no plan for is a bug in the op, said as such.
  ConvShape unplanned = op->convolutions(batch)[0];
  std::vector<float> x(static_cast<size_t>(batch * 72)), w(72), y(static_cast<size_t>(batch * 144));
  CHECK_THROWS_WITH(runner.convolve_forward(unplanned, x.data(), w.data(), y.data()), Contains("is not planned to run direct"));
}
