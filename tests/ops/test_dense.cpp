#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 3}", {Shape{4}});
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 2, activation: tanh}", {Shape{5}});
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 3, activation: sigmoid, use_bias: false}", {Shape{4}});
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 4, activation: softmax}", {Shape{3}});
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 2, activation: elu}", {Shape{2, 3}});
// Activations whose derivative needs the pre-activation (kept in the saved workspace).
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 3, activation: gelu}", {Shape{4}});
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 3, activation: {type: leaky_relu, alpha: 0.1}, use_bias: false}", {Shape{2}});
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 3, activation: silu}", {Shape{2, 4}});
// Wide enough that backward's pass has several blocks (8 rows of 512) in several groups: the bias
// gradient adds its groups' partial sums.
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 512, activation: tanh}", {Shape{2}}, InputFill::kAwayFromZero, 41);
ANNEAL_GRADIENT_CASE("dense", "{type: dense, units: 512}", {Shape{2}}, InputFill::kSigned, 41);

TEST_CASE("dense rejects bad attributes", "[ops][dense]") {
  CHECK_THAT(op_error("{type: dense}"), Contains("missing required key 'units'"));
  CHECK_THAT(op_error("{type: dense, units: -3}"), Contains("'units' must be a positive integer"));
  CHECK_THAT(op_error("{type: dense, units: 2.5}"), Contains("expected an integer, got '2.5'"));
  CHECK_THAT(op_error("{type: dense, units: 2, activation: swishh}"), Contains("'activation' is 'swishh', expected an activation (did you mean 'swish'? known: "));
  // An op that is not an activation is named as such.
  CHECK_THAT(op_error("{type: dense, units: 2, activation: add}"), Contains("an op that is not an activation"));
  CHECK_THAT(op_error("{type: dense, units: 2, activation: {type: leaky_relu, alpah: 2}}"), Contains("unknown key 'alpah'"));
  CHECK_THAT(op_error("{type: dense, units: 2, unitz: 3}"), Contains("unknown key 'unitz'"));
  CHECK(make_op("{type: dense, units: 2}")->arity() == 1);
}

TEST_CASE("dense infers [.., units] and kernel [in, units]", "[ops][dense]") {
  auto op = make_op("{type: dense, units: 7}");
  CHECK(op->infer_shape({Shape{34}}) == Shape{7});
  CHECK(op->infer_shape({Shape{2, 5}}) == Shape{2, 7});
  const auto params = op->param_specs({Shape{34}});
  REQUIRE(params.size() == 2);
  CHECK(params[0].shape == Shape{34, 7});
  CHECK(params[1].shape == Shape{7});
  CHECK(make_op("{type: dense, units: 7, use_bias: false}")->param_specs({Shape{3}}).size() == 1);
}

TEST_CASE("dense computes activation(x W + b)", "[ops][dense]") {
  // x = [[1, 2], [-1, 0.5]], W = [[1, -1, 0], [2, 0.5, -1]], b = [0.5, 0, -3]
  const std::vector<float> x{1, 2, -1, 0.5f}, w{1, -1, 0, 2, 0.5f, -1}, b{0.5f, 0, -3};
  const auto linear = forward_values("{type: dense, units: 3}", {Shape{2}}, 2, {x}, {w, b});
  const std::vector<float> expected{5.5f, 0.0f, -5.0f, 0.5f, 1.25f, -3.5f};
  for (size_t i = 0; i < expected.size(); ++i) CHECK(linear[i] == Approx(expected[i]));
  const auto relu = forward_values("{type: dense, units: 3, activation: relu}", {Shape{2}}, 2, {x}, {w, b});
  const std::vector<float> expected_relu{5.5f, 0.0f, 0.0f, 0.5f, 1.25f, 0.0f};
  for (size_t i = 0; i < expected.size(); ++i) CHECK(relu[i] == Approx(expected_relu[i]));
}

TEST_CASE("dense with any registered activation equals dense then that activation", "[ops][dense][activation]") {
  const std::vector<float> x{1, 2, -1, 0.5f}, w{1, -1, 0, 2, 0.5f, -1}, b{0.5f, 0, -3};
  const auto linear = forward_values("{type: dense, units: 3}", {Shape{2}}, 2, {x}, {w, b});
  for (const auto& name : {"relu", "gelu", "silu", "swish", "softplus", "softsign", "selu", "hard_sigmoid", "elu",
                           "leaky_relu", "sigmoid", "tanh", "softmax", "linear"}) {
    INFO(name);
    const auto fused = forward_values(std::string("{type: dense, units: 3, activation: ") + name + "}", {Shape{2}}, 2, {x}, {w, b});
    const auto separate = forward_values(std::string("{type: ") + name + "}", {Shape{3}}, 2, {linear});
    for (size_t i = 0; i < fused.size(); ++i) CHECK(fused[i] == Approx(separate[i]).margin(1e-6));
  }
}
