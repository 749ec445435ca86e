#include "anneal/testing/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "anneal/registry.hpp"
#include "anneal/rng.hpp"
#include "anneal/spec.hpp"

namespace anneal::testing {

std::vector<GradientCase>& gradient_cases() {
  static std::vector<GradientCase> cases;
  return cases;
}

bool register_gradient_case(GradientCase c) {
  gradient_cases().push_back(std::move(c));
  return true;
}

AttrMap attrs_from(const std::string& yaml, const std::string& what) {
  auto origin = std::make_shared<SpecOrigin>(SpecOrigin{"test.yaml", {}, {}});
  return typed_attrs(YAML::Load(yaml), origin, "", what);
}

std::unique_ptr<Op> make_op(const std::string& yaml) {
  AttrMap attrs = attrs_from(yaml, "op");
  return create_from<OpRegistry>(attrs, "op");
}

std::string op_error(const std::string& yaml) {
  try {
    make_op(yaml);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

std::string shape_error(const std::string& yaml, const std::vector<Shape>& inputs) {
  auto op = make_op(yaml);
  try {
    op->infer_shape(inputs);
  } catch (const ShapeMismatch& e) {
    return e.what();
  }
  return "";
}

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

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

// Every buffer an op needs, laid out as an executor would, and the views over them.
struct Harness {
  Harness(Op& op, const std::vector<Shape>& shapes, int64_t batch) : op(op), shapes(shapes), batch(batch) {
    out_shape = op.infer_shape(shapes);
    op.prepare(shapes);
    param_specs = op.param_specs(shapes);
    for (const auto& s : op.state_specs(shapes)) state.emplace_back(static_cast<size_t>(s.shape.numel()), s.initial), state_shapes.push_back(s.shape);
    const Workspace w = op.workspace(batch);
    saved.assign(static_cast<size_t>(w.saved), kNaN);
    scratch.assign(static_cast<size_t>(w.scratch), kNaN);
    for (const auto& s : shapes) {
      inputs.emplace_back(static_cast<size_t>(batch * s.numel()), 0.0f);
      input_grads.emplace_back(inputs.back().size(), 0.0f);
    }
    for (const auto& p : param_specs) {
      params.emplace_back(static_cast<size_t>(p.shape.numel()), 0.0f);
      param_grads.emplace_back(params.back().size(), kNaN);
    }
    output.assign(static_cast<size_t>(batch * out_shape.numel()), 0.0f);
    output_grad.assign(output.size(), 0.0f);
  }

  OpContext context(bool training) {
    in_views.clear();
    in_grad_views.clear();
    param_views.clear();
    param_grad_views.clear();
    state_views.clear();
    for (size_t i = 0; i < shapes.size(); ++i) {
      in_views.emplace_back(inputs[i].data(), shapes[i]);
      in_grad_views.push_back({input_grads[i].data(), shapes[i]});
    }
    for (size_t i = 0; i < param_specs.size(); ++i) {
      param_views.push_back({params[i].data(), param_specs[i].shape});
      param_grad_views.push_back({param_grads[i].data(), param_specs[i].shape});
    }
    for (size_t i = 0; i < state.size(); ++i) state_views.push_back({state[i].data(), state_shapes[i]});
    OpContext ctx;
    ctx.batch = batch;
    ctx.training = training;
    ctx.inputs = in_views;
    ctx.output = {output.data(), out_shape};
    ctx.params = param_views;
    ctx.state = state_views;
    ctx.saved = saved;
    ctx.scratch = scratch;
    ctx.output_grad = {output_grad.data(), out_shape};
    ctx.input_grads = in_grad_views;
    ctx.param_grads = param_grad_views;
    return ctx;
  }
  void poison_scratch() { std::fill(scratch.begin(), scratch.end(), kNaN); }

  Op& op;
  std::vector<Shape> shapes;
  int64_t batch;
  Shape out_shape;
  std::vector<ParamSpec> param_specs;
  std::vector<Shape> state_shapes;
  std::vector<std::vector<float>> inputs, input_grads, params, param_grads, state;
  std::vector<float> saved, scratch, output, output_grad;
  std::vector<ConstTensorView> in_views;
  std::vector<TensorView> in_grad_views, param_views, param_grad_views, state_views;
};

}  // namespace

std::vector<float> forward_values(const std::string& yaml, const std::vector<Shape>& shapes, int64_t batch,
                                  const std::vector<std::vector<float>>& inputs,
                                  const std::vector<std::vector<float>>& params, bool training,
                                  std::vector<std::vector<float>>* state) {
  auto op = make_op(yaml);
  Harness h(*op, shapes, batch);
  for (size_t i = 0; i < inputs.size() && i < h.inputs.size(); ++i) h.inputs[i] = inputs[i];
  for (size_t i = 0; i < params.size() && i < h.params.size(); ++i) h.params[i] = params[i];
  if (state && !state->empty()) h.state = *state;
  Rng rng(1, 1);
  OpContext ctx = h.context(training);
  ctx.rng = &rng;
  op->forward(ctx);
  if (state) *state = h.state;
  return h.output;
}

PassResult run_pass(Op& op, const std::vector<Shape>& shapes, int64_t batch, const PassValues& values, GemmRunner* runner,
                    int threads) {
  Harness h(op, shapes, batch);
  for (size_t i = 0; i < values.inputs.size() && i < h.inputs.size(); ++i) h.inputs[i] = values.inputs[i];
  for (size_t i = 0; i < values.params.size() && i < h.params.size(); ++i) h.params[i] = values.params[i];
  for (size_t i = 0; i < values.input_grads.size() && i < h.input_grads.size(); ++i) h.input_grads[i] = values.input_grads[i];
  if (values.output_grad.size() == h.output_grad.size()) h.output_grad = values.output_grad;
  Rng rng(1, 1);
  OpContext ctx = h.context(true);
  ctx.rng = &rng;
  ctx.gemm = runner;
  ctx.threads = threads;
  op.forward(ctx);
  op.backward(ctx);
  return {h.output, h.param_grads, h.input_grads};
}

namespace {

// Random inputs and parameters, non-zero input gradients to start from (backward must add to
// them), and the random projection of the outputs (the output gradient). Returns the starting
// input gradients.
std::vector<std::vector<float>> fill_case(Harness& h, const GradientCase& c, Rng& rng, std::vector<double>& projection) {
  for (auto& x : h.inputs)
    for (auto& v : x) v = draw(rng, c.fill);
  for (auto& w : h.params)
    for (auto& v : w) v = static_cast<float>(rng.uniform(-0.5, 0.5));
  std::vector<std::vector<float>> initial_grads;
  for (auto& g : h.input_grads) {
    for (auto& v : g) v = static_cast<float>(rng.uniform(-1.0, 1.0));
    initial_grads.push_back(g);
  }
  projection.resize(h.output.size());
  for (size_t i = 0; i < projection.size(); ++i) {
    projection[i] = rng.normal();
    h.output_grad[i] = static_cast<float>(projection[i]);
  }
  return initial_grads;
}

// forward then backward with the op's passes on `threads` threads; the input gradients are left
// as what backward added (or wrote, where `written`: those start as NaN), the parameter gradients
// as it wrote them (started at NaN).
void analytic_gradients(Harness& h, Op& op, const GradientCase& c, uint64_t seed, int threads,
                        const std::vector<std::vector<float>>& initial_grads, const std::vector<bool>& written) {
  h.input_grads = initial_grads;
  for (auto& g : h.param_grads) std::fill(g.begin(), g.end(), kNaN);
  for (const bool backward : {false, true}) {
    Rng op_rng(seed, 7);  // stochastic ops (dropout) see the same stream in both passes
    h.poison_scratch();
    OpContext ctx = h.context(c.training);
    ctx.rng = &op_rng;
    ctx.threads = threads;
    if (backward) op.backward(ctx);
    else op.forward(ctx);
  }
  for (size_t i = 0; i < h.input_grads.size(); ++i)
    if (!written[i])
      for (size_t k = 0; k < h.input_grads[i].size(); ++k) h.input_grads[i][k] -= initial_grads[i][k];
}

bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0) return false;
  return a.size() == b.size();
}

// The checks on `op`; with `offer_writes`, every input gradient is first offered to the op to
// write (Op::write_input_gradient), and those it takes start as NaN instead of random values. An
// op that takes none of them has nothing more to check: an empty report (0 elements checked).
GradientReport check(Op& op, const GradientCase& c, uint64_t seed, bool offer_writes) {
  Harness h(op, c.inputs, c.batch);
  std::vector<bool> written(h.inputs.size(), false);
  for (size_t i = 0; offer_writes && i < written.size(); ++i) written[i] = op.write_input_gradient(i);
  if (offer_writes && std::find(written.begin(), written.end(), true) == written.end()) return {};
  Rng rng(seed, 99);
  std::vector<double> projection;
  auto initial_grads = fill_case(h, c, rng, projection);
  for (size_t i = 0; i < written.size(); ++i)
    if (written[i]) std::fill(initial_grads[i].begin(), initial_grads[i].end(), kNaN);
  GradientReport report;

  // An op may split its passes over OpContext::threads, and must give the same bits as on one:
  // three threads, so that the splits are uneven.
  analytic_gradients(h, op, c, seed, 3, initial_grads, written);
  const std::vector<std::vector<float>> split_out{h.output}, split_inputs = h.input_grads, split_params = h.param_grads;
  analytic_gradients(h, op, c, seed, 1, initial_grads, written);
  if (!same_bits({h.output}, split_out) || !same_bits(h.input_grads, split_inputs) || !same_bits(h.param_grads, split_params))
    report.contract = "its passes split over 3 threads (OpContext::threads) give other numbers than on one thread";
  for (size_t i = 0; i < h.param_grads.size(); ++i)
    for (float v : h.param_grads[i])
      if (std::isnan(v)) report.contract = "parameter '" + h.param_specs[i].name + "' has a NaN gradient: backward must write every parameter gradient (=, not +=)";
  for (size_t i = 0; i < written.size(); ++i)
    if (written[i] && std::any_of(h.input_grads[i].begin(), h.input_grads[i].end(), [](float v) { return std::isnan(v); }))
      report.contract = "input " + std::to_string(i) + " has a NaN gradient after the op took write_input_gradient(" +
                        std::to_string(i) + "): backward must then write every element of it (=, not +=)";

  auto objective = [&]() {
    Rng op_rng(seed, 7);
    h.poison_scratch();
    OpContext ctx = h.context(c.training);
    ctx.rng = &op_rng;
    op.forward(ctx);
    double f = 0;
    for (size_t i = 0; i < h.output.size(); ++i) f += projection[i] * h.output[i];
    return f;
  };
  double diff2 = 0, analytic2 = 0, numeric2 = 0, worst = -1;
  auto compare = [&](std::vector<float>& values, const std::vector<float>& analytic, const std::string& label) {
    for (size_t i = 0; i < values.size(); ++i) {
      const float saved = values[i];
      const double eps = c.step * std::max(1.0, std::abs(static_cast<double>(saved)));
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
      if (!(std::abs(d) <= worst)) {
        worst = std::isnan(d) ? INFINITY : std::abs(d);
        std::ostringstream ss;
        ss << label << " element " << i << ": analytic " << analytic[i] << ", numeric " << numeric;
        report.worst = ss.str();
      }
    }
  };
  for (size_t i = 0; i < h.inputs.size(); ++i) compare(h.inputs[i], h.input_grads[i], "input " + std::to_string(i));
  for (size_t i = 0; i < h.params.size(); ++i) compare(h.params[i], h.param_grads[i], "param '" + h.param_specs[i].name + "'");
  const double denom = std::sqrt(analytic2) + std::sqrt(numeric2);
  report.relative_error = denom == 0 ? 0 : std::sqrt(diff2) / denom;
  if (std::isnan(report.relative_error)) report.relative_error = INFINITY;
  return report;
}

}  // namespace

GradientReport check_gradients(Op& op, const GradientCase& c, uint64_t seed) { return check(op, c, seed, false); }
GradientReport check_written_gradients(Op& op, const GradientCase& c, uint64_t seed) { return check(op, c, seed, true); }

GradientReport check_op_gradients(const GradientCase& c, uint64_t seed) {
  GradientReport report = check(*make_op(c.yaml), c, seed, false);
  // A second op of the same spec, offered its input gradients to write, as the compiler offers
  // a node whose input no other node reads (an op that declines them all adds nothing).
  const GradientReport written = check(*make_op(c.yaml), c, seed, true);
  if (report.contract.empty() && !written.contract.empty()) report.contract = "writing its input gradients: " + written.contract;
  if (written.relative_error > report.relative_error) {
    report.relative_error = written.relative_error;
    report.worst = "writing its input gradients: " + written.worst;
  }
  report.checked += written.checked;
  return report;
}

}  // namespace anneal::testing
