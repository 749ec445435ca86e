// Losses: golden values worked out by hand, and dLoss/dOutput against central differences.
#include <catch2/catch.hpp>

#include <cmath>

#include "anneal/loss.hpp"
#include "anneal/metric.hpp"
#include "anneal/rng.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<Loss> make_loss(const std::string& name) {
  AttrMap a = attrs_from(name, "loss");
  return create_from<LossRegistry>(a, "loss");
}

std::string op_error_of_loss(const std::string& yaml) {
  try {
    make_loss(yaml);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

// Relative error between forward_backward's gradient and central differences of its value.
double loss_gradient_error(const Loss& loss, std::vector<float> p, const std::vector<float>& y, int64_t batch,
                           int64_t width, int64_t target_width) {
  std::vector<float> grad(p.size());
  loss.forward_backward(p.data(), y.data(), batch, width, target_width, grad.data());
  double diff2 = 0, a2 = 0, n2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const float saved = p[i];
    const double eps = 1e-3 * std::max(1.0f, std::abs(saved));
    p[i] = static_cast<float>(saved + eps);
    const double up = loss.forward_backward(p.data(), y.data(), batch, width, target_width, nullptr);
    p[i] = static_cast<float>(saved - eps);
    const double down = loss.forward_backward(p.data(), y.data(), batch, width, target_width, nullptr);
    p[i] = saved;
    const double numeric = (up - down) / (2 * eps);
    diff2 += (numeric - grad[i]) * (numeric - grad[i]);
    a2 += grad[i] * grad[i];
    n2 += numeric * numeric;
  }
  return std::sqrt(diff2) / (std::sqrt(a2) + std::sqrt(n2));
}

}  // namespace

TEST_CASE("every registered loss has a case here", "[losses][registry]") {
  const std::vector<std::string> tested{"binary_crossentropy", "categorical_crossentropy",
                                        "sparse_categorical_crossentropy", "mse", "mae"};
  CHECK(LossRegistry::instance().names().size() == tested.size());
  for (const auto& name : tested) CHECK(LossRegistry::instance().contains(name));
}

TEST_CASE("binary_crossentropy: Keras values, clipping and gradient", "[losses]") {
  auto loss = make_loss("binary_crossentropy");
  const std::vector<float> p{0.9f, 0.2f, 0.6f}, y{1, 0, 0};
  const double expected = -(std::log(0.9) + std::log(0.8) + std::log(0.4)) / 3;
  CHECK(loss->forward_backward(p.data(), y.data(), 3, 1, 1, nullptr) == Approx(expected).epsilon(1e-6));
  // A certain, wrong prediction costs -log(1e-7), not infinity.
  const std::vector<float> sure{0.0f}, one{1.0f};
  CHECK(loss->forward_backward(sure.data(), one.data(), 1, 1, 1, nullptr) == Approx(-std::log(1e-7)).epsilon(1e-4));
  CHECK(loss_gradient_error(*loss, p, y, 3, 1, 1) < 1e-3);
  CHECK(loss->check(Shape{1}, 1).empty());
  CHECK_THAT(loss->check(Shape{3}, 1), Contains("one target column per output"));
}

TEST_CASE("categorical and sparse categorical cross-entropy agree and have correct gradients", "[losses]") {
  auto dense = make_loss("categorical_crossentropy");
  auto sparse = make_loss("sparse_categorical_crossentropy");
  const std::vector<float> p{0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f};
  const std::vector<float> onehot{1, 0, 0, 0, 0, 1}, index{0, 2};
  const double expected = -(std::log(0.7) + std::log(0.8)) / 2;
  CHECK(dense->forward_backward(p.data(), onehot.data(), 2, 3, 3, nullptr) == Approx(expected).epsilon(1e-6));
  CHECK(sparse->forward_backward(p.data(), index.data(), 2, 3, 1, nullptr) == Approx(expected).epsilon(1e-6));
  // Unnormalised inputs are normalised per row, as Keras does.
  const std::vector<float> scaled{1.4f, 0.4f, 0.2f, 0.2f, 0.2f, 1.6f};
  CHECK(dense->forward_backward(scaled.data(), onehot.data(), 2, 3, 3, nullptr) == Approx(expected).epsilon(1e-6));
  CHECK(loss_gradient_error(*dense, scaled, onehot, 2, 3, 3) < 1e-3);
  CHECK(loss_gradient_error(*sparse, scaled, index, 2, 3, 1) < 1e-3);
  CHECK_THAT(dense->check(Shape{3}, 1), Contains("one_hot"));
  CHECK_THAT(sparse->check(Shape{3}, 3), Contains("one target column of class indices"));
  const std::vector<float> bad{5};
  CHECK_THROWS_WITH(sparse->forward_backward(p.data(), bad.data(), 1, 3, 1, nullptr), Contains("not a class index"));
}

