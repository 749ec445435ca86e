#include "anneal/crossentropy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace anneal {

double categorical_row(const float* p, const float* target, int64_t label, int64_t width, float* grad,
                       float scale) {
  double sum = 0;
  for (int64_t j = 0; j < width; ++j) sum += p[j];
  auto y = [&](int64_t j) { return label >= 0 ? (j == label ? 1.0f : 0.0f) : target[j]; };
  double loss = 0, weighted = 0;  // weighted = sum_i g_i q_i with g_i = dLoss/dq_i
  for (int64_t j = 0; j < width; ++j) {
    const auto q = static_cast<float>(p[j] / sum);
    loss -= y(j) * std::log(clip_probability(q));
    if (!clipped(q)) weighted -= y(j);  // g_i q_i with g_i = -y_i / q_i
  }
  if (grad) {
    // dq_i/dp_j = (delta_ij - q_i) / sum, so dLoss/dp_j = (g_j - sum_i g_i q_i) / sum.
    for (int64_t j = 0; j < width; ++j) {
      const auto q = static_cast<float>(p[j] / sum);
      const double g = clipped(q) ? 0.0 : -y(j) / q;
      grad[j] = static_cast<float>((g - weighted) / sum) * scale;
    }
  }
  return loss;
}

double categorical_logits_row(const float* z, const float* target, int64_t label, int64_t width, float* grad,
                              float scale) {
  auto y = [&](int64_t j) { return label >= 0 ? (j == label ? 1.0 : 0.0) : static_cast<double>(target[j]); };
  double top = z[0];
  for (int64_t j = 1; j < width; ++j) top = std::max(top, static_cast<double>(z[j]));
  double sum = 0, mass = 0, dot = 0;
  for (int64_t j = 0; j < width; ++j) {
    sum += std::exp(z[j] - top);
    mass += y(j);
    dot += y(j) * z[j];
  }
  const double lse = top + std::log(sum);
  if (grad)
    for (int64_t j = 0; j < width; ++j)
      grad[j] = static_cast<float>((std::exp(z[j] - lse) * mass - y(j)) * scale);
  return mass * lse - dot;
}

}  // namespace anneal
