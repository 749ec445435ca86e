// Every activation: attributes, shapes, golden values against formulas evaluated in double, and a
// gradient case (softplus, gelu and friends include inputs far from zero).
#include <catch2/catch.hpp>

#include <cmath>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"
#include "anneal/activation.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("relu", "{type: relu}", {Shape{5}});
ANNEAL_GRADIENT_CASE("sigmoid", "{type: sigmoid}", {Shape{5}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("tanh", "{type: tanh}", {Shape{5}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("softmax", "{type: softmax}", {Shape{4}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("softmax", "{type: softmax}", {Shape{2, 3}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("leaky_relu", "{type: leaky_relu, alpha: 0.2}", {Shape{5}});
ANNEAL_GRADIENT_CASE("elu", "{type: elu}", {Shape{5}});
ANNEAL_GRADIENT_CASE("linear", "{type: linear}", {Shape{3}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("gelu", "{type: gelu}", {Shape{6}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("silu", "{type: silu}", {Shape{6}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("swish", "{type: swish}", {Shape{2, 3}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("softplus", "{type: softplus}", {Shape{6}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("softsign", "{type: softsign}", {Shape{6}});
ANNEAL_GRADIENT_CASE("selu", "{type: selu}", {Shape{6}});
ANNEAL_GRADIENT_CASE("hard_sigmoid", "{type: hard_sigmoid}", {Shape{6}}, InputFill::kSigned);

namespace {
std::vector<float> activate(const std::string& yaml, const std::vector<float>& x) {
  return forward_values(yaml, {Shape{static_cast<int64_t>(x.size())}}, 1, {x});
}
double phi(double x) { return 0.5 * (1 + std::erf(x / std::sqrt(2.0))); }
double sig(double x) { return 1 / (1 + std::exp(-x)); }
}  // namespace

TEST_CASE("activation ops: arity, attributes and shapes", "[ops][activation]") {
  for (const char* name : {"relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "linear", "gelu", "silu", "swish",
                           "softplus", "softsign", "selu", "hard_sigmoid"}) {
    INFO(name);
    auto op = make_op(std::string("{type: ") + name + "}");
    CHECK(op->arity() == 1);
    CHECK(op->infer_shape({Shape{3, 4}}) == Shape{3, 4});
    CHECK(op->param_specs({Shape{3}}).empty());
    CHECK(dynamic_cast<ActivationOp*>(op.get()) != nullptr);
  }
  CHECK_THAT(op_error("{type: relu, alpha: 1}"), Contains("unknown key 'alpha'"));
  CHECK_THAT(op_error("{type: leaky_relu, alpha: -1}"), Contains("'alpha' must be > 0"));
  CHECK_THAT(op_error("{type: elu, alpha: x}"), Contains("expected a number"));
}

TEST_CASE("the registered activations are listed from the registry, not from a fixed table", "[ops][activation]") {
  const std::string names = activation_names();
  for (const char* name : {"relu", "gelu", "swish", "hard_sigmoid", "softmax", "linear"}) CHECK_THAT(names, Contains(name));
  CHECK_THAT(names, !Contains("dense"));
  CHECK_THAT(names, !Contains("dropout"));
}

TEST_CASE("activation ops: golden values", "[ops][activation]") {
  const std::vector<float> x{-4, -2, -0.5f, 0, 0.5f, 3, 25};
  const auto relu = activate("{type: relu}", x);
  const auto sigmoid = activate("{type: sigmoid}", x);
  const auto tanh = activate("{type: tanh}", x);
  const auto leaky = activate("{type: leaky_relu}", x);
  const auto elu = activate("{type: elu}", x);
  const auto linear = activate("{type: linear}", x);
  const auto gelu = activate("{type: gelu}", x);
  const auto silu = activate("{type: silu}", x);
  const auto swish = activate("{type: swish}", x);
  const auto softplus = activate("{type: softplus}", x);
  const auto softsign = activate("{type: softsign}", x);
  const auto selu = activate("{type: selu}", x);
  const auto hard = activate("{type: hard_sigmoid}", x);
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    INFO("x = " << v);
    CHECK(relu[i] == Approx(std::max(v, 0.0)));
    CHECK(sigmoid[i] == Approx(sig(v)));
    CHECK(tanh[i] == Approx(std::tanh(v)));
    CHECK(leaky[i] == Approx(v > 0 ? v : 0.3 * v));
    CHECK(elu[i] == Approx(v > 0 ? v : std::exp(v) - 1));
    CHECK(linear[i] == Approx(v));
    CHECK(gelu[i] == Approx(v * phi(v)).margin(1e-6));
    CHECK(silu[i] == Approx(v * sig(v)).margin(1e-6));
    CHECK(swish[i] == silu[i]);
    CHECK(softplus[i] == Approx(std::log1p(std::exp(v))).margin(1e-6));
    CHECK(softsign[i] == Approx(v / (1 + std::abs(v))));
    CHECK(selu[i] == Approx(1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (std::exp(v) - 1))));
    CHECK(hard[i] == Approx(std::clamp(v + 3, 0.0, 6.0) / 6).margin(1e-7));
  }
  // Extreme inputs stay finite.
  const auto big = activate("{type: sigmoid}", {-100, 100});
  CHECK(big[0] == Approx(0).margin(1e-30));
  CHECK(big[1] == Approx(1));
  const auto soft_big = activate("{type: softplus}", {-200, 200});
  CHECK(soft_big[0] == Approx(0).margin(1e-30));
  CHECK(soft_big[1] == Approx(200));
  const auto silu_big = activate("{type: silu}", {-200, 200});
  CHECK(silu_big[0] == Approx(0).margin(1e-30));
  CHECK(silu_big[1] == Approx(200));
  const auto soft = activate("{type: softmax}", {1, 2, 3});
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(soft[0] == Approx(std::exp(1.0) / z));
  CHECK(soft[2] == Approx(std::exp(3.0) / z));
  const auto stable = activate("{type: softmax}", {1000, 1000});
  CHECK(stable[0] == Approx(0.5));
}
