// Nadam as Keras computes it (Dozat 2016 with Keras' momentum schedule, epsilon 1e-7):
//   u_t = b1 (1 - 0.5 * 0.96^(0.004 t)),  u_{t+1} likewise,  P_t = prod_{k<=t} u_k
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t);  v_hat = v / (1 - b2^t)
//   w -= lr m_hat / (sqrt(v_hat) + eps)
// The running product P_t is state (it depends on every past beta_1), saved with the moments.
#include <cmath>
#include <vector>

#include "moments.hpp"

namespace anneal {
namespace {

class Nadam : public MomentOptimizer {
 public:
  explicit Nadam(AttrMap& a) : MomentOptimizer(a, 1e-7) {}

  void prepare(int64_t n) override {
    MomentOptimizer::prepare(n);
    product_ = {1.0f, -1.0f};  // [P before this update, the update it belongs to]
  }
  std::vector<std::span<float>> state() override { return {m_, v_, product_}; }

 protected:
  void update(const UpdateSlice& s) override {
    const double t = static_cast<double>(iterations() + 1);
    const double u_t = beta_1_ * (1 - 0.5 * std::pow(0.96, 0.004 * t));
    const double u_next = beta_1_ * (1 - 0.5 * std::pow(0.96, 0.004 * (t + 1)));
    // The product advances once per update, however many slices the update has.
    if (product_[1] != static_cast<float>(t)) {
      product_[0] = static_cast<float>(product_[0] * u_t);
      product_[1] = static_cast<float>(t);
    }
    const double p_t = product_[0], p_next = p_t * u_next;
    const float a = static_cast<float>(u_next / (1 - p_next)), c = static_cast<float>((1 - u_t) / (1 - p_t));
    const float bc2 = static_cast<float>(1 - std::pow(beta_2_, t));
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    const float eps = static_cast<float>(epsilon_);
    float* m = m_.data() + s.offset;
    float* v = v_.data() + s.offset;
    for (size_t i = 0; i < s.w.size(); ++i) {
      const float g = s.g[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const float m_hat = a * m[i] + c * g;
      s.w[i] -= s.lr * m_hat / (std::sqrt(v[i] / bc2) + eps);
    }
  }

 private:
  std::vector<float> product_;
};

ANNEAL_REGISTER(OptimizerRegistry, "nadam", Nadam);

}  // namespace
}  // namespace anneal
