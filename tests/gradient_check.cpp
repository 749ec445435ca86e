#include "gradient_check.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "anneal/op.hpp"
#include "anneal/registry.hpp"
#include "anneal/rng.hpp"
#include "helpers.hpp"

namespace anneal::test {

std::vector<GradientCase>& gradient_cases() {
  static std::vector<GradientCase> cases;
  return cases;
}

bool register_gradient_case(GradientCase c) {
  gradient_cases().push_back(std::move(c));
  return true;
}

namespace {

struct Buffers {
  std::vector<std::vector<float>> inputs, input_grads, params, param_grads;
  std::vector<float> output, output_grad;
};

float draw(Rng& rng, InputFill fill) {
  switch (fill) {
    case InputFill::kPositive: return static_cast<float>(rng.uniform(0.1, 1.0));
    case InputFill::kSigned: return static_cast<float>(rng.uniform(-1.0, 1.0));
    case InputFill::kAwayFromZero: {
      const double magnitude = rng.uniform(0.1, 1.0);
      return static_cast<float>(rng.uniform() < 0.5 ? -magnitude : magnitude);
    }
  }
  return 0;
}

}  // namespace

GradientReport check_op_gradients(const GradientCase& c, uint64_t seed) {
  auto op = make_op(c.yaml);
  return check_gradients(*op, c, seed);
}

GradientReport check_gradients(Op& op_ref, const GradientCase& c, uint64_t seed) {
  Op* op = &op_ref;
  const Shape out_shape = op->infer_shape(c.inputs);
  const auto specs = op->param_specs(c.inputs);
  op->prepare(c.inputs, c.batch);

  Rng rng(seed, 99);
  Buffers b;
  for (const auto& s : c.inputs) {
    std::vector<float> x(static_cast<size_t>(c.batch * s.numel()));
    for (auto& v : x) v = draw(rng, c.fill);
    b.inputs.push_back(x);
    b.input_grads.emplace_back(x.size(), 0.0f);
  }
  for (const auto& p : specs) {
    std::vector<float> w(static_cast<size_t>(p.shape.numel()));
    for (auto& v : w) v = static_cast<float>(rng.uniform(-0.5, 0.5));
    b.params.push_back(w);
    // Garbage: an op must write its parameters' gradients, not add to what is there.
    b.param_grads.emplace_back(w.size(), std::numeric_limits<float>::quiet_NaN());
  }
  b.output.assign(static_cast<size_t>(c.batch * out_shape.numel()), 0.0f);
  b.output_grad.resize(b.output.size());
  std::vector<double> projection(b.output.size());
  for (size_t i = 0; i < projection.size(); ++i) {
    projection[i] = rng.normal();
    b.output_grad[i] = static_cast<float>(projection[i]);
  }

  std::vector<ConstTensorView> in_views;
  std::vector<TensorView> in_grad_views, param_views, param_grad_views;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    in_views.emplace_back(b.inputs[i].data(), c.inputs[i]);
    in_grad_views.push_back({b.input_grads[i].data(), c.inputs[i]});
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    param_views.push_back({b.params[i].data(), specs[i].shape});
    param_grad_views.push_back({b.param_grads[i].data(), specs[i].shape});
  }

  // Stochastic ops (dropout) see the same random stream on every evaluation.
  Rng op_rng(seed, 7);
  OpContext ctx;
  ctx.batch = c.batch;
  ctx.training = true;
  ctx.inputs = in_views;
  ctx.output = {b.output.data(), out_shape};
  ctx.params = param_views;
  ctx.output_grad = {b.output_grad.data(), out_shape};
  ctx.input_grads = in_grad_views;
  ctx.param_grads = param_grad_views;
  ctx.rng = &op_rng;
  auto objective = [&]() {
    op_rng = Rng(seed, 7);
    op->forward(ctx);
    double f = 0;
    for (size_t i = 0; i < b.output.size(); ++i) f += projection[i] * b.output[i];
    return f;
  };

  objective();
  op_rng = Rng(seed, 7);
  op->backward(ctx);

  GradientReport report;
  double diff2 = 0, analytic2 = 0, numeric2 = 0, worst = -1;
  auto compare = [&](std::vector<float>& values, const std::vector<float>& analytic, const std::string& label) {
    for (size_t i = 0; i < values.size(); ++i) {
      const float saved = values[i];
      const double eps = 1e-3 * std::max(1.0, std::abs(static_cast<double>(saved)));
      values[i] = static_cast<float>(saved + eps);
      const double up = objective();
      values[i] = static_cast<float>(saved - eps);
      const double down = objective();
      values[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      const double d = numeric - analytic[i];
      diff2 += d * d;
      analytic2 += static_cast<double>(analytic[i]) * analytic[i];
      numeric2 += numeric * numeric;
      ++report.checked;
      if (std::abs(d) > worst) {
        worst = std::abs(d);
        std::ostringstream ss;
        ss << label << " element " << i << ": analytic " << analytic[i] << ", numeric " << numeric;
        report.worst = ss.str();
      }
    }
  };
  for (size_t i = 0; i < b.inputs.size(); ++i) compare(b.inputs[i], b.input_grads[i], "input " + std::to_string(i));
  for (size_t i = 0; i < b.params.size(); ++i) compare(b.params[i], b.param_grads[i], "param '" + specs[i].name + "'");
  const double denom = std::sqrt(analytic2) + std::sqrt(numeric2);
  report.relative_error = denom == 0 ? 0 : std::sqrt(diff2) / denom;
  return report;
}

}  // namespace anneal::test
