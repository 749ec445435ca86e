#pragma once
// Keras' cross-entropy on probabilities: clip to [eps, 1 - eps] with eps = 1e-7, and pass no
// gradient through a clipped value (as tf.clip_by_value does).

#include <cstdint>

namespace anneal {

inline constexpr float kProbabilityEpsilon = 1e-7f;

inline bool clipped(float p) { return p <= kProbabilityEpsilon || p >= 1.0f - kProbabilityEpsilon; }
inline float clip_probability(float p) {
  return p < kProbabilityEpsilon ? kProbabilityEpsilon : p > 1.0f - kProbabilityEpsilon ? 1.0f - kProbabilityEpsilon : p;
}

// Categorical cross-entropy of one row, Keras style: q = p / sum(p), clipped; loss = -sum y log q.
// Writes dLoss/dp * scale into grad when grad != nullptr. `label` >= 0 selects a sparse target
// (one-hot at label), otherwise `target` is the dense target row.
double categorical_row(const float* p, const float* target, int64_t label, int64_t width, float* grad,
                       float scale);
// The same on logits z (from_logits: true), through a stable log-softmax:
// loss = sum(y) lse(z) - sum y z; dLoss/dz = softmax(z) sum(y) - y.
double categorical_logits_row(const float* z, const float* target, int64_t label, int64_t width, float* grad,
                              float scale);

}  // namespace anneal
