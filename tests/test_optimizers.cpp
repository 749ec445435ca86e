// Optimizer steps against values worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "anneal/optimizer.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<Optimizer> make_optimizer(const std::string& yaml, int64_t n) {
  AttrMap a = attrs_from(yaml, "optimizer");
  auto opt = create_from<OptimizerRegistry>(a, "optimizer");
  opt->prepare(n);
  return opt;
}

// Runs steps with the given per-step gradients (one parameter) and rates; returns w after each.
std::vector<double> trajectory(Optimizer& opt, double w0, const std::vector<double>& grads,
                               const std::vector<double>& rates = {}) {
  std::vector<float> w{static_cast<float>(w0)}, g(1);
  std::vector<double> out;
  for (size_t t = 0; t < grads.size(); ++t) {
    if (!rates.empty()) opt.set_lr(rates[t]);
    g[0] = static_cast<float>(grads[t]);
    opt.step(w, g);
    out.push_back(w[0]);
  }
  return out;
}

}  // namespace

TEST_CASE("sgd without momentum: w -= lr g", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1}", 1);
  const auto w = trajectory(*opt, 1.0, {0.5, -1.0});
  CHECK(w[0] == Approx(0.95));
  CHECK(w[1] == Approx(1.05));
  CHECK(opt->iterations() == 2);
}

TEST_CASE("sgd momentum, Keras form: v = m v - lr g; w += v", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9}", 1);
  // Rates change between steps, which is where the two forms differ.
  const auto w = trajectory(*opt, 1.0, {1.0, 1.0, 2.0}, {0.1, 0.05, 0.05});
  // v1 = -0.1; w1 = 0.9. v2 = -0.09 - 0.05 = -0.14; w2 = 0.76. v3 = -0.126 - 0.1 = -0.226; w3 = 0.534
  CHECK(w[0] == Approx(0.9));
  CHECK(w[1] == Approx(0.76));
  CHECK(w[2] == Approx(0.534));
}

TEST_CASE("sgd momentum, PyTorch form: b = m b + g; w -= lr b", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9, momentum_form: pytorch}", 1);
  const auto w = trajectory(*opt, 1.0, {1.0, 1.0, 2.0}, {0.1, 0.05, 0.05});
  // b1 = 1; w1 = 0.9. b2 = 1.9; w2 = 0.805. b3 = 3.71; w3 = 0.6195
  CHECK(w[0] == Approx(0.9));
  CHECK(w[1] == Approx(0.805));
  CHECK(w[2] == Approx(0.6195));
}

TEST_CASE("sgd nesterov in both forms agrees at a constant rate", "[optimizers]") {
  auto keras = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.5, nesterov: true}", 1);
  auto torch = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.5, nesterov: true, momentum_form: pytorch}", 1);
  const auto a = trajectory(*keras, 1.0, {1.0, 2.0});
  const auto b = trajectory(*torch, 1.0, {1.0, 2.0});
  // Keras: v1 = -0.1, w1 = 1 + 0.5(-0.1) - 0.1 = 0.85; v2 = -0.05 - 0.2 = -0.25, w2 = 0.85 - 0.125 - 0.2 = 0.525
  CHECK(a[0] == Approx(0.85));
  CHECK(a[1] == Approx(0.525));
  CHECK(b[0] == Approx(a[0]));
  CHECK(b[1] == Approx(a[1]));
}

TEST_CASE("sgd legacy decay: lr / (1 + decay * iterations)", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1, decay: 0.5}", 1);
  CHECK(opt->effective_lr() == Approx(0.1));
  const auto w = trajectory(*opt, 0.0, {1.0, 1.0, 1.0});
  // rates 0.1, 0.1/1.5, 0.1/2
  CHECK(w[0] == Approx(-0.1));
  CHECK(w[1] == Approx(-0.1 - 0.1 / 1.5));
  CHECK(w[2] == Approx(-0.1 - 0.1 / 1.5 - 0.05));
}

