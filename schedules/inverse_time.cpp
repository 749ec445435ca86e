// inverse_time (Keras InverseTimeDecay): lr / (1 + decay_rate * p), p = t / decay_steps, floored
// when staircase. time_based is this with decay_steps 1.
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class InverseTimeSchedule : public Schedule {
 public:
  InverseTimeSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        decay_rate_(required_rate_attr(a, "decay_rate")),
        decay_steps_(positive_number_attr(a, "decay_steps", 1.0)),
        staircase_(a.get<bool>("staircase", false)) {}
  double lr(const Progress& p) const override {
    double progress = static_cast<double>(counter(p)) / decay_steps_;
    if (staircase_) progress = std::floor(progress);
    return lr_ / (1.0 + decay_rate_ * progress);
  }

 private:
  double lr_, decay_rate_, decay_steps_;
  bool staircase_;
};

ANNEAL_REGISTER(ScheduleRegistry, "inverse_time", InverseTimeSchedule);

}  // namespace
}  // namespace anneal
