#include "anneal/loss.hpp"

namespace anneal {

double Loss::weighted_forward_backward(const float* output, const float* target, const float* weights, int64_t batch,
                                       int64_t width, int64_t target_width, float* grad) const {
  double total = 0;
  const float inv_batch = 1.0f / static_cast<float>(batch);
  for (int64_t r = 0; r < batch; ++r) {
    float* row_grad = grad ? grad + r * width : nullptr;
    total += weights[r] * forward_backward(output + r * width, target + r * target_width, 1, width, target_width, row_grad);
    if (row_grad)
      for (int64_t j = 0; j < width; ++j) row_grad[j] *= weights[r] * inv_batch;
  }
  return total / static_cast<double>(batch);
}

}  // namespace anneal