TEST_CASE("sgd weight decay: decoupled (keras) and coupled L2 (pytorch)", "[optimizers]") {
  auto keras = make_optimizer("{type: sgd, lr: 0.1, weight_decay: 0.5}", 1);
  auto torch = make_optimizer("{type: sgd, lr: 0.1, weight_decay: 0.5, momentum_form: pytorch}", 1);
  // keras: w = 2 - 0.1*0.5*2 = 1.9, then - 0.1*1 = 1.8; pytorch: g = 1 + 0.5*2 = 2, w = 2 - 0.2 = 1.8
  CHECK(trajectory(*keras, 2.0, {1.0})[0] == Approx(1.8));
  CHECK(trajectory(*torch, 2.0, {1.0})[0] == Approx(1.8));
  auto keras_m = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.5}", 1);
  auto torch_m = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.5, momentum_form: pytorch}", 1);
  // keras step 2: w1 = 1.8, v1 = -0.1; w = 1.8 - 0.09 = 1.71; v2 = -0.09 - 0.1 = -0.19; w2 = 1.52
  CHECK(trajectory(*keras_m, 2.0, {1.0, 1.0})[1] == Approx(1.52));
  // pytorch step 2: b1 = 2, w1 = 1.8; g2 = 1 + 0.9 = 1.9; b2 = 1.8 + 1.9 = 3.7; w2 = 1.8 - 0.37 = 1.43
  CHECK(trajectory(*torch_m, 2.0, {1.0, 1.0})[1] == Approx(1.43));
}

TEST_CASE("adam, rmsprop and adagrad: first steps by hand", "[optimizers]") {
  auto adam = make_optimizer("{type: adam, lr: 0.01}", 1);
  // Step 1: m = 0.1 g, v = 0.001 g^2; lr_t = 0.01 sqrt(0.001) / 0.1; w -= lr_t m / (sqrt(v) + eps) ~= 0.01 sign(g)
  const auto a = trajectory(*adam, 1.0, {0.5, 0.5});
  CHECK(a[0] == Approx(1.0 - 0.01).epsilon(1e-5));
  CHECK(a[1] == Approx(1.0 - 0.02).epsilon(1e-5));
  CHECK(adam->momentum().value() == Approx(0.9));

  auto rms = make_optimizer("{type: rmsprop, lr: 0.01}", 1);
  // a = 0.1 * 0.25 = 0.025; w = 1 - 0.01 * 0.5 / sqrt(0.025)
  CHECK(trajectory(*rms, 1.0, {0.5})[0] == Approx(1.0 - 0.01 * 0.5 / std::sqrt(0.025)).epsilon(1e-5));

  auto ada = make_optimizer("{type: adagrad, lr: 0.1}", 1);
  // a = 0.1 + 0.25 = 0.35; w = 1 - 0.1 * 0.5 / sqrt(0.35)
  CHECK(trajectory(*ada, 1.0, {0.5})[0] == Approx(1.0 - 0.05 / std::sqrt(0.35)).epsilon(1e-5));
}

TEST_CASE("optimizers reject bad fields", "[optimizers]") {
  auto error = [](const std::string& yaml) {
    try {
      make_optimizer(yaml, 1);
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(error("{type: sgd, lr: -1}"), Contains("'lr' must be >= 0"));
  CHECK_THAT(error("{type: sgd, momentum: 1.5}"), Contains("'momentum' must be in [0, 1]"));
  CHECK_THAT(error("{type: sgd, nesterov: true}"), Contains("needs momentum > 0"));
  CHECK_THAT(error("{type: sgd, momentum_form: caffe}"), Contains("keras or pytorch"));
  CHECK_THAT(error("{type: sgd, momentun: 0.9}"), Contains("did you mean 'momentum'"));
  CHECK_THAT(error("{type: adamm}"), Contains("did you mean 'adam'"));
}
