#include "anneal/lr_finder.hpp"

#include <algorithm>
#include <cmath>

namespace anneal {
namespace {

class RangeTest : public Callback {
 public:
  RangeTest(const LrFinderOptions& o, LrFinderResult& r) : o_(o), r_(r) {}
  void on_batch_begin(TrainingContext& ctx) override {
    const double fraction = o_.steps > 1 ? static_cast<double>(k_) / static_cast<double>(o_.steps - 1) : 0;
    ctx.set_lr(o_.start * std::pow(o_.end / o_.start, fraction));
  }
  void on_batch_end(TrainingContext& ctx, double loss) override {
    r_.rates.push_back(ctx.lr());
    r_.losses.push_back(loss);
    average_ = o_.beta * average_ + (1 - o_.beta) * loss;
    const double smoothed = average_ / (1 - std::pow(o_.beta, static_cast<double>(k_ + 1)));
    r_.smoothed.push_back(smoothed);
    best_ = k_ == 0 ? smoothed : std::min(best_, smoothed);
    ++k_;
    if (!std::isfinite(smoothed) || (k_ > 1 && smoothed > o_.divergence * best_)) {
      r_.diverged = true;
      ctx.request_stop();
    } else if (k_ >= o_.steps) {
      ctx.request_stop();
    }
  }

 private:
  const LrFinderOptions& o_;
  LrFinderResult& r_;
  int64_t k_ = 0;
  double average_ = 0, best_ = 0;
};

}  // namespace

LrFinderResult find_learning_rate(Experiment& ex, const LrFinderOptions& o) {
  if (!ex.train) throw SpecError(SourceLocation{ex.spec.file, 0, 0}, "the model spec has no 'data' to run the range test on");
  if (!(o.start > 0 && o.end > o.start)) throw InputError("learning-rate range test: needs 0 < start < end");
  if (o.steps < 10) throw InputError("learning-rate range test: needs at least 10 steps");
  const int64_t per_epoch = (ex.train->rows() + ex.spec.train.batch_size - 1) / ex.spec.train.batch_size;
  TrainOptions train{o.steps / per_epoch + 1, ex.spec.train.batch_size, ex.spec.train.shuffle, ex.spec.train.seed};
  const Weights saved = ex.weights;
  LrFinderResult result;
  {
    Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, train);
    RangeTest test(o, result);
    trainer.add_callback(&test);
    trainer.fit(*ex.train, nullptr);
  }
  ex.weights = saved;

  // Steepest descent of the smoothed loss against log(rate), skipping the noisy first tenth and
  // the last few points where divergence starts (as fastai trims them).
  const size_t n = result.smoothed.size();
  const size_t first = n / 10, last = n > 5 ? n - 5 : n;
  double steepest = INFINITY;
  size_t lowest = 0;
  for (size_t i = 0; i < n; ++i)
    if (result.smoothed[i] < result.smoothed[lowest]) lowest = i;
  result.minimum = n ? result.rates[lowest] : 0;
  for (size_t i = std::max<size_t>(first, 1); i < last; ++i) {
    const double slope = (result.smoothed[i] - result.smoothed[i - 1]) / (std::log(result.rates[i]) - std::log(result.rates[i - 1]));
    if (slope < steepest) {
      steepest = slope;
      result.suggested = result.rates[i];
    }
  }
  if (!std::isfinite(steepest)) result.suggested = result.minimum / 10;
  return result;
}

}  // namespace anneal
