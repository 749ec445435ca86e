// categorical_crossentropy (Keras): one-hot targets (data.one_hot: true); from_logits: true applies a
// stable log-softmax to the output itself. Otherwise probabilities are
// normalised per row and clipped; loss = mean over samples of -sum y log p.
#include "anneal/crossentropy.hpp"
#include "anneal/loss.hpp"

namespace anneal {
namespace {

class CategoricalCrossentropy : public Loss {
 public:
  explicit CategoricalCrossentropy(AttrMap& a) : from_logits_(a.get<bool>("from_logits", false)) {}
  bool classifies() const override { return true; }
  std::string check(const Shape& out, int64_t target_width) const override {
    if (out.back() < 2) return "needs at least 2 output units, got " + std::to_string(out.back());
    if (out.numel() != target_width)
      return "needs one-hot targets with " + std::to_string(out.numel()) + " columns, the data gives " +
             std::to_string(target_width) + " (set data.one_hot: true, or use sparse_categorical_crossentropy)";
    return {};
  }
  double forward_backward(const float* p, const float* y, int64_t batch, int64_t width, int64_t,
                          float* grad) const override {
    const float scale = 1.0f / static_cast<float>(batch);
    double total = 0;
    for (int64_t r = 0; r < batch; ++r)
      total += (from_logits_ ? categorical_logits_row : categorical_row)(p + r * width, y + r * width, -1, width, grad ? grad + r * width : nullptr, scale);
    return total / static_cast<double>(batch);
  }

 private:
  bool from_logits_;
};

ANNEAL_REGISTER(LossRegistry, "categorical_crossentropy", CategoricalCrossentropy);

}  // namespace
}  // namespace anneal
