#pragma once
// Elementwise activations shared by the activation ops and by dense's fused activation. Each
// derivative is computed from the activation's OUTPUT, so backward needs no saved pre-activation.

#include <cstdint>
#include <string>

namespace anneal {

enum class ActivationKind { kLinear, kRelu, kSigmoid, kTanh, kSoftmax, kLeakyRelu, kElu };

struct Activation {
  ActivationKind kind = ActivationKind::kLinear;
  float alpha = 0.0f;  // leaky_relu slope, elu scale

  // In place on [rows, width]; softmax works per row. With a bias ([width]), y = f(y + bias) in
  // the same pass.
  void apply(float* y, int64_t rows, int64_t width, const float* bias = nullptr) const;
  // dx = dy * f'(.) from y = f(x); dx may alias dy. accumulate: dx += instead of dx =.
  void backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t width,
                bool accumulate) const;
};

// "relu" -> kRelu; false for an unknown name.
bool parse_activation(const std::string& name, ActivationKind& kind);
const char* activation_names();  // for messages

}  // namespace anneal
