#pragma once
// Metrics accumulate an epoch's batches into a fixed-size state (counts, sums, or for AUC every
// score) and turn it into one figure at the end, so figures that do not average over samples
// (precision, f1, AUC, r2) are exact over the epoch, and a mid-epoch checkpoint can carry the
// state. The trainer sizes the state once per epoch; accumulate() must not allocate.

#include <cstdint>
#include <span>
#include <string>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"
#include "anneal/shape.hpp"

namespace anneal {

class Metric {
 public:
  virtual ~Metric() = default;
  // Empty when the output shape and target width fit; otherwise what is wrong.
  virtual std::string check(const Shape& output, int64_t target_width) const = 0;
  // Values of the state for an epoch of up to `rows` rows (zeroed before the first batch).
  virtual size_t state_size(int64_t width, int64_t target_width, int64_t rows) const {
    (void)width, (void)target_width, (void)rows;
    return 2;
  }
  // Adds a batch: output [batch, width], target [batch, target_width].
  virtual void accumulate(std::span<double> state, const float* output, const float* target, int64_t batch, int64_t width,
                          int64_t target_width) const = 0;
  virtual double result(std::span<const double> state, int64_t width, int64_t target_width) const = 0;
};

// The common case: a mean over samples of a per-sample value (state: sum, count).
class MeanMetric : public Metric {
 public:
  void accumulate(std::span<double> state, const float* output, const float* target, int64_t batch, int64_t width,
                  int64_t target_width) const final {
    state[0] += batch_sum(output, target, batch, width, target_width);
    state[1] += static_cast<double>(batch);
  }
  double result(std::span<const double> state, int64_t, int64_t) const override {
    return state[1] > 0 ? state[0] / state[1] : 0.0;
  }
  // Sum of the per-sample metric over the batch.
  virtual double batch_sum(const float* output, const float* target, int64_t batch, int64_t width,
                           int64_t target_width) const = 0;
};

// The class a row predicts and the class its target names: one output unit thresholds (a 0/1
// target), several take the argmax (against a class index or a one-hot row).
int64_t predicted_class(const float* output_row, int64_t width, float threshold = 0.5f);
int64_t target_class(const float* target_row, int64_t width, int64_t target_width);
// Classes a classifier's confusion counts cover: 2 for one output unit, else the width.
inline int64_t class_count(int64_t width) { return width == 1 ? 2 : width; }
// The check shared by classification metrics.
std::string classification_check(const Shape& output, int64_t target_width);

using MetricRegistry = Registry<Metric, AttrMap&>;

}  // namespace anneal

namespace anneal {

// Precision, recall and f1 from per-class true positive, false positive and false negative
// counts (state: 3 per class). One output unit scores the positive class (1), as scikit-learn's
// average='binary'; several average the classes' scores with equal weight (average='macro'). A
// class with no predictions (or no samples) scores 0 there, as scikit-learn's zero_division=0.
class ConfusionMetric : public Metric {
 public:
  explicit ConfusionMetric(AttrMap& a) : threshold_(static_cast<float>(a.get<double>("threshold", 0.5))) {}
  std::string check(const Shape& out, int64_t target_width) const override { return classification_check(out, target_width); }
  size_t state_size(int64_t width, int64_t, int64_t) const override { return static_cast<size_t>(3 * class_count(width)); }
  void accumulate(std::span<double> state, const float* p, const float* y, int64_t batch, int64_t width,
                  int64_t tw) const override {
    for (int64_t r = 0; r < batch; ++r) {
      const int64_t predicted = predicted_class(p + r * width, width, threshold_);
      const int64_t actual = target_class(y + r * tw, width, tw);
      if (actual < 0 || actual >= class_count(width)) continue;
      if (predicted == actual) {
        state[static_cast<size_t>(3 * actual)] += 1;
      } else {
        state[static_cast<size_t>(3 * predicted + 1)] += 1;
        state[static_cast<size_t>(3 * actual + 2)] += 1;
      }
    }
  }
  double result(std::span<const double> state, int64_t width, int64_t) const override {
    if (width == 1) return score(state[3], state[4], state[5]);
    double total = 0;
    const int64_t classes = class_count(width);
    for (int64_t c = 0; c < classes; ++c)
      total += score(state[static_cast<size_t>(3 * c)], state[static_cast<size_t>(3 * c + 1)], state[static_cast<size_t>(3 * c + 2)]);
    return total / static_cast<double>(classes);
  }
  virtual double score(double tp, double fp, double fn) const = 0;

 private:
  float threshold_;
};

}  // namespace anneal
