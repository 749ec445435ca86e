#pragma once
// A loss that is the mean over every output of every sample of a per-element term (binary
// cross-entropy, mse, mae): one target column per output, and value and gradient in one pass.

#include <string>
#include <type_traits>

#include "anneal/loss.hpp"

namespace anneal {

// Term: a callable (prediction, target) -> {value, d value / d prediction}, built from the
// loss's attributes when it takes them.
template <class Term>
class ElementwiseLoss : public Loss {
 public:
  explicit ElementwiseLoss(AttrMap& attrs) : term_(make_term(attrs)) {}
  std::string check(const Shape& out, int64_t target_width) const override {
    if (out.numel() != target_width)
      return "needs one target column per output (" + std::to_string(out.numel()) + "), the data gives " +
             std::to_string(target_width);
    return {};
  }
  bool classifies() const override {
    if constexpr (requires { Term::kClassifies; }) return Term::kClassifies;
    return false;
  }
  // A term that only makes sense for some targets (binary cross-entropy: 0 or 1) says so.
  std::string target_problem(const float* y, int64_t target_width, int64_t) const override {
    if constexpr (requires(const Term& t, float v) { t.target_problem(v); }) {
      for (int64_t j = 0; j < target_width; ++j)
        if (auto problem = term_.target_problem(y[j]); !problem.empty()) return problem;
    }
    return {};
  }
  double forward_backward(const float* p, const float* y, int64_t batch, int64_t width, int64_t,
                          float* grad) const override {
    const int64_t n = batch * width;
    const float scale = 1.0f / static_cast<float>(n);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      const auto [value, slope] = term_(p[i], y[i]);
      total += value;
      if (grad) grad[i] = static_cast<float>(slope) * scale;
    }
    return total / static_cast<double>(n);
  }

 private:
  static Term make_term(AttrMap& attrs) {
    if constexpr (std::is_constructible_v<Term, AttrMap&>) return Term(attrs);
    else return Term{};
  }
  Term term_;
};

struct TermValue {
  double value, slope;
};

}  // namespace anneal
