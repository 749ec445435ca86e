#include "anneal/activation.hpp"

#include <algorithm>
#include <cmath>

namespace anneal {

bool parse_activation(const std::string& name, ActivationKind& kind) {
  static const std::pair<const char*, ActivationKind> table[] = {
      {"linear", ActivationKind::kLinear},   {"relu", ActivationKind::kRelu},
      {"sigmoid", ActivationKind::kSigmoid}, {"tanh", ActivationKind::kTanh},
      {"softmax", ActivationKind::kSoftmax}, {"leaky_relu", ActivationKind::kLeakyRelu},
      {"elu", ActivationKind::kElu}};
  for (const auto& [text, value] : table)
    if (name == text) {
      kind = value;
      return true;
    }
  return false;
}

const char* activation_names() { return "linear, relu, sigmoid, tanh, softmax, leaky_relu, elu"; }

namespace {
// Keras' sigmoid, written so that exp never overflows.
inline float sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}
}  // namespace

namespace {
// One pass per row: add the bias (if any) and apply f.
template <class F>
void rowwise(float* y, int64_t rows, int64_t width, const float* bias, F f) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * width;
    if (bias)
      for (int64_t j = 0; j < width; ++j) row[j] = f(row[j] + bias[j]);
    else
      for (int64_t j = 0; j < width; ++j) row[j] = f(row[j]);
  }
}
}  // namespace

void Activation::apply(float* y, int64_t rows, int64_t width, const float* bias) const {
  const float a = alpha;
  switch (kind) {
    case ActivationKind::kLinear: return rowwise(y, rows, width, bias, [](float x) { return x; });
    case ActivationKind::kRelu: return rowwise(y, rows, width, bias, [](float x) { return x > 0 ? x : 0.0f; });
    case ActivationKind::kSigmoid: return rowwise(y, rows, width, bias, [](float x) { return sigmoid(x); });
    case ActivationKind::kTanh: return rowwise(y, rows, width, bias, [](float x) { return std::tanh(x); });
    case ActivationKind::kLeakyRelu: return rowwise(y, rows, width, bias, [a](float x) { return x > 0 ? x : a * x; });
    case ActivationKind::kElu: return rowwise(y, rows, width, bias, [a](float x) { return x > 0 ? x : a * std::expm1(x); });
    case ActivationKind::kSoftmax:
      for (int64_t r = 0; r < rows; ++r) {
        float* row = y + r * width;
        if (bias)
          for (int64_t j = 0; j < width; ++j) row[j] += bias[j];
        const float top = *std::max_element(row, row + width);
        double sum = 0;
        for (int64_t j = 0; j < width; ++j) sum += row[j] = std::exp(row[j] - top);
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t j = 0; j < width; ++j) row[j] *= inv;
      }
      return;
  }
}

void Activation::backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t width,
                          bool accumulate) const {
  const int64_t n = rows * width;
  auto put = [&](int64_t i, float v) { dx[i] = accumulate ? dx[i] + v : v; };
  switch (kind) {
    case ActivationKind::kLinear:
      for (int64_t i = 0; i < n; ++i) put(i, dy[i]);
      return;
    case ActivationKind::kRelu:
      for (int64_t i = 0; i < n; ++i) put(i, y[i] > 0 ? dy[i] : 0.0f);
      return;
    case ActivationKind::kSigmoid:
      for (int64_t i = 0; i < n; ++i) put(i, dy[i] * y[i] * (1.0f - y[i]));
      return;
    case ActivationKind::kTanh:
      for (int64_t i = 0; i < n; ++i) put(i, dy[i] * (1.0f - y[i] * y[i]));
      return;
    case ActivationKind::kLeakyRelu:
      // alpha > 0 keeps the sign, so y > 0 iff x > 0.
      for (int64_t i = 0; i < n; ++i) put(i, y[i] > 0 ? dy[i] : alpha * dy[i]);
      return;
    case ActivationKind::kElu:
      // For x <= 0, y = alpha (e^x - 1), so dy/dx = alpha e^x = y + alpha.
      for (int64_t i = 0; i < n; ++i) put(i, y[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha));
      return;
    case ActivationKind::kSoftmax:
      // dx_j = y_j (dy_j - sum_k dy_k y_k), per row.
      for (int64_t r = 0; r < rows; ++r) {
        const float* yr = y + r * width;
        const float* gr = dy + r * width;
        double dot = 0;
        for (int64_t j = 0; j < width; ++j) dot += static_cast<double>(gr[j]) * yr[j];
        for (int64_t j = 0; j < width; ++j)
          put(r * width + j, yr[j] * (gr[j] - static_cast<float>(dot)));
      }
      return;
  }
}

}  // namespace anneal
