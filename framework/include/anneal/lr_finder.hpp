#pragma once
// The learning-rate range test (Smith 2015; fastai's exponential form): the rate grows
// exponentially from `start` to `end` over `steps` updates, the loss is smoothed with a
// bias-corrected moving average, the test stops once the smoothed loss exceeds 4x its best, and
// the weights are put back afterwards. The suggestion is the rate where the smoothed loss falls
// fastest against log(rate).

#include <cstdint>
#include <vector>

#include "anneal/experiment.hpp"

namespace anneal {

struct LrFinderOptions {
  double start = 1e-7, end = 10;
  int64_t steps = 100;
  double beta = 0.98;  // smoothing
  double divergence = 4;
};

struct LrFinderResult {
  std::vector<double> rates, losses, smoothed;
  double suggested = 0;     // steepest descent of the smoothed loss
  double minimum = 0;       // rate at the smallest smoothed loss
  bool diverged = false;
};

LrFinderResult find_learning_rate(Experiment& experiment, const LrFinderOptions& options);

}  // namespace anneal
