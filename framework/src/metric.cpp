#include "anneal/metric.hpp"

#include <algorithm>
#include <cmath>

namespace anneal {

int64_t predicted_class(const float* y, int64_t width, float threshold) {
  if (width == 1) return y[0] > threshold ? 1 : 0;
  return std::max_element(y, y + width) - y;
}

int64_t target_class(const float* t, int64_t width, int64_t target_width) {
  if (target_width == 1) return static_cast<int64_t>(std::lround(t[0]));
  return std::max_element(t, t + width) - t;
}

std::string classification_check(const Shape& out, int64_t target_width) {
  const int64_t width = out.numel();
  if (width == 1 && target_width != 1) return "needs one target column for a single output";
  if (width > 1 && target_width != 1 && target_width != width)
    return "needs a class-index column or " + std::to_string(width) + " one-hot columns, the data gives " +
           std::to_string(target_width);
  return {};
}

}  // namespace anneal
