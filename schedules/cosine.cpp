// cosine (Keras CosineDecay, clamped): lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(t, D) / D)) + alpha).
// With warmup_target, the first warmup_steps rise linearly from lr to warmup_target, then the
// decay runs from warmup_target over decay_steps. Keras ignores warmup_steps without a target;
// here that is an error, since a silently ignored warm-up is never what was meant.
#include <algorithm>
#include <optional>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class CosineSchedule : public Schedule {
 public:
  CosineSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        decay_steps_(positive_number_attr(a, "decay_steps")),
        alpha_(a.get<double>("alpha", 0.0)),
        warmup_steps_(a.get<double>("warmup_steps", 0.0)),
        warmup_target_(a.get_optional<double>("warmup_target")) {
    a.require(alpha_ >= 0 && alpha_ <= 1, "alpha", "must be in [0, 1]");
    a.require(warmup_steps_ >= 0, "warmup_steps", "must be >= 0");
    a.require(warmup_steps_ == 0 || warmup_target_.has_value(), "warmup_steps", "needs warmup_target (the rate to warm up to)");
    if (warmup_target_) a.require(*warmup_target_ >= 0, "warmup_target", "must be >= 0");
  }
  double lr(const Progress& p) const override {
    double t = static_cast<double>(counter(p));
    if (!warmup_target_) return lr_ * decayed(std::min(t, decay_steps_));
    t = std::min(t, decay_steps_ + warmup_steps_);
    if (t < warmup_steps_) return lr_ + (*warmup_target_ - lr_) * t / warmup_steps_;
    return *warmup_target_ * decayed(t - warmup_steps_);
  }

 private:
  double decayed(double t) const { return (1 - alpha_) * half_cosine(t / decay_steps_) + alpha_; }
  double lr_, decay_steps_, alpha_, warmup_steps_;
  std::optional<double> warmup_target_;
};

ANNEAL_REGISTER(ScheduleRegistry, "cosine", CosineSchedule);

}  // namespace
}  // namespace anneal