TEST_CASE("mse and mae: values and gradients", "[losses]") {
  auto mse = make_loss("mse");
  auto mae = make_loss("mae");
  const std::vector<float> p{1.0f, 2.5f, -1.0f, 0.25f}, y{0.5f, 3.0f, 1.0f, 0.0f};
  CHECK(mse->forward_backward(p.data(), y.data(), 2, 2, 2, nullptr) == Approx((0.25 + 0.25 + 4 + 0.0625) / 4));
  CHECK(mae->forward_backward(p.data(), y.data(), 2, 2, 2, nullptr) == Approx((0.5 + 0.5 + 2 + 0.25) / 4));
  CHECK(loss_gradient_error(*mse, p, y, 2, 2, 2) < 1e-3);
  CHECK(loss_gradient_error(*mae, p, y, 2, 2, 2) < 1e-3);
}


TEST_CASE("from_logits: the same loss on the logits, stable for large logits", "[losses][logits]") {
  // Binary: BCE(sigmoid(z), y) from the probability form equals the logit form.
  const std::vector<float> z{-3, -0.5f, 0.2f, 2.5f}, yb{0, 1, 1, 0};
  std::vector<float> p;
  for (float v : z) p.push_back(static_cast<float>(1 / (1 + std::exp(-v))));
  auto bce = make_loss("binary_crossentropy");
  auto bce_logits = make_loss("{type: binary_crossentropy, from_logits: true}");
  CHECK(bce_logits->forward_backward(z.data(), yb.data(), 4, 1, 1, nullptr) ==
        Approx(bce->forward_backward(p.data(), yb.data(), 4, 1, 1, nullptr)).epsilon(1e-5));
  CHECK(loss_gradient_error(*bce_logits, z, yb, 4, 1, 1) < 1e-3);
  // A logit of 100 with target 0 costs 100 (the probability form would clip to -log(1e-7) = 16.1).
  const std::vector<float> big{100}, zero{0};
  CHECK(bce_logits->forward_backward(big.data(), zero.data(), 1, 1, 1, nullptr) == Approx(100));

  // Categorical and sparse: softmax then the probability form.
  const std::vector<float> logits{1, -2, 0.5f, 3, 0, -1};
  const std::vector<float> onehot{0, 0, 1, 1, 0, 0}, labels{2, 0};
  std::vector<float> probs(6);
  for (int r = 0; r < 2; ++r) {
    double s = 0;
    for (int j = 0; j < 3; ++j) s += std::exp(logits[static_cast<size_t>(r * 3 + j)]);
    for (int j = 0; j < 3; ++j) probs[static_cast<size_t>(r * 3 + j)] = static_cast<float>(std::exp(logits[static_cast<size_t>(r * 3 + j)]) / s);
  }
  auto cce = make_loss("categorical_crossentropy");
  auto cce_logits = make_loss("{type: categorical_crossentropy, from_logits: true}");
  auto sparse_logits = make_loss("{type: sparse_categorical_crossentropy, from_logits: true}");
  const double expected = cce->forward_backward(probs.data(), onehot.data(), 2, 3, 3, nullptr);
  CHECK(cce_logits->forward_backward(logits.data(), onehot.data(), 2, 3, 3, nullptr) == Approx(expected).epsilon(1e-5));
  CHECK(sparse_logits->forward_backward(logits.data(), labels.data(), 2, 3, 1, nullptr) == Approx(expected).epsilon(1e-5));
  CHECK(loss_gradient_error(*cce_logits, logits, onehot, 2, 3, 3) < 1e-3);
  CHECK(loss_gradient_error(*sparse_logits, logits, labels, 2, 3, 1) < 1e-3);
  const std::vector<float> huge{1000, -1000, 0};
  const std::vector<float> second{1};
  CHECK(sparse_logits->forward_backward(huge.data(), second.data(), 1, 3, 1, nullptr) == Approx(2000));
  CHECK_THAT(op_error_of_loss("{type: mse, from_logits: true}"), Contains("unknown key 'from_logits'"));
}
