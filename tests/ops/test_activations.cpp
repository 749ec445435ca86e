// relu, sigmoid, tanh, softmax, leaky_relu, elu and linear share one implementation; each still
// has its own golden values and gradient case.
#include <catch2/catch.hpp>

#include <cmath>

#include "../gradient_check.hpp"
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("relu", "{type: relu}", {Shape{5}});
ANNEAL_GRADIENT_CASE("sigmoid", "{type: sigmoid}", {Shape{5}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("tanh", "{type: tanh}", {Shape{5}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("softmax", "{type: softmax}", {Shape{4}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("softmax", "{type: softmax}", {Shape{2, 3}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("leaky_relu", "{type: leaky_relu, alpha: 0.2}", {Shape{5}});
ANNEAL_GRADIENT_CASE("elu", "{type: elu}", {Shape{5}});
ANNEAL_GRADIENT_CASE("linear", "{type: linear}", {Shape{3}}, InputFill::kSigned);

namespace {
std::vector<float> activate(const std::string& yaml, const std::vector<float>& x) {
  return forward_values(yaml, {Shape{static_cast<int64_t>(x.size())}}, 1, {x});
}
}  // namespace

TEST_CASE("activation ops: arity, attributes and shapes", "[ops][activation]") {
  for (const char* name : {"relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "linear"}) {
    auto op = make_op(std::string("{type: ") + name + "}");
    CHECK(op->arity() == 1);
    CHECK(op->infer_shape({Shape{3, 4}}) == Shape{3, 4});
    CHECK(op->param_specs({Shape{3}}).empty());
  }
  CHECK_THAT(op_error("{type: relu, alpha: 1}"), Contains("unknown key 'alpha'"));
  CHECK_THAT(op_error("{type: leaky_relu, alpha: -1}"), Contains("'alpha' must be > 0"));
  CHECK_THAT(op_error("{type: elu, alpha: x}"), Contains("expected a number"));
}

TEST_CASE("activation ops: golden values", "[ops][activation]") {
  const std::vector<float> x{-2, -0.5f, 0, 0.5f, 3};
  const auto relu = activate("{type: relu}", x);
  const auto sigmoid = activate("{type: sigmoid}", x);
  const auto tanh = activate("{type: tanh}", x);
  const auto leaky = activate("{type: leaky_relu}", x);
  const auto elu = activate("{type: elu}", x);
  const auto linear = activate("{type: linear}", x);
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    CHECK(relu[i] == Approx(std::max(v, 0.0)));
    CHECK(sigmoid[i] == Approx(1 / (1 + std::exp(-v))));
    CHECK(tanh[i] == Approx(std::tanh(v)));
    CHECK(leaky[i] == Approx(v > 0 ? v : 0.3 * v));
    CHECK(elu[i] == Approx(v > 0 ? v : std::exp(v) - 1));
    CHECK(linear[i] == Approx(v));
  }
  // Extreme inputs stay finite.
  const auto big = activate("{type: sigmoid}", {-100, 100});
  CHECK(big[0] == Approx(0).margin(1e-30));
  CHECK(big[1] == Approx(1));
  const auto soft = activate("{type: softmax}", {1, 2, 3});
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(soft[0] == Approx(std::exp(1.0) / z));
  CHECK(soft[2] == Approx(std::exp(3.0) / z));
  const auto stable = activate("{type: softmax}", {1000, 1000});
  CHECK(stable[0] == Approx(0.5));
}
