// wsd: warmup-stable-decay (the "trapezoidal" schedule of recent large-model training; Hägele et
// al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations"). Per
// update t of a run of T updates, with W warm-up updates and the decay starting at update D:
//   t < W      start_lr + (lr - start_lr) * t / W
//   t < D      lr                                   (the stable phase)
//   t < T      final_lr + (lr - final_lr) * f(u),  u = (t - D) / (T - D)
//   t >= T     final_lr
// with f(u) = 1 - u (linear), (1 + cos(pi u)) / 2 (cosine) or 1 - sqrt(u) (sqrt, the "1-sqrt"
// cooldown). D is the start of the last `decay_fraction` of the run (default 0.2) or
// `decay_start_epoch`. T defaults to the run's length, so a checkpoint from the stable phase can be
// continued into a longer run (`anneal train --extend N`): the stable phase lasts longer, then the
// same decay follows.
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class WsdSchedule : public Schedule {
 public:
  WsdSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        start_lr_(rate_attr(a, "start_lr", 0.0)),
        final_lr_(rate_attr(a, "final_lr", 0.0)),
        warmup_(a.get<int64_t>("warmup_steps", 0)),
        shape_(a.get<std::string>("shape", "linear")) {
    a.require(warmup_ >= 0, "warmup_steps", "must be >= 0");
    a.require(shape_ == "linear" || shape_ == "cosine" || shape_ == "sqrt", "shape", "must be linear, cosine or sqrt (1 - sqrt)");
    const int64_t run_steps = ctx.epochs * ctx.steps_per_epoch;
    const auto total = a.get_optional<int64_t>("total_steps");
    if (total) a.require(*total >= 1, "total_steps", "must be at least 1");
    else a.require(run_steps > 0, "total_steps", "is needed when the run's length is not known");
    total_ = total ? *total : run_steps;
    const bool by_fraction = a.has("decay_fraction"), by_epoch = a.has("decay_start_epoch");
    if (by_fraction && by_epoch) a.fail("decay_start_epoch", "give either decay_fraction or decay_start_epoch, not both");
    if (by_epoch) {
      const auto epoch = a.get<int64_t>("decay_start_epoch");
      a.require(epoch >= 0, "decay_start_epoch", "must be >= 0");
      a.require(ctx.steps_per_epoch > 0, "decay_start_epoch", "needs the run's steps per epoch (use decay_fraction)");
      decay_start_ = epoch * ctx.steps_per_epoch;
    } else {
      const double fraction = a.get<double>("decay_fraction", 0.2);
      a.require(fraction >= 0 && fraction <= 1, "decay_fraction", "must be in [0, 1]");
      decay_start_ = total_ - static_cast<int64_t>(std::llround(fraction * static_cast<double>(total_)));
    }
    a.require(decay_start_ >= warmup_, by_epoch ? "decay_start_epoch" : "decay_fraction",
              "puts the decay's start (update " + std::to_string(decay_start_) + ") inside the warm-up (" +
                  std::to_string(warmup_) + " updates)");
    a.require(decay_start_ <= total_, by_epoch ? "decay_start_epoch" : "decay_fraction",
              "puts the decay's start (update " + std::to_string(decay_start_) + ") past the run's end (" +
                  std::to_string(total_) + " updates)");
  }
  double lr(const Progress& p) const override {
    const int64_t t = counter(p);
    if (t < warmup_) return start_lr_ + (lr_ - start_lr_) * static_cast<double>(t) / static_cast<double>(warmup_);
    if (t < decay_start_) return lr_;
    if (t >= total_) return final_lr_;
    const double u = static_cast<double>(t - decay_start_) / static_cast<double>(total_ - decay_start_);
    const double f = shape_ == "linear" ? 1 - u : shape_ == "cosine" ? half_cosine(u) : 1 - std::sqrt(u);
    return final_lr_ + (lr_ - final_lr_) * f;
  }

 private:
  double lr_, start_lr_, final_lr_;
  int64_t warmup_;
  std::string shape_;
  int64_t total_ = 0, decay_start_ = 0;
};

ANNEAL_REGISTER(ScheduleRegistry, "wsd", WsdSchedule);

}  // namespace
}  // namespace anneal
