// An example schedule plugin: inverse square root with a linear warm-up (the Transformer
// schedule), lr * min((t + 1) / warmup_steps, sqrt(warmup_steps / (t + 1))). It rises linearly to
// lr at t + 1 = warmup_steps, then decays as 1/sqrt(t).
#include <anneal/plugin.hpp>

#include <algorithm>
#include <cmath>

namespace {

class InverseSqrtSchedule : public anneal::Schedule {
 public:
  InverseSqrtSchedule(anneal::AttrMap& a, const anneal::ScheduleContext& ctx)
      : Schedule(a, anneal::ScheduleUnit::kStep),
        lr_(anneal::rate_attr(a, "lr", ctx.optimizer_lr)),
        warmup_(static_cast<double>(anneal::positive_attr(a, "warmup_steps"))) {}

  double lr(const anneal::Progress& p) const override {
    const double n = static_cast<double>(counter(p)) + 1;
    return lr_ * std::min(n / warmup_, std::sqrt(warmup_ / n));
  }

 private:
  double lr_, warmup_;
};

}  // namespace

ANNEAL_PLUGIN(registrar) { registrar.schedule<InverseSqrtSchedule>("inverse_sqrt"); }
