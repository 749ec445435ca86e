// batch_norm and layer_norm: parameters and state, golden values computed here in double from the
// definitions, the moving statistics' update, evaluation on the moving statistics, gradients.
#include <catch2/catch.hpp>

#include <cmath>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("batch_norm", "{type: batch_norm}", {Shape{4}}, InputFill::kSigned, 5);
ANNEAL_GRADIENT_CASE("batch_norm", "{type: batch_norm}", {Shape{2, 3, 3}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("batch_norm", "{type: batch_norm, center: false, axis: -1}", {Shape{3, 2}}, InputFill::kSigned, 3);
ANNEAL_GRADIENT_CASE("layer_norm", "{type: layer_norm}", {Shape{5}}, InputFill::kSigned, 3);
ANNEAL_GRADIENT_CASE("layer_norm", "{type: layer_norm, scale: false}", {Shape{2, 4}}, InputFill::kSigned, 2);

TEST_CASE("batch_norm: parameters per feature or channel, moving statistics as state", "[ops][batch_norm]") {
  auto dense_like = make_op("{type: batch_norm}");
  const auto p = dense_like->param_specs({Shape{6}});
  REQUIRE(p.size() == 2);
  CHECK(p[0].name == "gamma");
  CHECK(p[0].shape == Shape{6});
  CHECK(p[1].name == "beta");
  const auto s = dense_like->state_specs({Shape{6}});
  REQUIRE(s.size() == 2);
  CHECK(s[0].name == "moving_mean");
  CHECK(s[0].initial == 0.0f);
  CHECK(s[1].name == "moving_variance");
  CHECK(s[1].initial == 1.0f);
  // After a convolution: one per channel.
  CHECK(make_op("{type: batch_norm}")->param_specs({Shape{8, 5, 5}})[0].shape == Shape{8});
  CHECK(make_op("{type: batch_norm, scale: false, center: false}")->param_specs({Shape{8}}).empty());
  CHECK_THAT(shape_error("{type: batch_norm, axis: 3}", {Shape{8, 5, 5}}), Contains("axis 3 is outside"));
  CHECK_THAT(op_error("{type: batch_norm, momentum: 1.5}"), Contains("'momentum' must be in [0, 1]"));
  CHECK_THAT(op_error("{type: batch_norm, epsilon: 0}"), Contains("'epsilon' must be > 0"));
}

TEST_CASE("batch_norm: training normalises by the batch and moves the statistics, evaluation uses them", "[ops][batch_norm]") {
  // Batch of 4 samples, 2 features.
  const std::vector<float> x{1, 10, 2, 20, 3, 30, 6, 0};
  const std::vector<float> gamma{2, 0.5f}, beta{0.1f, -1};
  std::vector<std::vector<float>> state;
  const auto y = forward_values("{type: batch_norm, momentum: 0.9}", {Shape{2}}, 4, {x}, {gamma, beta}, true, &state);
  for (int f = 0; f < 2; ++f) {
    double mean = 0, var = 0;
    for (int b = 0; b < 4; ++b) mean += x[static_cast<size_t>(b * 2 + f)] / 4.0;
    for (int b = 0; b < 4; ++b) var += std::pow(x[static_cast<size_t>(b * 2 + f)] - mean, 2) / 4.0;  // biased, as Keras
    for (int b = 0; b < 4; ++b) {
      const double expected = gamma[static_cast<size_t>(f)] * (x[static_cast<size_t>(b * 2 + f)] - mean) / std::sqrt(var + 1e-3) + beta[static_cast<size_t>(f)];
      CHECK(y[static_cast<size_t>(b * 2 + f)] == Approx(expected).epsilon(1e-5));
    }
    CHECK(state[0][static_cast<size_t>(f)] == Approx(0.1 * mean));          // 0.9 * 0 + 0.1 * mean
    CHECK(state[1][static_cast<size_t>(f)] == Approx(0.9 + 0.1 * var));     // 0.9 * 1 + 0.1 * var
  }
  // Evaluation: the moving statistics, whatever the batch.
  const std::vector<float> probe{4, 5};
  auto eval_state = state;
  const auto e = forward_values("{type: batch_norm, momentum: 0.9}", {Shape{2}}, 1, {probe}, {gamma, beta}, false, &eval_state);
  for (size_t f = 0; f < 2; ++f)
    CHECK(e[f] == Approx(gamma[f] * (probe[f] - state[0][f]) / std::sqrt(state[1][f] + 1e-3) + beta[f]).epsilon(1e-5));
  CHECK(eval_state == state);  // evaluation never moves them
}

TEST_CASE("batch_norm after a convolution normalises each channel over batch, height and width", "[ops][batch_norm]") {
  // 2 samples of [2, 1, 2]: channel 0 holds {1, 2, 3, 4}, channel 1 holds {10, 10, 10, 14}.
  const std::vector<float> x{1, 2, 10, 10, 3, 4, 10, 14};
  const auto y = forward_values("{type: batch_norm, center: false, scale: false}", {Shape{2, 1, 2}}, 2, {x}, {}, true);
  const double m0 = 2.5, v0 = 1.25, m1 = 11, v1 = 3;
  CHECK(y[0] == Approx((1 - m0) / std::sqrt(v0 + 1e-3)));
  CHECK(y[5] == Approx((4 - m0) / std::sqrt(v0 + 1e-3)));
  CHECK(y[2] == Approx((10 - m1) / std::sqrt(v1 + 1e-3)));
  CHECK(y[7] == Approx((14 - m1) / std::sqrt(v1 + 1e-3)));
}

TEST_CASE("layer_norm normalises each row over the last axis", "[ops][layer_norm]") {
  const std::vector<float> x{1, 2, 3, 4, -1, 0, 0, 5};
  const std::vector<float> gamma{1, 2, 0.5f, -1}, beta{0, 0.5f, 0, 1};
  const auto y = forward_values("{type: layer_norm}", {Shape{4}}, 2, {x}, {gamma, beta});
  for (size_t r = 0; r < 2; ++r) {
    double mean = 0, var = 0;
    for (size_t j = 0; j < 4; ++j) mean += x[r * 4 + j] / 4.0;
    for (size_t j = 0; j < 4; ++j) var += std::pow(x[r * 4 + j] - mean, 2) / 4.0;
    for (size_t j = 0; j < 4; ++j)
      CHECK(y[r * 4 + j] == Approx(gamma[j] * (x[r * 4 + j] - mean) / std::sqrt(var + 1e-3) + beta[j]).epsilon(1e-5));
  }
  CHECK(make_op("{type: layer_norm}")->param_specs({Shape{3, 7}})[0].shape == Shape{7});
  CHECK(make_op("{type: layer_norm}")->state_specs({Shape{7}}).empty());
}
